"""Resilience both connectors share: a token-bucket rate limit, timeouts and one explicit retry policy.

A connector owns one `ResilientClient`. Each call names how the response is judged (the connector's own
classifier, which returns a value or raises) and whether the request may be replayed after it might have
reached the server. The rules:

* 429 and 503 (with Retry-After honoured), 5xx gateways, timeouts, resets, truncated or garbled bodies are
  passing faults: the classifier raises `RetryableError` and the call is tried again with exponential
  backoff and jitter, within `max_attempts` and `max_retry_seconds`.
* A request that never left (connect error or timeout) is always safe to try again.
* A non-idempotent request (`replay="if_unsent"`) whose outcome is unknown raises `OutcomeUnknown` at once;
  the connector resolves it (ECCP: look the mirror up by its external id) instead of re-sending blindly.
* When the budget is spent the last cause is raised as a `RetryableError` naming platform, method and path
  (never the query string: KICOX carries its service key there).

An `HttpObserver` given to the client hears of every attempt (status or error, seconds on the wire), every
retry and every wait for the client's own rate limit; metrics are kept there, not here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

import httpx
import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random,
)
from tenacity.stop import stop_base

from clusterbridge.config import HttpSettings
from clusterbridge.errors import PlatformError, RetryableError
from clusterbridge.logs import redact_text

T = TypeVar("T")
Replay = Literal["always", "if_unsent"]

log = structlog.get_logger(__name__)


class HttpObserver:
    """Hears what the client does; the base class ignores everything, so a subclass overrides what it needs.

    Methods are called on the thread that sends the request and must neither block nor raise.
    """

    def request(self, connector: str, method: str, status_or_error: int | str, seconds: float) -> None:
        """One attempt ended: the HTTP status, or the name of the transport error; seconds exclude rate waits."""

    def retry(self, connector: str, cause: str) -> None:
        """A call will be tried again after a passing fault; `cause` is its message, as the retry log gives it."""

    def rate_wait(self, connector: str, seconds: float) -> None:
        """The client held a request back this long to keep its own rate limit."""


class OutcomeUnknown(PlatformError):
    """A non-idempotent request may or may not have been applied: the caller must look before re-sending."""


class TokenBucket:
    """Thread-safe token bucket: `acquire()` blocks until the caller may send one request.

    A burst of 1 (the default) spaces requests evenly, so no one-second window ever holds more than
    `rate` + 1 requests: a client configured below the server's limit never sees a 429 for pace.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = burst
        self._stamp = clock()

    def acquire(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            # reserve the token now (the balance may go negative) so that waiting threads queue up fairly
            self._tokens -= 1
            delay = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if delay > 0:
            self._sleep(delay)
        return delay


class RateLimitedTransport(httpx.BaseTransport):
    """Wraps a transport so that every request it sends (token fetches and replays too) takes a token."""

    def __init__(
        self, inner: httpx.BaseTransport, bucket: TokenBucket, on_wait: Callable[[float], None] | None = None
    ) -> None:
        self._inner = inner
        self._bucket = bucket
        self._on_wait = on_wait

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        waited = self._bucket.acquire()
        if waited > 0 and self._on_wait is not None:
            self._on_wait(waited)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the platforms send integers; an HTTP date is not used by either)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


def transient(platform: str, response: httpx.Response, what: str) -> RetryableError:
    """The RetryableError for a passing HTTP fault, carrying the server's Retry-After."""
    return RetryableError(platform, f"HTTP {response.status_code} {what}", retry_after_seconds(response))


class _WaitBackoffOrRetryAfter:
    """Exponential backoff with jitter, but never shorter than the server's Retry-After."""

    def __init__(self, settings: HttpSettings) -> None:
        self._backoff = wait_exponential(multiplier=settings.backoff_initial, max=settings.backoff_max) + wait_random(
            0, settings.backoff_initial
        )

    def __call__(self, state: RetryCallState) -> float:
        wait = float(self._backoff(state))
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        return wait


class _StopWhen(stop_base):
    """Stop retrying as soon as `requested()` says so."""

    def __init__(self, requested: Callable[[], bool]) -> None:
        self.requested = requested

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.requested()


class ResilientClient:
    """One platform's httpx.Client behind the shared rate limit, timeouts and retry policy."""

    def __init__(
        self,
        platform: str,
        settings: HttpSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        observer: HttpObserver | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.platform = platform
        self.settings = settings
        self._secrets = tuple(s for s in secrets if s)
        self._observer = observer if observer is not None else HttpObserver()
        # a stop request (SIGTERM) ends retrying at once: the batch in flight then ends within one request's
        # timeout, and what it did not confirm is finished by the next run
        self._stopping = stopping or (lambda: False)
        # rate waits of the attempt in progress on this thread, kept out of its measured latency
        self._waits = threading.local()
        self.bucket = TokenBucket(settings.rate_limit)
        inner = transport if transport is not None else httpx.HTTPTransport()
        self._client = httpx.Client(
            base_url=settings.base_url,
            transport=RateLimitedTransport(inner, self.bucket, self._waited),
            auth=auth,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            follow_redirects=False,
        )

    def _policy(self) -> Retrying:
        s = self.settings
        return Retrying(
            stop=stop_after_attempt(s.max_attempts) | stop_before_delay(s.max_retry_seconds)
            | _StopWhen(self._stopping),
            wait=_WaitBackoffOrRetryAfter(s),
            retry=retry_if_exception_type(RetryableError),
            before_sleep=self._before_retry,
            reraise=True,
        )

    def _before_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        cause = str(exc)
        log.info("http.retry", platform=self.platform, attempt=state.attempt_number, wait=round(wait, 3), cause=cause)
        self._observer.retry(self.platform, cause)

    def _waited(self, seconds: float) -> None:
        self._waits.seconds = getattr(self._waits, "seconds", 0.0) + seconds
        self._observer.rate_wait(self.platform, seconds)

    def _observe(self, method: str, status_or_error: int | str, started: float) -> None:
        seconds = time.perf_counter() - started - getattr(self._waits, "seconds", 0.0)
        self._observer.request(self.platform, method, status_or_error, max(0.0, seconds))

    def call(
        self,
        method: str,
        url: str,
        handle: Callable[[httpx.Response], T],
        *,
        replay: Replay = "always",
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> T:
        """Send until `handle` accepts the response (returns) or a fault is final (raises).

        `handle` is the connector's classifier: it returns the parsed value, raises RetryableError for a
        passing fault, or raises any other error for a fatal one. `url` is relative to the base URL; it may
        carry a pre-encoded query, which is never logged.
        """
        path = httpx.URL(url).path
        where = f"{method} {path}"

        def attempt() -> T:
            self._waits.seconds = 0.0
            started = time.perf_counter()
            try:
                response = self._client.request(method, url, params=params, json=json, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                self._observe(method, type(exc).__name__, started)
                # nothing reached the server: always safe to try again
                raise RetryableError(self.platform, f"{where}: {self._describe(exc)}") from exc
            except (httpx.TransportError, httpx.DecodingError) as exc:
                self._observe(method, type(exc).__name__, started)
                # the request may have been applied (timeout, reset or truncation after sending)
                if replay == "always":
                    raise RetryableError(self.platform, f"{where}: {self._describe(exc)}") from exc
                raise OutcomeUnknown(self.platform, f"{where}: outcome unknown: {self._describe(exc)}") from exc
            self._observe(method, response.status_code, started)
            log.debug("http.response", platform=self.platform, method=method, path=path, status=response.status_code)
            return handle(response)

        try:
            return self._policy()(attempt)
        except RetryableError as exc:
            raise RetryableError(
                self.platform, f"{where}: gave up after retries: {self._cause(exc)}", exc.retry_after
            ) from exc

    def _describe(self, exc: Exception) -> str:
        return redact_text(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, self._secrets)

    def _cause(self, exc: PlatformError) -> str:
        text = str(exc)
        prefix = f"{self.platform}: "
        return text[len(prefix) :] if text.startswith(prefix) else text

    def close(self) -> None:
        self._client.close()
