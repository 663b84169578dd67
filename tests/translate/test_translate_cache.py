"""The translation cache: the same text is never paid for twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence

import httpx
import pytest
import respx
import sqlalchemy as sa

from clusterbridge.abc import Translator
from clusterbridge.config import Settings
from clusterbridge.connectors.kicox.models import KicoxCluster
from clusterbridge.store import tables
from clusterbridge.translate import CachedTranslator, DeepLTranslator, TranslationCache, TranslationService
from tests.mapping.pipeline import Pipeline as Mapper


class Counting(Translator):
    def __init__(self, name: str = "paid") -> None:
        self.name = name
        self.asked: list[str] = []

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        self.asked += texts
        return [None if t == "untranslatable" else f"<{t}>" for t in texts]


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine("sqlite://")
    tables.metadata.create_all(engine)
    yield engine
    engine.dispose()


class TestCachedTranslator:
    def test_second_request_costs_nothing(self, engine: sa.Engine) -> None:
        inner = Counting()
        cached = CachedTranslator(inner, TranslationCache(engine))
        assert cached.translate(["가", "나"], "ko", "en") == ["<가>", "<나>"]
        assert cached.translate(["나", "가", "다"], "ko", "en") == ["<나>", "<가>", "<다>"]
        assert inner.asked == ["가", "나", "다"]

    def test_rows_hold_provider_languages_and_sha256(self, engine: sa.Engine) -> None:
        CachedTranslator(Counting("deepl"), TranslationCache(engine)).translate(["가"], "ko", "en")
        with engine.connect() as conn:
            row = conn.execute(sa.select(tables.translation_cache)).one()
        assert (row.provider, row.source_lang, row.target_lang) == ("deepl", "ko", "en")
        assert row.text_hash == hashlib.sha256("가".encode()).hexdigest()
        assert row.translation == "<가>"
        assert row.created_at is not None

    def test_duplicates_in_one_batch_are_asked_once(self, engine: sa.Engine) -> None:
        inner = Counting()
        CachedTranslator(inner, TranslationCache(engine)).translate(["가", "가"], "ko", "en")
        assert inner.asked == ["가"]

    def test_keyed_by_provider_and_languages(self, engine: sa.Engine) -> None:
        cache = TranslationCache(engine)
        one, two = Counting("deepl"), Counting("papago")
        CachedTranslator(one, cache).translate(["가"], "ko", "en")
        CachedTranslator(two, cache).translate(["가"], "ko", "en")
        CachedTranslator(one, cache).translate(["가"], "ko", "de")
        assert (one.asked, two.asked) == (["가", "가"], ["가"])

    def test_missing_translations_are_not_cached(self, engine: sa.Engine) -> None:
        inner = Counting()
        cached = CachedTranslator(inner, TranslationCache(engine))
        assert cached.translate(["untranslatable"], "ko", "en") == [None]
        cached.translate(["untranslatable"], "ko", "en")
        assert inner.asked == ["untranslatable", "untranslatable"]

    def test_concurrent_store_of_the_same_text_is_harmless(self, engine: sa.Engine) -> None:
        cache = TranslationCache(engine)
        cache.put("p", "ko", "en", "h", "one")
        cache.put("p", "ko", "en", "h", "two")
        assert cache.get_many("p", "ko", "en", ["h"]) == {"h": "one"}

    def test_a_batch_overlapping_stored_rows_keeps_them_and_adds_the_rest(self, engine: sa.Engine) -> None:
        cache = TranslationCache(engine)
        cache.put("p", "ko", "en", "b", "stored first")
        cache.put_many("p", "ko", "en", {"a": "A", "b": "B", "c": "C"})
        assert cache.get_many("p", "ko", "en", ["a", "b", "c"]) == {"a": "A", "b": "stored first", "c": "C"}


class TestRenderingWithCache:
    @respx.mock
    def test_a_provider_is_called_once_for_a_repeated_text_across_runs(self, engine: sa.Engine) -> None:
        route = respx.post("https://deepl.test/v2/translate").mock(
            side_effect=lambda request: httpx.Response(
                200,
                json={"translations": [{"text": f"EN {t}"} for t in json.loads(request.content)["text"]]},
            )
        )
        provider = DeepLTranslator("k", "https://deepl.test", client=httpx.Client(), sleep=lambda _s: None)
        service = TranslationService(provider, TranslationCache(engine))
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        mapper = Mapper.load(settings, translator=service.for_run(dry_run=False))
        again = Mapper.load(settings, translator=service.for_run(dry_run=False))  # the next run
        record = KicoxCluster.model_validate(
            {
                "clstrId": "KC-1",
                "clstrNm": "가 클러스터",
                "intrcn": "소개",
                "cprtnIntrstCn": "협력",
                "updtDt": "20260101000000",
                "useAt": "Y",
            }
        )
        first = mapper.to_eccp_mirror(mapper.from_kicox(record))
        second = again.to_eccp_mirror(again.from_kicox(record))
        assert first == second
        assert route.call_count == 1
        assert first["field_cooperation_interest"]["seeking"].startswith("EN 협력\n\n[Machine translation from Korean]")
