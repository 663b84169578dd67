"""The ledger keeps PostgreSQL's planner statistics in step with the tables a run fills: a first sync fills
them from empty faster than autovacuum looks, and without statistics a look-up of a batch of ids by primary key
became a scan of a nearly empty index and a filter (11 ms a look-up instead of well under 1)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from clusterbridge.store import db
from clusterbridge.store.ledger import Ledger, NativeSnapshot

pytestmark = pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                                     indirect=True)

SIDE = "EXPLAIN SELECT native_id FROM natives WHERE side = 'kicox'"


@pytest.fixture
def engine(engine_factory: Callable[[], sa.Engine]) -> sa.Engine:
    made = engine_factory()
    db.upgrade(made)
    with made.connect() as conn:  # as autovacuum might have left them: none yet, whatever it does meanwhile
        conn.execute(sa.text("SELECT pg_stat_reset()"))
    return made


def snapshots(side: str, first: int, count: int) -> list[NativeSnapshot]:
    return [NativeSnapshot(side, f"{side[0]}{n}", f"Cluster {n}", "KR" if n % 3 else "DE", True,
                           datetime(2026, 1, 1, tzinfo=UTC), '{"profile": "' + "x" * 400 + '"}', f"h{n}")
            for n in range(first, first + count)]


def statistics(engine: sa.Engine) -> tuple[float, set[str]]:
    """What the planner knows of `natives`: its row count (-1: never analysed) and the columns with statistics."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'natives'")).scalar_one()
        columns = set(conn.execute(sa.text(
            "SELECT attname FROM pg_stats WHERE tablename = 'natives' AND schemaname = current_schema()")).scalars())
    return float(rows), columns


def estimated_rows(engine: sa.Engine, query: str) -> int:
    """The planner's estimate of the rows `query` returns (which decides between an index and a scan)."""
    with engine.connect() as conn:
        top = str(conn.execute(sa.text(query)).scalars().first())
    return int(top.split(" rows=", 1)[1].split()[0])


def test_a_table_filled_from_empty_gets_statistics_of_its_keys(engine: sa.Engine) -> None:
    ledger = Ledger(engine)
    ledger.save_natives(snapshots("kicox", 0, 400))
    assert statistics(engine)[0] == -1  # under the 500 rows that make a refresh worth its cost
    for first in range(400, 5000, 400):
        ledger.save_natives(snapshots("kicox", first, 400))
    rows, columns = statistics(engine)
    assert rows >= 2_500  # refreshed as the table grew, not only once at 500
    assert {"side", "native_id", "country", "suggestions_stale"} <= columns  # the key and index columns
    assert "snapshot" not in columns  # the wide texts are left to autovacuum
    assert estimated_rows(engine, SIDE) > 4_000  # all 4,800 are KICOX's


def test_without_the_refresh_the_planner_guesses(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the refresh prevents, on the same data: the planner without statistics guesses a side holds a
    few dozen rows."""
    monkeypatch.setattr("clusterbridge.store.ledger._Statistics.took", lambda *_args: None)
    ledger = Ledger(engine)
    for first in range(0, 5000, 400):
        ledger.save_natives(snapshots("kicox", first, 400))
    assert statistics(engine)[0] == -1
    assert estimated_rows(engine, SIDE) < 100  # the guess that made a look-up of 500 ids scan the side index


def test_a_table_with_statistics_is_refreshed_only_after_it_grew_by_half(engine: sa.Engine) -> None:
    ledger = Ledger(engine)
    ledger.save_natives(snapshots("kicox", 0, 4000))
    with engine.connect() as conn:
        conn.execute(sa.text("ANALYZE natives"))
    analysed: list[Any] = []
    refresh = Ledger(engine)  # a new process: it reads what the statistics counted
    original = refresh._statistics.refresh
    refresh._statistics.refresh = lambda conn, table: (  # type: ignore[method-assign]
        analysed.append(table.name), original(conn, table))
    refresh.save_natives(snapshots("kicox", 4000, 1500))
    assert analysed == []
    refresh.save_natives(snapshots("kicox", 5500, 600))
    assert analysed == ["natives"]
    assert statistics(engine)[0] >= 6000


def test_a_user_who_does_not_own_the_tables_writes_all_the_same(engine: sa.Engine, database_url: str) -> None:
    """Only a table's owner may analyse it: for a ledger user with read and write rights alone (tables migrated
    by another user) PostgreSQL skips the refresh with a warning, and the write goes through."""
    role = f"cb_writer_{uuid.uuid4().hex[:8]}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'))
    writer = db.make_engine(sa.make_url(database_url).set(username=role).render_as_string(hide_password=False))
    try:
        Ledger(writer).save_natives(snapshots("kicox", 0, 800))
        assert statistics(engine)[0] == -1  # skipped, with the server's warning
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM natives")).scalar_one() == 800
    finally:
        writer.dispose()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
