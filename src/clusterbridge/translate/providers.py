"""Translators: the offline default, two paid providers (DeepL, Naver Papago on NCP) and a self-hosted
one (LibreTranslate), all over httpx.

Providers are plain classes taking an injected httpx.Client (tests pass one routed by respx). Passing
faults (429, 5xx, timeouts, connection errors) are retried with an explicit tenacity policy honouring
Retry-After; a Retry-After longer than the provider is willing to wait ends the call at once instead of
sleeping through it. Anything else raises TranslationError at once. Errors marked `lasting` (bad
credentials, spent quota, a long Retry-After) say that no further call will succeed soon, so the per-run
layer stops calling. Requests and errors never carry the keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential

from clusterbridge.abc import Translator
from clusterbridge.errors import ClusterbridgeError
from clusterbridge.logs import redact_text

# statuses after which no call succeeds until an operator acts or the quota renews: bad or missing
# credentials (401, 403) and DeepL's "quota exceeded" (456)
_LASTING_STATUSES = frozenset({401, 403, 456})


class TranslationError(ClusterbridgeError):
    """A provider refused or kept failing; the caller keeps the original text.

    `lasting` is set when further calls are pointless for now (credentials refused, quota spent, told to
    come back later than the provider's retry cap), so a caller can stop calling instead of failing again.
    """

    def __init__(self, provider: str, message: str, status: int | None = None, *, lasting: bool = False) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status
        self.lasting = lasting


class KeepOriginal(Translator):
    """The offline default: translates nothing, so every text keeps its original with its language tag."""

    name = "none"

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        return [None] * len(texts)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TimeoutException | httpx.TransportError)


def _retry_after(retry_state: RetryCallState) -> float | None:
    """Seconds the provider asked us to wait in its last answer (delta-seconds form), if it asked."""
    outcome = retry_state.outcome
    exc = outcome.exception() if outcome is not None else None
    if isinstance(exc, httpx.HTTPStatusError):
        return _retry_after_header(exc.response)
    return None


def _retry_after_header(response: httpx.Response) -> float | None:
    header = response.headers.get("Retry-After", "").strip()
    return float(header) if header.isdigit() else None


class _WaitRetryAfter(wait_base):
    """Retry-After when the provider sends one (capped), else exponential backoff."""

    def __init__(self, fallback: wait_base, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        asked = _retry_after(retry_state)
        if asked is not None:
            return min(asked, self.cap)
        return float(self.fallback(retry_state))


class _StopOnLongRetryAfter(stop_base):
    """Give up when the provider asks for a longer pause than `cap`: sleeping through it would stall the run."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> bool:
        asked = _retry_after(retry_state)
        return asked is not None and asked > self.cap


def _error_detail(response: httpx.Response) -> str:
    """The provider's own reason from an error body ({"error": "..."}, {"message": "..."} or
    {"error": {"message": "..."}}), shortened; empty when the body says nothing readable."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    detail = body.get("error", body.get("message"))
    if isinstance(detail, dict):
        detail = detail.get("message")
    if not isinstance(detail, str):
        return ""
    detail = " ".join(detail.split())
    return detail if len(detail) <= 200 else detail[:199] + "…"


class _HttpTranslator(Translator):
    """Shared request/retry handling of the HTTP providers.

    `batch_size` is how many texts one request carries; a caller that wants one request per call (to
    count, budget or stop between requests) hands over at most that many texts at a time.
    """

    batch_size = 1
    read_timeout = 20.0

    def __init__(
        self,
        base_url: str,
        client: httpx.Client | None = None,
        max_attempts: int = 4,
        max_seconds: float = 60.0,
        backoff: float = 0.5,
        sleep: Callable[[float], None] | None = None,
        max_retry_after: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=httpx.Timeout(self.read_timeout, connect=5.0))
        self.max_attempts = max_attempts
        self.max_seconds = max_seconds
        self.backoff = backoff
        self.sleep = sleep
        self.max_retry_after = max_retry_after
        self._secrets: tuple[str, ...] = ()  # values masked in every error message

    def _error(self, message: str, status: int | None = None, *, lasting: bool = False) -> TranslationError:
        return TranslationError(self.name, redact_text(message, self._secrets), status, lasting=lasting)

    def _post(self, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        policy: dict[str, Any] = {
            "stop": stop_after_attempt(self.max_attempts)
            | stop_after_delay(self.max_seconds)
            | _StopOnLongRetryAfter(self.max_retry_after),
            "wait": _WaitRetryAfter(wait_exponential(multiplier=self.backoff, max=30), cap=self.max_retry_after),
            "retry": retry_if_exception(_retryable),
            "reraise": True,
        }
        if self.sleep is not None:
            policy["sleep"] = self.sleep
        try:
            for attempt in Retrying(**policy):
                with attempt:
                    response = self.client.post(f"{self.base_url}{path}", headers=headers, **kwargs)
                    response.raise_for_status()
                    return response.json()
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            asked = _retry_after_header(exc.response)
            lasting = status in _LASTING_STATUSES or (asked is not None and asked > self.max_retry_after)
            detail = _error_detail(exc.response)
            message = f"HTTP {status} from {path}" + (f": {detail}" if detail else "")
            if asked is not None and asked > self.max_retry_after:
                message += f" (asked to wait {asked:.0f} s)"
            raise self._error(message, status, lasting=lasting) from None
        except (httpx.HTTPError, ValueError) as exc:
            raise self._error(f"{type(exc).__name__} calling {path}") from None
        raise self._error("no attempt made")  # unreachable: Retrying always attempts once


def deepl_lang(tag: str, target: bool) -> str:
    """BCP 47 → DeepL: 'ko' → 'KO'; English and Portuguese targets need a variant (EN-GB, PT-PT)."""
    primary = tag.split("-")[0].upper()
    if target and primary == "EN":
        return "EN-GB"
    if target and primary == "PT":
        return "PT-PT"
    return primary


class DeepLTranslator(_HttpTranslator):
    """DeepL API v2: POST {base}/v2/translate, many texts a request (the API takes up to 50)."""

    name = "deepl"
    batch_size = 50

    def __init__(self, api_key: str, base_url: str = "https://api-free.deepl.com", **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self._headers = {"Authorization": f"DeepL-Auth-Key {api_key}"}
        self._secrets = (api_key,)

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        out: list[str | None] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = list(texts[start : start + self.batch_size])
            body = {
                "text": chunk,
                "source_lang": deepl_lang(source_lang, target=False),
                "target_lang": deepl_lang(target_lang, target=True),
            }
            data = self._post("/v2/translate", self._headers, json=body)
            translations = data.get("translations") if isinstance(data, dict) else None
            if not isinstance(translations, list) or len(translations) != len(chunk):
                raise self._error("response does not hold one translation per text")
            out += [
                t.get("text") if isinstance(t, dict) and isinstance(t.get("text"), str) else None for t in translations
            ]
        return out


def papago_lang(tag: str) -> str:
    """BCP 47 → Papago: 'ko', 'en', 'de'; Chinese keeps its script ('zh-CN', 'zh-TW')."""
    parts = tag.split("-")
    if parts[0].lower() == "zh":
        return "zh-TW" if any(p.upper() in ("TW", "HANT", "HK") for p in parts[1:]) else "zh-CN"
    return parts[0].lower()


class PapagoTranslator(_HttpTranslator):
    """Naver Papago NMT on the NCP API gateway: POST {base}/nmt/v1/translation, one text a request."""

    name = "papago"

    def __init__(
        self, client_id: str, client_secret: str, base_url: str = "https://papago.apigw.ntruss.com", **kwargs: Any
    ) -> None:
        super().__init__(base_url, **kwargs)
        self._headers = {"X-NCP-APIGW-API-KEY-ID": client_id, "X-NCP-APIGW-API-KEY": client_secret}
        self._secrets = (client_secret,)

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        out: list[str | None] = []
        for text in texts:
            form = {"source": papago_lang(source_lang), "target": papago_lang(target_lang), "text": text}
            data = self._post("/nmt/v1/translation", self._headers, data=form)
            try:
                result = data["message"]["result"]["translatedText"]
            except (KeyError, TypeError):
                raise self._error("response has no message.result.translatedText") from None
            out.append(result if isinstance(result, str) else None)
        return out


def libretranslate_lang(tag: str) -> str:
    """BCP 47 → LibreTranslate's ISO 639-1 codes: 'ko', 'en', 'de' (the primary subtag, lower case)."""
    return tag.split("-")[0].lower()


class LibreTranslateTranslator(_HttpTranslator):
    """A self-hosted LibreTranslate server: POST {base}/translate with JSON, several texts a request.

    Texts never leave the operator's servers. The key is optional (servers started with --api-keys ask
    for one) and travels in the body, as the API documents. Batches stay small because a CPU-bound
    server translates a request as a whole before it answers.
    """

    name = "libretranslate"
    batch_size = 10
    read_timeout = 60.0

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        text_format: Literal["text", "html"] = "text",
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        self._api_key = api_key or None
        self.text_format = text_format
        self._secrets = (api_key,) if api_key else ()

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        out: list[str | None] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = list(texts[start : start + self.batch_size])
            body: dict[str, Any] = {
                "q": chunk,
                "source": libretranslate_lang(source_lang),
                "target": libretranslate_lang(target_lang),
                "format": self.text_format,
            }
            if self._api_key is not None:
                body["api_key"] = self._api_key
            data = self._post("/translate", {"Accept": "application/json"}, json=body)
            translated = data.get("translatedText") if isinstance(data, dict) else None
            if not isinstance(translated, list) or len(translated) != len(chunk):
                raise self._error("response does not hold one translatedText per text")
            out += [t if isinstance(t, str) else None for t in translated]
        return out
