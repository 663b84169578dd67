"""DeepL and Papago over httpx, against their documented request and response shapes (respx, loopback-free)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from clusterbridge.config import Settings
from clusterbridge.errors import ConfigurationError
from clusterbridge.translate import (
    CachedTranslator,
    DeepLTranslator,
    KeepOriginal,
    PapagoTranslator,
    TranslationError,
    build_translator,
    make_translator,
)

DEEPL = "https://api-free.deepl.test"
PAPAGO = "https://papago.apigw.test"


def deepl(waits: list[float] | None = None, attempts: int = 4) -> DeepLTranslator:
    sleep = (waits if waits is not None else []).append
    return DeepLTranslator("secret-key:fx", DEEPL, client=httpx.Client(), max_attempts=attempts, sleep=sleep)


def papago() -> PapagoTranslator:
    return PapagoTranslator("client-id", "client-secret", PAPAGO, client=httpx.Client(), sleep=lambda _s: None)


class TestKeepOriginal:
    def test_translates_nothing(self) -> None:
        assert KeepOriginal().translate(["안녕", "하세요"], "ko", "en") == [None, None]


class TestDeepL:
    @respx.mock
    def test_request_and_response_shape(self) -> None:
        route = respx.post(f"{DEEPL}/v2/translate").respond(
            200,
            json={
                "translations": [
                    {"detected_source_language": "KO", "text": "Hello"},
                    {"detected_source_language": "KO", "text": "World"},
                ]
            },
        )
        assert deepl().translate(["안녕", "세상"], "ko", "en") == ["Hello", "World"]
        request = route.calls.last.request
        assert request.headers["Authorization"] == "DeepL-Auth-Key secret-key:fx"
        assert json.loads(request.content) == {"text": ["안녕", "세상"], "source_lang": "KO", "target_lang": "EN-GB"}

    @respx.mock
    def test_korean_target(self) -> None:
        route = respx.post(f"{DEEPL}/v2/translate").respond(200, json={"translations": [{"text": "안녕"}]})
        deepl().translate(["Hello"], "en", "ko")
        assert json.loads(route.calls.last.request.content)["target_lang"] == "KO"

    @respx.mock
    def test_retries_429_honouring_retry_after_then_succeeds(self) -> None:
        route = respx.post(f"{DEEPL}/v2/translate")
        route.side_effect = [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503),
            httpx.Response(200, json={"translations": [{"text": "Hi"}]}),
        ]
        waits: list[float] = []
        assert deepl(waits).translate(["안녕"], "ko", "en") == ["Hi"]
        assert route.call_count == 3
        assert waits[0] == 7.0

    @respx.mock
    def test_retries_timeouts(self) -> None:
        route = respx.post(f"{DEEPL}/v2/translate")
        route.side_effect = [httpx.ReadTimeout("slow"), httpx.Response(200, json={"translations": [{"text": "Hi"}]})]
        assert deepl().translate(["안녕"], "ko", "en") == ["Hi"]
        assert route.call_count == 2

    @respx.mock
    def test_gives_up_after_the_attempt_budget(self) -> None:
        route = respx.post(f"{DEEPL}/v2/translate").respond(502)
        with pytest.raises(TranslationError, match="HTTP 502"):
            deepl(attempts=3).translate(["안녕"], "ko", "en")
        assert route.call_count == 3

    @respx.mock
    def test_fatal_status_is_not_retried_and_hides_the_key(self) -> None:
        route = respx.post(f"{DEEPL}/v2/translate").respond(403, json={"message": "Forbidden"})
        with pytest.raises(TranslationError) as info:
            deepl().translate(["안녕"], "ko", "en")
        assert route.call_count == 1
        assert info.value.status == 403
        assert "secret-key" not in str(info.value)

    @respx.mock
    def test_malformed_response_is_an_error(self) -> None:
        respx.post(f"{DEEPL}/v2/translate").respond(200, json={"translations": []})
        with pytest.raises(TranslationError, match="one translation per text"):
            deepl().translate(["안녕"], "ko", "en")


class TestPapago:
    @respx.mock
    def test_request_and_response_shape(self) -> None:
        route = respx.post(f"{PAPAGO}/nmt/v1/translation").respond(
            200,
            json={"message": {"result": {"srcLangType": "ko", "tarLangType": "en", "translatedText": "Hello"}}},
        )
        assert papago().translate(["안녕"], "ko", "en") == ["Hello"]
        request = route.calls.last.request
        assert request.headers["X-NCP-APIGW-API-KEY-ID"] == "client-id"
        assert request.headers["X-NCP-APIGW-API-KEY"] == "client-secret"
        assert parse_qs(request.content.decode()) == {"source": ["ko"], "target": ["en"], "text": ["안녕"]}

    @respx.mock
    def test_one_request_per_text_and_retry_on_500(self) -> None:
        ok = {"message": {"result": {"translatedText": "x"}}}
        route = respx.post(f"{PAPAGO}/nmt/v1/translation")
        route.side_effect = [httpx.Response(500), httpx.Response(200, json=ok), httpx.Response(200, json=ok)]
        assert papago().translate(["가", "나"], "ko", "en") == ["x", "x"]
        assert route.call_count == 3

    @respx.mock
    def test_error_body_is_an_error(self) -> None:
        respx.post(f"{PAPAGO}/nmt/v1/translation").respond(200, json={"errorCode": "N2MT05"})
        with pytest.raises(TranslationError, match="translatedText"):
            papago().translate(["가"], "ko", "en")


class TestFactory:
    def test_default_is_offline(self) -> None:
        assert isinstance(make_translator(Settings(_env_file=None)), KeepOriginal)  # type: ignore[call-arg]

    def test_deepl_needs_its_key(self) -> None:
        with pytest.raises(ConfigurationError, match="DEEPL_API_KEY"):
            make_translator(Settings(_env_file=None, translator="deepl"))  # type: ignore[call-arg]

    def test_papago_needs_its_credentials(self) -> None:
        with pytest.raises(ConfigurationError, match="PAPAGO"):
            make_translator(Settings(_env_file=None, translator="papago", papago_client_id="x"))  # type: ignore[call-arg]

    def test_configured_from_settings(self) -> None:
        settings = Settings(_env_file=None, translator="deepl", deepl_api_key="k", deepl_base_url=DEEPL)  # type: ignore[call-arg]
        translator = make_translator(settings)
        assert isinstance(translator, DeepLTranslator)
        assert translator.base_url == DEEPL

    def test_wrapped_in_the_cache_when_given_an_engine(self) -> None:
        import sqlalchemy as sa

        settings = Settings(_env_file=None, translator="papago", papago_client_id="i", papago_client_secret="s")  # type: ignore[call-arg]
        translator = build_translator(settings, sa.create_engine("sqlite://"))
        assert isinstance(translator, CachedTranslator)
        assert translator.name == "papago"
