"""Fixtures shared by the whole suite: ledger databases on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get("CLUSTERBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _admin_engine() -> sa.Engine:
    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server the suite runs against; unreachable means failure, never a skip."""
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable ({exc.orig}); start it (see .ci/run)")
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database, on SQLite (a file) and on PostgreSQL (a database created for this test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.db'}"
        return
    with postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@contextmanager
def postgres_database(server: str, options: str = "") -> Iterator[str]:
    """A database of its own on the PostgreSQL server (`options`: what CREATE DATABASE adds, e.g. a collation),
    dropped when the block ends; yields its URL."""
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" {options}'))
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

@pytest.fixture
def engine_factory(database_url: str) -> Iterator[Callable[[], sa.Engine]]:
    """Engines on the test database, each disposed before the database is dropped."""
    from clusterbridge.store import db

    made: list[sa.Engine] = []

    def make() -> sa.Engine:
        engine = db.make_engine(database_url)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()
