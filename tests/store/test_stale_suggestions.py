"""The ledger remembers which natives' partner suggestions wait to be recomputed (SQLite and PostgreSQL): a
changed snapshot or a native that left its platform sets the flag, a refresh that covered it clears it, and
nothing else does; an unchanged snapshot stored again leaves it as it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from clusterbridge.store import db
from clusterbridge.store.ledger import Ledger, NativeSnapshot


@pytest.fixture
def ledger(engine_factory: Callable[[], sa.Engine]) -> Ledger:
    engine = engine_factory()
    db.upgrade(engine)
    return Ledger(engine)


def snap(side: str, native_id: str, text: str = "a") -> NativeSnapshot:
    return NativeSnapshot(side, native_id, f"Cluster {native_id}", "DE", True, datetime(2026, 1, 1, tzinfo=UTC),
                          text, f"hash-{text}")


def test_stored_changes_wait_until_a_refresh_covers_them(ledger: Ledger) -> None:
    ledger.save_natives([snap("eu", "1"), snap("eu", "2"), snap("kr", "1")])
    assert ledger.stale_suggestions(10) == {("eu", "1"), ("eu", "2"), ("kr", "1")}
    ledger.suggestions_recomputed([("eu", "1"), ("kr", "1")])
    assert ledger.stale_suggestions(10) == {("eu", "2")}
    ledger.suggestions_recomputed(None)
    assert ledger.stale_suggestions(10) == set()


def test_only_a_changed_snapshot_or_a_native_gone_sets_the_flag_again(ledger: Ledger) -> None:
    ledger.save_natives([snap("eu", "1"), snap("eu", "2"), snap("eu", "3")])
    ledger.suggestions_recomputed(None)
    ledger.save_natives([snap("eu", "1"), snap("eu", "2", text="b")])  # 1 as it was, 2 changed
    ledger.mark_natives_gone("eu", ["3"])
    assert ledger.stale_suggestions(10) == {("eu", "2"), ("eu", "3")}


def test_more_than_the_limit_says_so_instead_of_listing_them(ledger: Ledger) -> None:
    ledger.save_natives([snap("eu", str(i)) for i in range(6)])
    assert ledger.stale_suggestions(5) is None
    assert ledger.stale_suggestions(6) is not None
