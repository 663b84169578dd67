"""Resilience both connectors share: a request window that keeps to the platform's rate limit, timeouts and one
explicit retry policy.

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

import math
import threading
import time
from collections import deque
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


class RequestWindow:
    """The client's side of a platform's sliding-window rate limit: `acquire()` blocks until a request may go.

    The platforms count the requests that reached them in the last second. The client cannot see that instant,
    but it can bound it: a request reaches the server after it is sent and before its answer comes back. So a
    request holds a place from the moment it is sent until one window after its answer (or failure) arrived,
    and a new one is sent only while fewer than `limit` places are held. However the network, the server or
    the client's own threads delay requests, no window of the server's then holds more than `limit` of them:
    the client can run at the platform's own limit (`limit` requests per window and round trip) and still
    never be answered 429 for its pace. (A request the client gave up on after a timeout is the one blind
    spot: were it still queued at the server a window later, it could count there with later ones.) Sends are
    also spaced by window/limit, so the requests of a window go out evenly rather than in one burst.
    """

    def __init__(self, limit: int, window: float = 1.0) -> None:
        if limit < 1 or not window > 0:
            raise ValueError("limit must be at least 1 and window positive")
        self.limit = limit
        self.window = window
        self._changed = threading.Condition()
        self._spacing = window / limit
        self._sending = 0
        self._answered: deque[float] = deque()
        self._next_send = float("-inf")

    @classmethod
    def per_second(cls, rate: float) -> RequestWindow:
        """`rate` requests a second as a window: a whole number of them a second, or one per 1/rate seconds."""
        if not rate > 0:
            raise ValueError("rate must be positive")
        return cls(max(1, math.floor(rate)), max(1.0, 1.0 / rate))

    def acquire(self) -> float:
        """Take a place for one request, waiting as long as needed; returns the seconds waited."""
        started = time.monotonic()
        waited = False
        with self._changed:
            while True:
                now = time.monotonic()
                while self._answered and self._answered[0] <= now - self.window:
                    self._answered.popleft()
                if self._sending + len(self._answered) < self.limit:
                    if now >= self._next_send:
                        self._sending += 1
                        self._next_send = now + self._spacing
                        return now - started if waited else 0.0
                    timeout: float | None = self._next_send - now
                else:
                    # every place is taken: the oldest answer frees one a window after it came; a request still
                    # on the wire frees none until it is answered (release() wakes the waiters)
                    timeout = self._answered[0] + self.window - now if self._answered else None
                waited = True
                self._changed.wait(timeout)

    def release(self) -> None:
        """The request that took a place has been answered (or failed): its place frees a window from now."""
        with self._changed:
            self._sending -= 1
            self._answered.append(time.monotonic())
            self._changed.notify_all()


class RateLimitedTransport(httpx.BaseTransport):
    """Wraps a transport so that every request it sends (token fetches and replays too) takes a place in the
    platform's request window, from sending until its answer's headers arrive."""

    def __init__(
        self, inner: httpx.BaseTransport, window: RequestWindow, on_wait: Callable[[float], None] | None = None
    ) -> None:
        self._inner = inner
        self._window = window
        self._on_wait = on_wait

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        waited = self._window.acquire()
        if waited > 0 and self._on_wait is not None:
            self._on_wait(waited)
        try:
            return self._inner.handle_request(request)
        finally:
            self._window.release()

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
        self.window = RequestWindow.per_second(settings.rate_limit)
        inner = transport if transport is not None else httpx.HTTPTransport()
        self._client = httpx.Client(
            base_url=settings.base_url,
            transport=RateLimitedTransport(inner, self.window, self._waited),
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
