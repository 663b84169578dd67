"""Migrations, the unmigrated-database refusal and the one-sync-at-a-time lock, on both databases."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from clusterbridge.errors import ConfigurationError, DatabaseNotMigrated, SyncLocked
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


def test_postgres_urls_pick_the_psycopg_driver() -> None:
    assert db.normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"


def test_unsupported_database_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unsupported database"):
        db.make_engine("mysql://u@h/d")
