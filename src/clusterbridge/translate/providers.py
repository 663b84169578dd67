"""Translators: the offline default and two paid providers (DeepL, Naver Papago on NCP) over httpx.

Providers are plain classes taking an injected httpx.Client (tests pass one routed by respx). Passing
faults (429, 5xx, timeouts, connection errors) are retried with an explicit tenacity policy honouring
Retry-After; anything else raises TranslationError at once. Requests and errors never carry the keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_base, wait_exponential

from clusterbridge.abc import Translator
from clusterbridge.errors import ClusterbridgeError


class TranslationError(ClusterbridgeError):
    """A provider refused or kept failing; the caller keeps the original text."""

    def __init__(self, provider: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status


class KeepOriginal(Translator):
    """The offline default: translates nothing, so every text keeps its original with its language tag."""

    name = "none"

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        return [None] * len(texts)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TimeoutException | httpx.TransportError)


class _WaitRetryAfter(wait_base):
    """Retry-After when the provider sends one (capped), else exponential backoff."""

    def __init__(self, fallback: wait_base, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, httpx.HTTPStatusError):
            header = exc.response.headers.get("Retry-After", "")
            if header.strip().isdigit():
                return min(float(header), self.cap)
        return float(self.fallback(retry_state))


class _HttpTranslator(Translator):
    """Shared request/retry handling of the HTTP providers."""

    def __init__(
        self,
        base_url: str,
        client: httpx.Client | None = None,
        max_attempts: int = 4,
        max_seconds: float = 60.0,
        backoff: float = 0.5,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=httpx.Timeout(20.0, connect=5.0))
        self.max_attempts = max_attempts
        self.max_seconds = max_seconds
        self.backoff = backoff
        self.sleep = sleep

    def _post(self, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        policy: dict[str, Any] = {
            "stop": stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_seconds),
            "wait": _WaitRetryAfter(wait_exponential(multiplier=self.backoff, max=30), cap=60),
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
            raise TranslationError(self.name, f"HTTP {status} from {path}", status) from None
        except (httpx.HTTPError, ValueError) as exc:
            raise TranslationError(self.name, f"{type(exc).__name__} calling {path}") from None
        raise TranslationError(self.name, "no attempt made")  # unreachable: Retrying always attempts once


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
                raise TranslationError(self.name, "response does not hold one translation per text")
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

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        out: list[str | None] = []
        for text in texts:
            form = {"source": papago_lang(source_lang), "target": papago_lang(target_lang), "text": text}
            data = self._post("/nmt/v1/translation", self._headers, data=form)
            try:
                result = data["message"]["result"]["translatedText"]
            except (KeyError, TypeError):
                raise TranslationError(self.name, "response has no message.result.translatedText") from None
            out.append(result if isinstance(result, str) else None)
        return out
