"""Migrations, the unmigrated-database refusal and the one-sync-at-a-time lock, on both databases."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clusterbridge.errors import ConfigurationError, DatabaseNotMigrated, LockLost, SyncLocked
from clusterbridge.store import db
from clusterbridge.store.tables import compare_type, metadata


class TestMigrations:
    def test_upgrade_creates_every_table(self, engine_factory: Callable[[], sa.Engine]) -> None:
        engine = engine_factory()
        db.upgrade(engine)
        names = set(sa.inspect(engine).get_table_names())
        assert set(metadata.tables) <= names
        db.require_migrated(engine)

    def test_migrations_match_the_table_definitions(self, engine_factory: Callable[[], sa.Engine]) -> None:
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext

        engine = engine_factory()
        db.upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": compare_type}), metadata)
        assert diff == []

    def test_unmigrated_database_is_refused_with_the_fix(self, engine_factory: Callable[[], sa.Engine]) -> None:
        engine = engine_factory()
        with pytest.raises(DatabaseNotMigrated, match="clusterbridge db upgrade"):
            db.require_migrated(engine)


class TestLock:
    def test_second_holder_is_refused(self, engine_factory: Callable[[], sa.Engine]) -> None:
        engine, other = engine_factory(), engine_factory()
        with db.sync_lock(engine), pytest.raises(SyncLocked), db.sync_lock(other):
            pass

    def test_lock_is_free_again_after_release(self, engine_factory: Callable[[], sa.Engine]) -> None:
        with db.sync_lock(engine_factory()):
            pass
        with db.sync_lock(engine_factory()):
            pass


    @pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
    def test_a_session_ended_by_the_server_is_a_one_line_lock_lost_for_every_checker(
            self, engine_factory: Callable[[], sa.Engine]) -> None:
        engine, admin = engine_factory(), engine_factory()
        with db.sync_lock(engine) as lock:
            lock.check()
            with admin.connect() as conn:
                pid = conn.execute(sa.text(  # this database's: other tests' databases share the server
                    "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()")).scalar_one()
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(LockLost) as first:
                lock.check()
            assert "\n" not in str(first.value)
            assert "sync lock is gone" in str(first.value)
            # both directions check between their writes: the second hears the same, not a stale connection's
            with pytest.raises(LockLost) as second:
                lock.check()
            assert str(second.value) == str(first.value)


def test_postgres_urls_pick_the_psycopg_driver() -> None:
    assert db.normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"


def test_unsupported_database_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unsupported database"):
        db.make_engine("mysql://u@h/d")


class TestLedgerMigration:
    """A ledger of the first release moves to the second: sides for directions, dead runs closed, rule-11
    matches by side, timestamps with their zone, and back again."""

    def test_a_first_release_ledger_is_moved_and_can_go_back(self, engine_factory: Callable[[], sa.Engine]) -> None:
        from alembic import command

        from clusterbridge.store.ledger import Ledger

        engine = engine_factory()
        db.upgrade(engine, "0001")
        stamp = "2026-11-01 10:00:00.000000" if engine.dialect.name == "sqlite" else "2026-11-01 10:00:00+00"
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO links (direction, native_id, external_id, state, created_at, updated_at) "
                f"VALUES ('kicox-to-eccp', 'KC-1', 'KC-1', 'live', '{stamp}', '{stamp}')"))
            conn.execute(sa.text(
                "INSERT INTO sync_runs (trigger, direction, mode, dry_run, started_at, status, pulled, created, "
                "updated, deleted, unchanged, failed, held_deletions) VALUES ('cli', 'eccp-to-kicox', 'full', "
                f"false, '{stamp}', 'running', 5, 4, 0, 0, 0, 1, 0)"))
            conn.execute(sa.text("INSERT INTO native_matches (kicox_id, eccp_id, score, method, matched_at) "
                                 f"VALUES ('KC-1', 'u-1', 1.0, 'domain', '{stamp}')"))
        db.upgrade(engine)
        ledger = Ledger(engine)
        (link,) = list(ledger.iter_links())
        assert (link.direction, link.created_at.isoformat()) == ("kr-to-eu", "2026-11-01T10:00:00+00:00")
        (run,) = ledger.runs()
        assert (run.direction, run.status, run.quarantined) == ("eu-to-kr", "interrupted", 1)
        (match,) = ledger.matches()
        assert (match.home_side, match.home_id, match.profile_side, match.profile_id) == ("kr", "KC-1", "eu", "u-1")
        command.downgrade(db._alembic_config(engine), "0001")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT direction FROM links")).scalar() == "kicox-to-eccp"
            assert conn.execute(sa.text("SELECT eccp_id FROM native_matches")).scalar() == "u-1"
        db.upgrade(engine)
        db.require_migrated(engine)


def test_the_head_revision_the_service_checks_is_the_newest_migration(tmp_path: object) -> None:
    engine = db.make_engine("sqlite://")
    assert db.head_revision(engine) == db.HEAD_REVISION


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
class TestPooledSessions:
    """A pooled PostgreSQL session is probed only when it waited in the pool (between a daemon's runs), not on
    every use, and reads run without BEGIN and ROLLBACK, while writes stay transactions."""

    @staticmethod
    def _pid(engine: sa.Engine) -> int:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())

    @staticmethod
    def _terminate(admin: sa.Engine, pid: int) -> None:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    @staticmethod
    def _count_probes(engine: sa.Engine) -> list[int]:
        probes: list[int] = []
        probe = engine.dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            probes.append(1)
            return probe(dbapi_connection)

        engine.dialect.do_ping = counted  # type: ignore[method-assign]
        return probes

    def test_a_session_used_a_moment_ago_is_not_probed(self, engine_factory: Callable[[], sa.Engine]) -> None:
        engine = engine_factory()
        probes = self._count_probes(engine)
        pids = {self._pid(engine) for _ in range(20)}
        assert len(pids) == 1
        assert probes == []

    def test_a_session_that_waited_is_probed_and_a_dead_one_replaced(
            self, engine_factory: Callable[[], sa.Engine], monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(db, "IDLE_PROBE_SECONDS", 0.2)
        engine, admin = engine_factory(), engine_factory()
        probes = self._count_probes(engine)
        pid = self._pid(engine)
        self._terminate(admin, pid)
        time.sleep(0.3)
        assert self._pid(engine) != pid  # no error: the probe found it dead and the pool opened a new one
        assert probes == [1]

    def test_a_session_that_dies_in_use_fails_once_and_the_next_use_is_fresh(
            self, engine_factory: Callable[[], sa.Engine]) -> None:
        engine, admin = engine_factory(), engine_factory()
        pid = self._pid(engine)
        self._terminate(admin, pid)
        with pytest.raises(db.DatabaseUnreachable, match="ended while in use"):
            self._pid(engine)
        assert self._pid(engine) != pid

    def test_reads_send_no_begin_and_writes_stay_transactions(self, engine_factory: Callable[[], sa.Engine]) -> None:
        # PostgreSQL: transaction_timestamp() equals statement_timestamp() in a transaction's first statement,
        # so they differ when a BEGIN went first
        first = sa.text("SELECT transaction_timestamp() = statement_timestamp(), pg_backend_pid()")
        engine = engine_factory()
        with db.for_reading(engine).connect() as conn:
            alone, read_pid = conn.execute(first).one()
        assert alone
        with engine.begin() as conn:
            alone, write_pid = conn.execute(first).one()
            conn.execute(sa.text("CREATE TEMPORARY TABLE t (x int)"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            in_transaction = conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = "
                                                  "pg_backend_pid() AND backend_xid IS NOT NULL")).scalar_one()
        assert write_pid == read_pid  # the same pooled session, back in transaction mode after the read
        assert not alone
        assert in_transaction == 1


def test_sqlite_reads_use_the_engine_as_it_is(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        assert db.for_reading(engine) is engine
    finally:
        engine.dispose()
