"""Engines, migrations and the one-sync-at-a-time lock (rule 10)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url

from clusterbridge.config import default_dir
from clusterbridge.errors import ConfigurationError, DatabaseNotMigrated, LockLost, SyncLocked

# a fixed 64-bit key for pg_try_advisory_lock: "clusterbridge sync"
_PG_LOCK_KEY = 0x636C_7573_6272_6467


def normalise_url(url: str) -> str:
    """Accept the URL forms operators paste (postgres://, postgresql://) and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(normalise_url(url))
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(f"CLUSTERBRIDGE_DATABASE_URL is not a database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: object, _record: object) -> None:
            cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"CLUSTERBRIDGE_DATABASE_URL: unsupported database {parsed.get_backend_name()!r} (use sqlite or postgresql)"
        )
    return sa.create_engine(parsed, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(default_dir("migrations")))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (the same on SQLite and PostgreSQL)."""
    command.upgrade(_alembic_config(engine), revision)


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except sa.exc.OperationalError as exc:
        raise ConfigurationError(f"cannot open the database {engine.url.render_as_string()}: {exc.orig}") from exc


def require_migrated(engine: Engine) -> None:
    """Refuse to work on a database that lags behind the migrations, saying how to fix it."""
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseNotMigrated(
            f"the database {where} is not migrated (at revision {current or 'none'}, need {head}): "
            "run `clusterbridge db upgrade` first"
        )


class SyncLock:
    """The database's one-sync-at-a-time lock (rule 10), held for a run and checked before each batch.

    PostgreSQL: a session advisory lock on a dedicated connection in autocommit mode, so it never sits "idle in
    transaction" (where `idle_in_transaction_session_timeout` would end the session and silently free the lock).
    `check()` proves the session still holds it; when the server ended the session (a timeout, a restart, an
    operator's pg_terminate_backend) it raises LockLost and the run stops before writing anything more.
    SQLite: an OS lock on a file beside the database. Both vanish with a killed process, so a killed sync
    never leaves a stale lock behind.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: sa.Connection | None = None
        self._fd: int | None = None

    def acquire(self) -> SyncLock:
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_KEY}).scalar()
            except BaseException:
                conn.close()
                raise
            if not got:
                conn.close()
                raise SyncLocked("another sync is running on this database (PostgreSQL advisory lock held)")
            self._conn = conn
            return self
        database = self.engine.url.database
        if not database or database == ":memory:":
            return self
        lock_path = Path(database).with_name(Path(database).name + ".lock")
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise SyncLocked(f"another sync is running on this database (lock file {lock_path} held)") from exc
        self._fd = fd
        return self

    def check(self) -> None:
        """Raise LockLost unless this process still holds the lock."""
        if self._conn is None:
            return
        try:
            held = self._conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                "AND ((classid::bigint << 32) | objid::bigint) = :k"), {"k": _PG_LOCK_KEY}).scalar()
        except sa.exc.DBAPIError as exc:
            raise LockLost(f"the database session holding the sync lock is gone ({exc.orig}); "
                           "stopping before another sync can overlap") from exc
        if not held:
            raise LockLost("the sync lock is no longer held; stopping before another sync can overlap")

    def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            except sa.exc.DBAPIError:
                conn.invalidate()  # the session is gone, and the lock with it
            finally:
                conn.close()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> SyncLock:
        return self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()


def sync_lock(engine: Engine) -> SyncLock:
    """Hold the database's sync lock for a `with` block, or raise SyncLocked at once."""
    return SyncLock(engine)
