"""Migrations, the unmigrated-database refusal and the one-sync-at-a-time lock, on both databases."""

from __future__ import annotations

from collections.abc import Callable

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
