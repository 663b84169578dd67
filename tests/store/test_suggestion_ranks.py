"""The ledger ranks each cluster's partner suggestions itself (SQLite and PostgreSQL): rows written in any order
and with any rank come out ranked best score first, then by the partner's id in code-point order, whatever
the database's collation; a scoped replacement ranks again exactly the clusters that lost or gained a pair."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from clusterbridge.store import db
from clusterbridge.store.ledger import Ledger
from clusterbridge.store.tables import partner_suggestions
from tests.conftest import postgres_database

# ids whose code-point order differs from a language's collation: upper case before lower case, a hyphen
# before a digit, an accented letter after every ASCII one (English collation orders these otherwise)
IDS = ["B-7", "a-1", "Z", "a1", "é", "aa", "A", "b", "a-10", "a_2"]


@pytest.fixture
def ledger(engine_factory: Callable[[], sa.Engine]) -> Ledger:
    engine = engine_factory()
    db.upgrade(engine)
    return Ledger(engine)


def _rows(pairs: list[tuple[str, str, float]]) -> list[dict[str, Any]]:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    return [{"first_side": "eu", "first_id": f, "second_side": "kr", "second_id": k, "score": score,
             "rank_first": 0, "rank_second": 99, "reasons_en": "[]", "reasons_ko": "[]", "computed_at": stamp}
            for f, k, score in pairs]


def _expected(pairs: list[tuple[str, str, float]]) -> dict[tuple[str, str], tuple[int, int]]:
    """Ranks as the rest of the service orders partners: (-score, partner id) in Python's order."""
    def ranks(mine: int, other: int) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for cluster in {p[mine] for p in pairs}:
            ranked = sorted((p for p in pairs if p[mine] == cluster), key=lambda p: (-p[2], p[other]))
            out.update({(p[0], p[1]): n for n, p in enumerate(ranked, start=1)})
        return out
    first, second = ranks(0, 1), ranks(1, 0)
    return {key: (first[key], second[key]) for key in first}


def _stored(ledger: Ledger) -> dict[tuple[str, str], tuple[int, int]]:
    c = partner_suggestions.c
    with ledger.engine.connect() as conn:
        return {(r.first_id, r.second_id): (r.rank_first, r.rank_second)
                for r in conn.execute(sa.select(c.first_id, c.second_id, c.rank_first, c.rank_second))}


def _pairs(seed: int) -> list[tuple[str, str, float]]:
    """Every id paired with several of the other side's, scores drawn from a few values so that ties are many."""
    rnd = random.Random(seed)
    pairs = {(f, k): rnd.choice([0.5, 0.5, 0.4321, 0.9]) for f in IDS for k in rnd.sample(IDS, 6)}
    out = [(f, k, score) for (f, k), score in pairs.items()]
    rnd.shuffle(out)
    return out


def test_rows_written_in_any_order_are_ranked_by_score_then_the_partners_id(ledger: Ledger) -> None:
    pairs = _pairs(1)
    ledger.replace_suggestions("eu", "kr", iter(_rows(pairs)), None)
    assert _stored(ledger) == _expected(pairs)
    again = _pairs(4)  # a second whole replacement, on the pooled connection the first one used
    ledger.replace_suggestions("eu", "kr", iter(_rows(again)), None)
    assert _stored(ledger) == _expected(again)


def test_a_pair_a_whole_replacement_names_twice_is_stored_once_and_counted_once(ledger: Ledger) -> None:
    """The matcher hands a pair in both its clusters' top N over twice rather than hold every pair it gave."""
    pairs = _pairs(5)
    twice = pairs[: len(pairs) // 3]
    rows = _rows(pairs + twice)
    random.Random(5).shuffle(rows)
    assert ledger.replace_suggestions("eu", "kr", iter(rows), None) == len(pairs)
    assert _stored(ledger) == _expected(pairs)
    assert ledger.replace_suggestions("eu", "kr", iter(_rows(twice + twice)), None) == len(twice)
    assert _stored(ledger) == _expected(twice)


def test_a_scoped_replacement_ranks_again_whoever_lost_or_gained_a_pair(ledger: Ledger) -> None:
    pairs = _pairs(2)
    ledger.replace_suggestions("eu", "kr", iter(_rows(pairs)), None)
    # "a1" (first side) and "Z" (second side) were recomputed: their pairs go, new ones come, and their
    # partners' ranks move with them
    kept = [p for p in pairs if p[0] != "a1" and p[1] != "Z"]
    new = [("a1", "A", 0.95), ("a1", "é", 0.5), ("aa", "Z", 0.5), ("é", "Z", 0.95)]
    ledger.replace_suggestions("eu", "kr", iter(_rows(new)), ({"a1"}, {"Z"}))
    assert _stored(ledger) == _expected(kept + new)


@pytest.fixture
def english_ledger(postgres_server: str) -> Iterator[Ledger]:
    """A ledger in a PostgreSQL database whose own collation is English (ICU), not the code points."""
    options = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
    with postgres_database(postgres_server, options) as url:
        engine = db.make_engine(url)
        try:
            with engine.connect() as conn:  # the premise: this database orders these ids otherwise
                in_db = list(conn.execute(sa.text("SELECT x FROM unnest(CAST(:ids AS text[])) AS x ORDER BY x"),
                                          {"ids": IDS}).scalars())
            assert in_db != sorted(IDS)
            db.upgrade(engine)
            yield Ledger(engine)
        finally:
            engine.dispose()


@pytest.mark.postgres
def test_ranks_follow_code_points_in_a_database_with_a_language_collation(english_ledger: Ledger) -> None:
    pairs = _pairs(3)
    english_ledger.replace_suggestions("eu", "kr", iter(_rows(pairs)), None)
    assert _stored(english_ledger) == _expected(pairs)
    kept = [p for p in pairs if p[0] != "B-7" and p[1] != "a-1"]
    new = [("B-7", "a_2", 0.5), ("B-7", "A", 0.5), ("é", "a-1", 0.5), ("Z", "a-1", 0.5)]
    english_ledger.replace_suggestions("eu", "kr", iter(_rows(new)), ({"B-7"}, {"a-1"}))
    assert _stored(english_ledger) == _expected(kept + new)
