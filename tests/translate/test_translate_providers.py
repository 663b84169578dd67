"""DeepL, Papago and LibreTranslate over httpx, against their documented request and response shapes (respx,
no network)."""

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
    LibreTranslateTranslator,
    PapagoTranslator,
    TranslationError,
    build_translator,
    make_translator,
)

DEEPL = "https://api-free.deepl.test"
PAPAGO = "https://papago.apigw.test"
LIBRE = "http://libretranslate.test:5000"
LIBRE_KEY = "lt-key-0f9e8d7c"


def deepl(waits: list[float] | None = None, attempts: int = 4) -> DeepLTranslator:
    sleep = (waits if waits is not None else []).append
    return DeepLTranslator("secret-key:fx", DEEPL, client=httpx.Client(), max_attempts=attempts, sleep=sleep)


def papago() -> PapagoTranslator:
    return PapagoTranslator("client-id", "client-secret", PAPAGO, client=httpx.Client(), sleep=lambda _s: None)


def libre(key: str | None = LIBRE_KEY, waits: list[float] | None = None, attempts: int = 4) -> LibreTranslateTranslator:
    sleep = (waits if waits is not None else []).append
    return LibreTranslateTranslator(LIBRE, key, client=httpx.Client(), max_attempts=attempts, sleep=sleep)


def libre_echo(request: httpx.Request) -> httpx.Response:
    """A LibreTranslate server that 'translates' by prefixing the target language."""
    body = json.loads(request.content)
    return httpx.Response(200, json={"translatedText": [f"[{body['target']}] {q}" for q in body["q"]]})


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
    def test_quota_exceeded_is_lasting(self) -> None:
        respx.post(f"{DEEPL}/v2/translate").respond(456, json={"message": "Quota Exceeded"})
        with pytest.raises(TranslationError, match="HTTP 456 from /v2/translate: Quota Exceeded") as info:
            deepl().translate(["안녕"], "ko", "en")
        assert info.value.lasting

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
    def test_refused_credentials_are_lasting_and_the_secret_is_masked(self) -> None:
        respx.post(f"{PAPAGO}/nmt/v1/translation").respond(
            401, json={"error": {"errorCode": "200", "message": "Authentication Failed: client-secret"}}
        )
        with pytest.raises(TranslationError, match=r"Authentication Failed: \*\*\*") as info:
            papago().translate(["가"], "ko", "en")
        assert info.value.lasting
        assert "client-secret" not in str(info.value)

    @respx.mock
    def test_error_body_is_an_error(self) -> None:
        respx.post(f"{PAPAGO}/nmt/v1/translation").respond(200, json={"errorCode": "N2MT05"})
        with pytest.raises(TranslationError, match="translatedText"):
            papago().translate(["가"], "ko", "en")


class TestLibreTranslate:
    """LibreTranslate's documented API: JSON body with q, source, target, format and an optional api_key."""

    @respx.mock
    def test_request_and_response_shape(self) -> None:
        route = respx.post(f"{LIBRE}/translate").respond(200, json={"translatedText": ["Hello", "World"]})
        assert libre().translate(["안녕", "세상"], "ko-KR", "en") == ["Hello", "World"]
        request = route.calls.last.request
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == {
            "q": ["안녕", "세상"],
            "source": "ko",
            "target": "en",
            "format": "text",
            "api_key": LIBRE_KEY,
        }

    @respx.mock
    def test_without_a_key_the_body_has_no_api_key(self) -> None:
        route = respx.post(f"{LIBRE}/translate").mock(side_effect=libre_echo)
        assert libre(key=None).translate(["Hello"], "en", "ko") == ["[ko] Hello"]
        assert "api_key" not in json.loads(route.calls.last.request.content)

    @respx.mock
    def test_html_format_is_passed_on(self) -> None:
        route = respx.post(f"{LIBRE}/translate").mock(side_effect=libre_echo)
        translator = LibreTranslateTranslator(LIBRE, text_format="html", client=httpx.Client())
        translator.translate(["<p>Hi</p>"], "en", "ko")
        assert json.loads(route.calls.last.request.content)["format"] == "html"

    @respx.mock
    def test_texts_are_batched_by_the_batch_size(self) -> None:
        route = respx.post(f"{LIBRE}/translate").mock(side_effect=libre_echo)
        texts = [f"text {i}" for i in range(23)]
        assert libre().translate(texts, "en", "ko") == [f"[ko] {t}" for t in texts]
        sizes = [len(json.loads(call.request.content)["q"]) for call in route.calls]
        assert sizes == [10, 10, 3]

    @respx.mock
    def test_400_is_not_retried_and_carries_the_servers_reason(self) -> None:
        route = respx.post(f"{LIBRE}/translate").respond(400, json={"error": "ko is not supported"})
        with pytest.raises(TranslationError, match="HTTP 400 from /translate: ko is not supported") as info:
            libre().translate(["Hi"], "en", "ko")
        assert route.call_count == 1
        assert (info.value.status, info.value.lasting) == (400, False)

    @respx.mock
    def test_403_is_lasting_and_never_shows_the_key(self) -> None:
        route = respx.post(f"{LIBRE}/translate").respond(403, json={"error": f"Invalid API key {LIBRE_KEY}"})
        with pytest.raises(TranslationError) as info:
            libre().translate(["Hi"], "en", "ko")
        assert route.call_count == 1
        assert (info.value.status, info.value.lasting) == (403, True)
        assert LIBRE_KEY not in str(info.value)
        assert "Invalid API key ***" in str(info.value)

    @respx.mock
    def test_429_waits_as_retry_after_says_then_succeeds(self) -> None:
        route = respx.post(f"{LIBRE}/translate")
        route.side_effect = [
            httpx.Response(429, headers={"Retry-After": "4"}, json={"error": "Slowdown: 30 per 1 minute"}),
            libre_echo,
        ]
        waits: list[float] = []
        assert libre(waits=waits).translate(["Hi"], "en", "ko") == ["[ko] Hi"]
        assert route.call_count == 2
        assert waits == [4.0]

    @respx.mock
    def test_a_retry_after_beyond_the_cap_ends_the_call_at_once(self) -> None:
        route = respx.post(f"{LIBRE}/translate").respond(429, headers={"Retry-After": "3600"})
        waits: list[float] = []
        with pytest.raises(TranslationError, match="asked to wait 3600 s") as info:
            libre(waits=waits).translate(["Hi"], "en", "ko")
        assert route.call_count == 1
        assert waits == []
        assert info.value.lasting

    @respx.mock
    def test_500_is_retried_up_to_the_attempt_budget(self) -> None:
        route = respx.post(f"{LIBRE}/translate").respond(500, json={"error": "Cannot translate text"})
        with pytest.raises(TranslationError, match="HTTP 500") as info:
            libre(attempts=3).translate(["Hi"], "en", "ko")
        assert route.call_count == 3
        assert not info.value.lasting

    @respx.mock
    def test_a_single_string_answer_to_a_batch_is_an_error(self) -> None:
        respx.post(f"{LIBRE}/translate").respond(200, json={"translatedText": "Hello"})
        with pytest.raises(TranslationError, match="one translatedText per text"):
            libre().translate(["안녕"], "ko", "en")

    @respx.mock
    def test_connection_errors_hide_the_key(self) -> None:
        respx.post(f"{LIBRE}/translate").mock(side_effect=httpx.ConnectError(f"refused, body had {LIBRE_KEY}"))
        with pytest.raises(TranslationError, match="ConnectError calling /translate") as info:
            libre(attempts=2).translate(["Hi"], "en", "ko")
        assert LIBRE_KEY not in str(info.value)


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

    def test_libretranslate_needs_its_url(self) -> None:
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_LIBRETRANSLATE_URL"):
            make_translator(Settings(_env_file=None, translator="libretranslate"))  # type: ignore[call-arg]

    def test_libretranslate_url_must_be_http(self) -> None:
        settings = Settings(_env_file=None, translator="libretranslate", libretranslate_url="localhost:5000")  # type: ignore[call-arg]
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_LIBRETRANSLATE_URL must be an http"):
            make_translator(settings)

    @respx.mock
    def test_libretranslate_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CLUSTERBRIDGE_TRANSLATOR", "libretranslate")
        monkeypatch.setenv("CLUSTERBRIDGE_LIBRETRANSLATE_URL", f"{LIBRE}/")
        monkeypatch.setenv("CLUSTERBRIDGE_LIBRETRANSLATE_API_KEY", LIBRE_KEY)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert LIBRE_KEY not in repr(settings)
        route = respx.post(f"{LIBRE}/translate").mock(side_effect=libre_echo)
        translator = make_translator(settings)
        assert isinstance(translator, LibreTranslateTranslator)
        assert translator.translate(["Hi"], "en", "ko") == ["[ko] Hi"]
        assert json.loads(route.calls.last.request.content)["api_key"] == LIBRE_KEY
