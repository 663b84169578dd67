"""The suggestions table as the service keeps it, in a real ledger: what it stores is what the matcher
suggests (reasons included), each cluster's partners ranked best first, written without holding every
suggestion's reasons at once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa

from clusterbridge.abc import Translator
from clusterbridge.config import Settings
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster
from clusterbridge.partners import CooperationText, EnglishTexts, Matcher, Suggestion
from clusterbridge.partners import match as match_module
from clusterbridge.partners import service as service_module
from clusterbridge.partners.service import PUBLISHED, TOP_N, Suggestions
from clusterbridge.sides import load_bridge
from clusterbridge.store import db
from clusterbridge.store.ledger import Ledger, NativeSnapshot
from clusterbridge.store.tables import partner_suggestions
from tests.partners.sample_clusters import sample_european, sample_korean


def _snapshot(cluster: Cluster) -> NativeSnapshot:
    text = cluster.model_dump_json()
    return NativeSnapshot(cluster.source, cluster.source_id, cluster.name_en, cluster.country, cluster.live,
                          cluster.source_changed, text, hashlib.sha256(text.encode()).hexdigest())


@pytest.fixture
def service(engine_factory: Callable[[], sa.Engine], matcher: Matcher) -> Suggestions:
    engine = engine_factory()
    db.upgrade(engine)
    ledger = Ledger(engine)
    ledger.save_natives([_snapshot(c) for c in (*sample_european(), *sample_korean())])
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return Suggestions(ledger, load_bridge(settings), matcher, Vocabulary.load(settings))


def _table(service: Suggestions) -> list[dict[str, Any]]:
    c = partner_suggestions.c
    q = sa.select(c.first_id, c.second_id, c.score, c.rank_first, c.rank_second, c.reasons_en, c.reasons_ko)
    with service.ledger.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q.order_by(c.first_id, c.second_id))]


def _expected(found: list[Suggestion]) -> list[dict[str, Any]]:
    """The table `found` makes: each cluster's partners ranked by score, then by the partner's id."""
    def rank(s: Suggestion, mine: Callable[[Suggestion], str], other: Callable[[Suggestion], str]) -> int:
        ranked = sorted((x for x in found if mine(x) == mine(s)), key=lambda x: (-x.score, other(x)))
        return ranked.index(s) + 1

    rows = [{"first_id": s.eu_id, "second_id": s.kr_id, "score": s.score,
             "rank_first": rank(s, lambda x: x.eu_id, lambda x: x.kr_id),
             "rank_second": rank(s, lambda x: x.kr_id, lambda x: x.eu_id),
             "reasons_en": [{"signal": r.signal, "text": r.en, "weight": r.weight} for r in s.reasons],
             "reasons_ko": [r.ko for r in s.reasons]} for s in found]
    return sorted(rows, key=lambda r: (r["first_id"], r["second_id"]))


def _decoded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "reasons_en": json.loads(r["reasons_en"]), "reasons_ko": json.loads(r["reasons_ko"])}
            for r in rows]


class TestTable:
    def test_the_table_holds_what_the_matcher_suggests_ranked_for_each_cluster(
            self, service: Suggestions, matcher: Matcher) -> None:
        service.refresh(whole=True)
        found = matcher.suggest(sample_european(), sample_korean(), top_n=TOP_N)
        assert len(found) > 20
        assert any(len(s.reasons) > 1 for s in found)
        assert _decoded(_table(service)) == _expected(found)

    def test_each_suggestions_reasons_are_written_as_it_is_stored_not_all_before(
            self, service: Suggestions, monkeypatch: pytest.MonkeyPatch) -> None:
        """The reasons (two sentences per signal) are the bulk of a suggestion: with a whole listing's
        suggestions they would not fit in memory at once. No more than one suggestion's reasons, plus the
        batch being written, may exist before the first row reaches the ledger."""
        written: list[int] = []
        reasons_before_write: list[int] = []
        made = match_module.Matcher._reasons
        write = Ledger.replace_suggestions

        def counted_reasons(self: Matcher, *args: Any) -> Any:
            written.append(1)
            return made(self, *args)

        def watched_write(ledger: Ledger, first: str, second: str, rows: Any, scope: Any) -> None:
            reasons_before_write.append(len(written))
            write(ledger, first, second, rows, scope)

        monkeypatch.setattr(match_module.Matcher, "_reasons", counted_reasons)
        monkeypatch.setattr(Ledger, "replace_suggestions", watched_write)
        service.refresh(whole=True)
        assert reasons_before_write == [0]  # the matcher handed over scores only
        table = _table(service)
        # each pair's reasons were written as it was handed over: once, or twice for a pair in both its
        # clusters' top N (found from each side; the ledger kept one)
        mutual = [r for r in table if r["rank_first"] <= TOP_N and r["rank_second"] <= TOP_N]
        assert len(written) == len(table) + len(mutual)
        assert len(table) > 20
        assert mutual

    def test_no_pair_waits_in_memory_to_be_ranked_the_ledger_ranks_them(
            self, service: Suggestions, matcher: Matcher, monkeypatch: pytest.MonkeyPatch) -> None:
        """A listing's pairs (five or more per cluster) would all be held at once to rank them in the process:
        the service writes them as they are found, and the table still holds each cluster's ranks."""
        expected = _expected(matcher.suggest(sample_european(), sample_korean(), top_n=TOP_N))

        def held(*_: object) -> None:
            raise AssertionError("the service held a pair to rank it")
        monkeypatch.setattr(match_module._ScoredPairs, "add", held)
        service.refresh(whole=True)
        assert _decoded(_table(service)) == expected
        korean = sample_korean()
        moved = korean[0].model_copy(update={"cooperation": korean[0].cooperation.model_copy(
            update={"target_countries": ("DE", "FR", "IT")})})
        service.ledger.save_natives([_snapshot(moved)])
        service.refresh()  # a scoped refresh hands its pairs over the same way
        monkeypatch.undo()
        assert _decoded(_table(service)) == _expected(
            matcher.suggest(sample_european(), [moved, *korean[1:]], top_n=TOP_N))

    def test_a_refresh_after_a_change_leaves_the_table_a_full_recompute_makes(
            self, service: Suggestions, matcher: Matcher) -> None:
        service.refresh(whole=True)
        korean = sample_korean()
        moved = korean[0].model_copy(update={"cooperation": korean[0].cooperation.model_copy(
            update={"target_countries": ("DE", "FR", "IT")})})
        service.ledger.save_natives([_snapshot(moved)])
        service.refresh()
        found = matcher.suggest(sample_european(), [moved, *korean[1:]], top_n=TOP_N)
        assert _decoded(_table(service)) == _expected(found)


class _Cached(Translator):
    """A translator whose cache holds the English of every Korean cooperation text: each one, word for word,
    the offering or seeking text of a European cluster (so that the texts signal has something to find)."""

    name = "cached"

    def __init__(self) -> None:
        english = [t.text for c in sample_european() for t in (c.cooperation.offering, c.cooperation.seeking) if t]
        korean = [t.text for c in sample_korean() for t in (c.cooperation.seeking, c.cooperation.offering)
                  if t is not None and t.lang == "ko"]
        self.english = {text: english[n % len(english)] for n, text in enumerate(korean)}
        self.asked: list[tuple[int, str, str]] = []

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        self.asked.append((len(texts), source_lang, target_lang))
        return [self.english.get(t) for t in texts]


class TestTranslations:
    """Korean cooperation texts reach the text signal through the translations the run's translator already
    holds, asked for a batch at a time, so that a listing's texts are never all held at once."""

    def test_translations_feed_the_text_signal_asked_for_a_batch_at_a_time(
            self, service: Suggestions, matcher: Matcher, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(service_module, "TRANSLATE_BATCH", 4)
        translator = _Cached()
        service.refresh(translator, whole=True)
        english: dict[str, dict[str, str]] = {}
        for c in sample_korean():
            for kind in ("seeking", "offering"):
                text = getattr(c.cooperation, kind)
                if text is not None and text.lang == "ko" and c.live:  # a withdrawn cluster is nobody's partner
                    english.setdefault(c.source_id, {})[kind] = translator.english[text.text]
        # each Korean text of a live cluster asked for once, never more than a batch at a time
        assert sum(n for n, _, _ in translator.asked) == sum(len(t) for t in english.values()) == 34
        assert {(lang, to) for _, lang, to in translator.asked} == {("ko", "en")}
        assert max(n for n, _, _ in translator.asked) == 4
        texts = EnglishTexts(kr={i: CooperationText(t.get("seeking"), t.get("offering")) for i, t in english.items()})
        table = _decoded(_table(service))
        assert table == _expected(matcher.suggest(sample_european(), sample_korean(), top_n=TOP_N, texts=texts))
        korean_texts = [r for r in table if r["second_id"] in english
                        and any(reason["signal"] == "texts" for reason in r["reasons_en"])]
        assert korean_texts

    def test_without_a_translator_the_natives_are_read_only_for_the_matcher(
            self, service: Suggestions, monkeypatch: pytest.MonkeyPatch) -> None:
        reads: list[str | None] = []
        read = Ledger.iter_natives

        def counted(ledger: Ledger, side: str | None = None, **kwargs: Any) -> Any:
            reads.append(side)
            return read(ledger, side, **kwargs)
        monkeypatch.setattr(Ledger, "iter_natives", counted)
        service.refresh(None, whole=True)
        assert sorted(reads) == sorted([service.first.name, service.second.name])  # one pass a side
        assert _table(service)


def _tops(service: Suggestions) -> dict[tuple[str, str], list[str]]:
    """Each cluster's published partners, read from the stored ranks."""
    tops: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for r in _table(service):
        tops.setdefault((service.first.name, r["first_id"]), []).append((r["rank_first"], r["second_id"]))
        tops.setdefault((service.second.name, r["second_id"]), []).append((r["rank_second"], r["first_id"]))
    return {key: [i for rank, i in sorted(found) if rank <= PUBLISHED] for key, found in tops.items()}


class TestMoves:
    """Which natives' published partners moved is only worked out when a mirror shows them (publishing on):
    comparing every cluster's tops before and after holds them all in memory at once."""

    def test_with_moves_the_natives_whose_top_partners_changed_are_returned(self, service: Suggestions) -> None:
        service.refresh(whole=True, moves=True)
        before = _tops(service)
        korean = sample_korean()
        wider = korean[0].model_copy(update={"cooperation": korean[0].cooperation.model_copy(
            update={"target_countries": ("DE", "FR", "IT")})})
        service.ledger.save_natives([_snapshot(wider)])
        moved = service.refresh(moves=True)
        after = _tops(service)
        expected = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
        assert expected  # the change does move someone's partners
        assert moved == expected

    def test_without_moves_no_refresh_reads_the_stored_tops(
            self, service: Suggestions, monkeypatch: pytest.MonkeyPatch) -> None:
        reads: list[str] = []
        scores = Ledger.suggestion_scores

        def counted(ledger: Ledger, first: str, second: str) -> Any:
            reads.append(first)
            return scores(ledger, first, second)

        monkeypatch.setattr(Ledger, "suggestion_scores", counted)
        assert service.refresh(whole=True) == set()
        assert reads == []  # a whole recompute needs nothing stored
        assert len(_table(service)) > 20
        assert service.refresh(whole=True, moves=True) == set()  # the same natives: nobody's partners moved
        assert len(reads) == 2  # the tops before and after
