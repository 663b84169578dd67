"""The per-run translation layer against respx fakes of DeepL, Papago and LibreTranslate that 'translate' by
prefixing the target language: what reaches a provider, what it costs, and what is left pending and why."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs

import httpx
import pytest
import respx
import sqlalchemy as sa
from structlog.testing import capture_logs

from clusterbridge.abc import Translator
from clusterbridge.config import Settings
from clusterbridge.store import db, tables
from clusterbridge.translate import (
    DeepLTranslator,
    LibreTranslateTranslator,
    Outcome,
    PapagoTranslator,
    Pending,
    TranslationCache,
    TranslationService,
    build_translation_service,
)

DEEPL = "https://api.deepl.test"
PAPAGO = "https://papago.test"
LIBRE = "http://libretranslate.test:5000"
KEY = "key-7d41c0ffee"


def _deepl_texts(request: httpx.Request) -> tuple[list[str], str]:
    body = json.loads(request.content)
    return body["text"], body["target_lang"].split("-")[0].lower()


def _papago_texts(request: httpx.Request) -> tuple[list[str], str]:
    form = parse_qs(request.content.decode())
    return form["text"], form["target"][0]


def _libre_texts(request: httpx.Request) -> tuple[list[str], str]:
    body = json.loads(request.content)
    return body["q"], body["target"]


def _deepl_answer(texts: list[str], target: str) -> httpx.Response:
    return httpx.Response(200, json={"translations": [{"text": f"[{target}] {t}"} for t in texts]})


def _papago_answer(texts: list[str], target: str) -> httpx.Response:
    return httpx.Response(200, json={"message": {"result": {"translatedText": f"[{target}] {texts[0]}"}}})


def _libre_answer(texts: list[str], target: str) -> httpx.Response:
    return httpx.Response(200, json={"translatedText": [f"[{target}] {t}" for t in texts]})


@dataclass
class Fake:
    """One provider's fake server: its route, how to read a request's texts, and the translator that calls it."""

    name: str
    route: respx.Route
    texts_of: Callable[[httpx.Request], tuple[list[str], str]]
    answer: Callable[[list[str], str], httpx.Response]
    make: Callable[..., Translator]

    def serve(self) -> None:
        """Answer every request with a deterministic translation."""
        self.route.side_effect = lambda request: self.answer(*self.texts_of(request))

    def sent(self) -> list[str]:
        """Every text every request carried, in order (retries included)."""
        return [t for call in self.route.calls for t in self.texts_of(call.request)[0]]

    def translator(self, **kwargs: object) -> Translator:
        kwargs.setdefault("sleep", lambda _s: None)
        return self.make(client=httpx.Client(), **kwargs)


@pytest.fixture
def http() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def _fakes(http: respx.MockRouter) -> dict[str, Fake]:
    return {
        "deepl": Fake(
            "deepl",
            http.post(f"{DEEPL}/v2/translate"),
            _deepl_texts,
            _deepl_answer,
            lambda **kw: DeepLTranslator(KEY, DEEPL, **kw),
        ),
        "papago": Fake(
            "papago",
            http.post(f"{PAPAGO}/nmt/v1/translation"),
            _papago_texts,
            _papago_answer,
            lambda **kw: PapagoTranslator("client-id", KEY, PAPAGO, **kw),
        ),
        "libretranslate": Fake(
            "libretranslate",
            http.post(f"{LIBRE}/translate"),
            _libre_texts,
            _libre_answer,
            lambda **kw: LibreTranslateTranslator(LIBRE, KEY, **kw),
        ),
    }


@pytest.fixture(params=["deepl", "papago", "libretranslate"])
def fake(request: pytest.FixtureRequest, http: respx.MockRouter) -> Fake:
    """Each provider's fake in turn, serving translations."""
    chosen = _fakes(http)[request.param]
    chosen.serve()
    return chosen


@pytest.fixture
def deepl(http: respx.MockRouter) -> Fake:
    return _fakes(http)["deepl"]


@pytest.fixture
def papago(http: respx.MockRouter) -> Fake:
    return _fakes(http)["papago"]


@pytest.fixture
def libre(http: respx.MockRouter) -> Fake:
    return _fakes(http)["libretranslate"]


@pytest.fixture
def ledger(engine_factory: Callable[[], sa.Engine]) -> sa.Engine:
    """A migrated ledger database (SQLite and PostgreSQL) holding the translation_cache table."""
    engine = engine_factory()
    db.upgrade(engine)
    return engine


def cached_rows(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(tables.translation_cache)).scalar_one()


KO_TEXTS = ["Cluster of photonics firms", "Seeking partners in Busan", "Offering test beds"]


class TestOnlyNewTextsAreSent:
    """The cache keys by content: a text translated on one run costs nothing on the next."""

    def test_a_second_run_of_the_same_texts_sends_nothing(self, fake: Fake, ledger: sa.Engine) -> None:
        service = TranslationService(fake.translator(), TranslationCache(ledger))
        first = service.for_run(dry_run=False)
        assert first.translate(KO_TEXTS, "en", "ko") == [f"[ko] {t}" for t in KO_TEXTS]
        calls_after_first = fake.route.call_count
        assert calls_after_first >= 1

        second = service.for_run(dry_run=False)
        assert second.translate(KO_TEXTS, "en", "ko") == [f"[ko] {t}" for t in KO_TEXTS]
        assert fake.route.call_count == calls_after_first
        assert (second.stats.requests, second.stats.chars_sent, second.stats.cache_hits) == (0, 0, 3)

    def test_only_the_changed_text_is_sent_on_the_next_run(self, fake: Fake, ledger: sa.Engine) -> None:
        service = TranslationService(fake.translator(), TranslationCache(ledger))
        service.for_run(dry_run=False).translate(KO_TEXTS, "en", "ko")
        before = len(fake.sent())
        edited = [*KO_TEXTS[:2], "Offering test beds and training"]
        assert service.for_run(dry_run=False).translate(edited, "en", "ko")[2] == "[ko] Offering test beds and training"
        assert fake.sent()[before:] == ["Offering test beds and training"]

    def test_a_text_repeated_within_a_run_is_sent_once(self, fake: Fake) -> None:
        run = TranslationService(fake.translator()).for_run(dry_run=False)
        run.translate(["Same words", "Other words"], "en", "ko")
        run.translate(["Same words"], "en", "ko")
        assert fake.sent() == ["Same words", "Other words"]
        assert run.stats.cache_hits == 1


class TestBatching:
    """Texts go out in requests of the provider's batch size, and each request is counted."""

    @pytest.mark.parametrize(("name", "sizes"), [("deepl", [50, 50, 20]), ("papago", [1] * 120),
                                                 ("libretranslate", [10] * 12)])
    def test_requests_follow_the_batch_size(self, http: respx.MockRouter, name: str, sizes: list[int]) -> None:
        chosen = _fakes(http)[name]
        chosen.serve()
        texts = [f"text number {i}" for i in range(120)]
        run = TranslationService(chosen.translator(), max_chars=100_000).for_run(dry_run=False)
        assert run.translate(texts, "en", "ko") == [f"[ko] {t}" for t in texts]
        assert [len(chosen.texts_of(c.request)[0]) for c in chosen.route.calls] == sizes
        assert run.stats.requests == len(sizes)
        assert run.stats.translated == 120


class TestBudget:
    """At most CLUSTERBRIDGE_TRANSLATE_MAX_CHARS characters reach the provider in one run; the rest wait."""

    def test_exactly_the_budget_is_sent(self, libre: Fake) -> None:
        libre.serve()
        run = TranslationService(libre.translator(), max_chars=10).for_run(dry_run=False)
        outcomes = run.outcomes(["abcd", "efghij", "k"], "en", "ko")
        assert outcomes == [Outcome("[ko] abcd"), Outcome("[ko] efghij"), Outcome(None, Pending.BUDGET)]
        assert sum(len(t) for t in libre.sent()) == run.stats.chars_sent == 10
        assert run.stats.pending == {"budget": 1}

    def test_shorter_texts_still_fit_after_a_long_one_is_skipped(self, deepl: Fake) -> None:
        deepl.serve()
        run = TranslationService(deepl.translator(), max_chars=10).for_run(dry_run=False)
        result = run.translate(["seven77", "five5", "thr"], "en", "ko")
        assert result == ["[ko] seven77", None, "[ko] thr"]
        assert deepl.sent() == ["seven77", "thr"]

    def test_the_budget_spans_the_whole_run(self, papago: Fake) -> None:
        papago.serve()
        run = TranslationService(papago.translator(), max_chars=8).for_run(dry_run=False)
        assert run.translate(["12345"], "en", "ko") == ["[ko] 12345"]
        assert run.translate(["6789"], "en", "ko") == [None]
        assert run.translate(["abc"], "en", "ko") == ["[ko] abc"]
        assert run.stats.chars_sent == 8

    def test_pending_texts_are_translated_on_a_later_run(self, libre: Fake, ledger: sa.Engine) -> None:
        libre.serve()
        service = TranslationService(libre.translator(), TranslationCache(ledger), max_chars=15)
        texts = ["first text", "second text", "third"]
        assert service.for_run(dry_run=False).translate(texts, "en", "ko") == ["[ko] first text", None, "[ko] third"]
        assert service.for_run(dry_run=False).translate(texts, "en", "ko") == [f"[ko] {t}" for t in texts]
        assert libre.sent() == ["first text", "third", "second text"]

    def test_zero_sends_nothing_but_serves_the_cache(self, deepl: Fake, ledger: sa.Engine) -> None:
        deepl.serve()
        cache = TranslationCache(ledger)
        TranslationService(deepl.translator(), cache).for_run(dry_run=False).translate(["known"], "en", "ko")
        run = TranslationService(deepl.translator(), cache, max_chars=0).for_run(dry_run=False)
        assert run.outcomes(["known", "new"], "en", "ko") == [Outcome("[ko] known"), Outcome(None, Pending.BUDGET)]
        assert deepl.route.call_count == 1


class TestBreaker:
    """A failing provider costs a bounded number of attempts per run, then texts keep their originals."""

    def test_a_provider_answering_503_is_left_alone_after_a_few_requests(self, papago: Fake) -> None:
        papago.route.respond(503)
        translator = papago.translator(max_attempts=3, backoff=0.01, sleep=None)  # real, short waits
        run = TranslationService(translator, breaker_threshold=3).for_run(dry_run=False)
        started = time.monotonic()
        outcomes = [run.outcomes([f"record {i} text"], "en", "ko")[0] for i in range(40)]
        elapsed = time.monotonic() - started
        assert papago.route.call_count == 3 * 3  # three requests, three attempts each, then nothing
        assert elapsed < 2.0
        assert [o.pending for o in outcomes[:3]] == [Pending.PROVIDER_ERROR] * 3
        assert {o.pending for o in outcomes[3:]} == {Pending.BREAKER_OPEN}
        assert run.breaker_open
        assert run.stats.pending == {"provider_error": 3, "breaker_open": 37}
        assert run.stats.last_error == "papago: HTTP 503 from /nmt/v1/translation"

    def test_connection_errors_open_it_too(self, deepl: Fake) -> None:
        deepl.route.side_effect = httpx.ConnectError("connection refused")
        translator = deepl.translator(max_attempts=4, backoff=0.01, sleep=None)
        run = TranslationService(translator, breaker_threshold=2).for_run(dry_run=False)
        started = time.monotonic()
        result = run.translate([f"text {i}" for i in range(500)], "en", "ko")
        assert time.monotonic() - started < 2.0
        assert result == [None] * 500
        assert deepl.route.call_count == 2 * 4
        assert (run.stats.requests, run.stats.failed_requests) == (2, 2)

    def test_refused_credentials_open_it_at_once(self, libre: Fake) -> None:
        libre.route.respond(403, json={"error": "Invalid API key"})
        run = TranslationService(libre.translator()).for_run(dry_run=False)
        assert run.translate([f"text {i}" for i in range(25)], "en", "ko") == [None] * 25
        assert libre.route.call_count == 1
        assert run.stats.pending == {"provider_error": 10, "breaker_open": 15}

    def test_a_success_resets_the_count(self, papago: Fake) -> None:
        ok = _papago_answer(["x"], "ko")
        papago.route.side_effect = [httpx.Response(400), httpx.Response(400), ok, httpx.Response(400), ok]
        run = TranslationService(papago.translator(max_attempts=1), breaker_threshold=3).for_run(dry_run=False)
        assert run.translate(["a", "b", "c", "d", "e"], "en", "ko") == [None, None, "[ko] x", None, "[ko] x"]
        assert not run.breaker_open

    def test_a_failed_text_is_not_sent_again_in_the_same_run(self, libre: Fake) -> None:
        libre.route.side_effect = [httpx.Response(400, json={"error": "too long"}), _libre_answer(["b"], "ko")]
        run = TranslationService(libre.translator()).for_run(dry_run=False)
        assert run.outcomes(["a"], "en", "ko") == [Outcome(None, Pending.PROVIDER_ERROR)]
        assert run.outcomes(["a", "b"], "en", "ko") == [Outcome(None, Pending.PROVIDER_ERROR), Outcome("[ko] b")]
        assert libre.sent() == ["a", "b"]

    def test_the_next_run_tries_again(self, libre: Fake) -> None:
        libre.route.side_effect = [httpx.Response(403), _libre_answer(["b"], "ko")]
        service = TranslationService(libre.translator())
        assert service.for_run(dry_run=False).translate(["a"], "en", "ko") == [None]
        assert service.for_run(dry_run=False).translate(["b"], "en", "ko") == ["[ko] b"]

    def test_a_text_the_provider_gives_back_empty_is_pending_and_not_cached(
        self, deepl: Fake, ledger: sa.Engine
    ) -> None:
        deepl.route.respond(200, json={"translations": [{"text": "[ko] a"}, {"detected_source_language": "EN"}]})
        run = TranslationService(deepl.translator(), TranslationCache(ledger)).for_run(dry_run=False)
        assert run.outcomes(["a", "b"], "en", "ko") == [Outcome("[ko] a"), Outcome(None, Pending.PROVIDER_ERROR)]
        assert cached_rows(ledger) == 1
        assert not run.breaker_open


class TestDryRun:
    """A dry run never calls a provider and writes nothing; it may serve what the cache holds."""

    def test_no_calls_cache_hits_served_nothing_written(self, fake: Fake, ledger: sa.Engine) -> None:
        service = TranslationService(fake.translator(), TranslationCache(ledger))
        service.for_run(dry_run=False).translate(["known text"], "en", "ko")
        calls, rows = fake.route.call_count, cached_rows(ledger)

        run = service.for_run(dry_run=True)
        outcomes = run.outcomes(["known text", "new text"], "en", "ko")
        assert outcomes == [Outcome("[ko] known text"), Outcome(None, Pending.DRY_RUN)]
        assert fake.route.call_count == calls
        assert cached_rows(ledger) == rows
        assert (run.stats.requests, run.stats.chars_sent, run.stats.cache_hits) == (0, 0, 1)
        assert run.stats.pending == {"dry_run": 1}


class TestOffline:
    """CLUSTERBRIDGE_TRANSLATOR=none: nothing is translated and nothing is ever pending."""

    def test_nothing_translated_nothing_pending(self, http: respx.MockRouter, ledger: sa.Engine) -> None:
        service = build_translation_service(Settings(_env_file=None), ledger)  # type: ignore[call-arg]
        assert service.offline
        run = service.for_run(dry_run=False)
        assert run.outcomes(["a", "b"], "ko", "en") == [Outcome(None), Outcome(None)]
        assert run.stats.pending == {}
        assert len(http.calls) == 0


class TestSecrets:
    """Provider keys appear in no error message, statistic or log line."""

    @pytest.mark.parametrize("name", ["deepl", "papago", "libretranslate"])
    def test_an_error_echoing_the_key_is_masked(self, http: respx.MockRouter, name: str) -> None:
        chosen = _fakes(http)[name]
        chosen.route.respond(403, json={"error": f"bad key {KEY}", "message": f"bad key {KEY}"})
        run = TranslationService(chosen.translator()).for_run(dry_run=False)
        with capture_logs() as logs:
            assert run.translate(["text"], "en", "ko") == [None]
        assert run.stats.last_error is not None
        assert "bad key ***" in run.stats.last_error
        assert KEY not in json.dumps(run.stats.as_dict())
        assert logs
        assert KEY not in repr(logs)


class TestFromSettings:
    """build_translation_service reads the provider, its key and the per-run budget from the environment."""

    def test_libretranslate_with_the_ledger_cache_and_the_budget(
        self, libre: Fake, ledger: sa.Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        libre.serve()
        monkeypatch.setenv("CLUSTERBRIDGE_TRANSLATOR", "libretranslate")
        monkeypatch.setenv("CLUSTERBRIDGE_LIBRETRANSLATE_URL", LIBRE)
        monkeypatch.setenv("CLUSTERBRIDGE_LIBRETRANSLATE_API_KEY", KEY)
        monkeypatch.setenv("CLUSTERBRIDGE_TRANSLATE_MAX_CHARS", "6")
        service = build_translation_service(Settings(_env_file=None), ledger)  # type: ignore[call-arg]
        assert not service.offline
        run = service.for_run(dry_run=False)
        assert run.translate(["Busan", "Daegu"], "en", "ko") == ["[ko] Busan", None]
        assert json.loads(libre.route.calls.last.request.content)["api_key"] == KEY
        assert cached_rows(ledger) == 1

    def test_default_budget(self) -> None:
        assert Settings(_env_file=None).translate_max_chars == 50_000  # type: ignore[call-arg]

    def test_negative_budget_is_refused(self) -> None:
        from pydantic import ValidationError

        with pytest.raises(ValidationError, match="translate_max_chars"):
            Settings(_env_file=None, translate_max_chars=-1)  # type: ignore[call-arg]
