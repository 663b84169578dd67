"""Engines, migrations and the one-sync-at-a-time lock (rule 10).

A database the operator cannot use ends a command with one line, never a traceback, and never the password.
Every engine made here turns such failures into the service's errors as they happen:

* ConfigurationError (exit 2), for what only a change of configuration mends: the server refused the
  connection (wrong user, password, database name, pg_hba.conf), the user lacks rights (PostgreSQL
  "permission denied"), the database is read-only, or the SQLite file cannot be opened (no such folder).
* DatabaseUnreachable (exit 1), for what may pass: nothing listening, a host name that does not resolve, a
  timeout, a session that ended while in use (the server restarted). The daemon tries again at its next tick.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from clusterbridge.config import default_dir
from clusterbridge.errors import ClusterbridgeError, ConfigurationError, DatabaseNotMigrated, LockLost, SyncLocked

# a fixed 64-bit key for pg_try_advisory_lock: "clusterbridge sync"
_PG_LOCK_KEY = 0x636C_7573_6272_6467


def normalise_url(url: str) -> str:
    """Accept the URL forms operators paste (postgres://, postgresql://) and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class DatabaseUnreachable(ClusterbridgeError):
    """The ledger database does not answer (nothing listening, an unknown host, a timeout): worth another try."""


# what a PostgreSQL server says when it answers but refuses the connection: only configuration mends these
_REFUSALS = ("authentication failed", "does not exist", "pg_hba.conf", "permission denied", "password")
_PG_NO_RIGHTS, _PG_READ_ONLY = "42501", "25006"


def _one_line(exc: BaseException, secret: str | None) -> str:
    """The driver's message on one line ("connection failed: … failed: Connection refused"), no password."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " ".join(lines[0].split()) if lines else type(exc).__name__
    text = text.removeprefix("connection failed: ")
    return text.replace(secret, "***") if secret else text


def operator_error(exc: BaseException, url: sa.URL, *, connecting: bool,
                   disconnected: bool = False) -> ClusterbridgeError | None:
    """The service's error for a driver error an operator must act on (see the module's docstring), or None
    for any other (a bug, a conflict: those keep SQLAlchemy's own exception). `disconnected`: the driver lost
    a session that was in use (the server restarted, or an administrator ended it)."""
    where = url.render_as_string(hide_password=True)
    text = _one_line(exc, url.password if isinstance(url.password, str) else None)
    sqlstate = getattr(exc, "sqlstate", None)
    lowered = text.lower()
    if url.get_backend_name() == "sqlite":
        if "readonly database" in lowered:
            return ConfigurationError(f"the database {where} is read-only ({text}): let this user write the file "
                                      "and its folder, or point CLUSTERBRIDGE_DATABASE_URL at a writable one")
        if "unable to open database file" in lowered:
            return ConfigurationError(f"cannot open the database {where} ({text}): check that its folder exists "
                                      "and that this user may write there")
        return None
    if sqlstate == _PG_NO_RIGHTS:
        return ConfigurationError(f"the database user of {where} lacks rights ({text}): grant it CREATE on the "
                                  "schema (for `clusterbridge db upgrade`) and read and write on its tables")
    if sqlstate == _PG_READ_ONLY:
        return ConfigurationError(f"the database {where} accepts no writes ({text}): point CLUSTERBRIDGE_DATABASE_URL "
                                  "at the primary server, not a read-only one")
    if disconnected and not connecting:
        return DatabaseUnreachable(f"the session to the database {where} ended while in use ({text}): the server "
                                   "restarted or closed it; the next run starts on new sessions")
    if not connecting:
        return None  # a conflict or a bug: the caller's own handling applies
    if any(marker in lowered for marker in _REFUSALS):
        return ConfigurationError(f"the database {where} refused the connection ({text}): check the user, password "
                                  "and database name in CLUSTERBRIDGE_DATABASE_URL")
    return DatabaseUnreachable(f"the database {where} is unreachable ({text}): is it running, and is the host in "
                               "CLUSTERBRIDGE_DATABASE_URL right?")


def _explain_errors(engine: Engine) -> None:
    """Install `operator_error` on every failure of `engine`, connecting or not."""

    @sa.event.listens_for(engine, "handle_error")
    def _handle(context: sa.engine.ExceptionContext) -> BaseException | None:
        return operator_error(context.original_exception, engine.url, connecting=context.connection is None,
                              disconnected=context.is_disconnect)


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(normalise_url(url))
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(f"CLUSTERBRIDGE_DATABASE_URL is not a database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, connect_args={"timeout": 30})
        _explain_errors(engine)

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
    engine = sa.create_engine(parsed)
    _explain_errors(engine)
    _probe_when_idle(engine)
    return engine


# A pooled PostgreSQL session that waited longer than this since its last use is probed (one `SELECT 1`)
# before it is handed out: the daemon's sessions wait minutes between runs, and the server may have restarted
# or closed them meanwhile; a dead one is replaced. One returned a moment ago is not probed: a run uses its
# sessions thousands of times a minute, and probing each use cost a round trip every time (about 4,700 in a
# first sync of 10,000 a side). A session that dies in the middle of a run fails its statement; the run stops
# as it does when it loses the lock session, and the next run starts on fresh ones.
IDLE_PROBE_SECONDS = 1.0


def _probe_when_idle(engine: Engine) -> None:
    @sa.event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: object, record: Any) -> None:
        record.info["returned"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _probe(dbapi_conn: Any, record: Any, _proxy: object) -> None:
        returned = record.info.get("returned")
        if returned is None or time.monotonic() - returned < IDLE_PROBE_SECONDS:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # the pool closes this session and hands out a new one (a server that is down fails that connect,
            # which _explain_errors reports)
            raise sa.exc.DisconnectionError(f"a pooled database session ended while idle: {exc}") from exc


def for_reading(engine: Engine) -> Engine:
    """`engine`'s pool, for connections that only read. On PostgreSQL they run in autocommit, so a read sends
    no BEGIN before it and no ROLLBACK after it, two round trips fewer (under READ COMMITTED each statement
    sees its own snapshot inside a transaction too, so what a read sees is the same). SQLite's driver already
    reads outside a transaction."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


# The newest migration in migrations/versions/ (a test keeps the two in step). A run checks the database
# against it with one query, without loading Alembic, which only `db upgrade` needs.
HEAD_REVISION = "0003"


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(default_dir("migrations")))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (the same on SQLite and PostgreSQL)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def head_revision(engine: Engine) -> str | None:
    """The newest migration, as Alembic reads it from the scripts."""
    from alembic.script import ScriptDirectory

    head: str | None = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when it was never migrated)."""
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        detail = _one_line(exc.orig or exc, engine.url.password)
        raise ConfigurationError(f"cannot open the database {where}: {detail}") from exc


def require_migrated(engine: Engine) -> None:
    """Refuse to work on a database that lags behind the migrations, saying how to fix it."""
    current, head = current_revision(engine), HEAD_REVISION
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
        self._checking = threading.Lock()  # both directions write at once, and check between their chunks
        self._lost: LockLost | None = None

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
        database = self.engine.url.database or ""
        if database.startswith("file:"):  # a URI filename (`sqlite:///file:PATH?mode=ro&uri=true`): its path
            database = urlsplit(database).path
        if not database or database == ":memory:":
            return self
        lock_path = Path(database).with_name(Path(database).name + ".lock")
        try:
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise ConfigurationError(f"cannot create the sync lock file {lock_path} ({exc.strerror}): let this "
                                     "user write the database's folder") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise SyncLocked(f"another sync is running on this database (lock file {lock_path} held)") from exc
        self._fd = fd
        return self

    def check(self) -> None:
        """Raise LockLost unless this process still holds the lock."""
        with self._checking:
            if self._lost is not None:  # the other direction found it gone: the same answer, not a stale session
                raise self._lost
            try:
                self._check()
            except LockLost as exc:
                self._lost = exc
                raise

    def _check(self) -> None:
        if self._conn is None:
            return
        try:
            held = self._conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                "AND ((classid::bigint << 32) | objid::bigint) = :k"), {"k": _PG_LOCK_KEY}).scalar()
        except (sa.exc.DBAPIError, DatabaseUnreachable) as exc:
            self._conn.invalidate()  # the session is gone, and the lock with it: never use the connection again
            cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else (exc.__cause__ or exc)
            said = (str(cause).strip().splitlines() or [type(cause).__name__])[0]  # one line, for the log
            raise LockLost(f"the database session holding the sync lock is gone ({said}); "
                           "stopping before another sync can overlap") from exc
        if not held:
            raise LockLost("the sync lock is no longer held; stopping before another sync can overlap")

    def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                if not conn.invalidated:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            except (sa.exc.SQLAlchemyError, DatabaseUnreachable):  # the session is gone, and the lock with it
                conn.invalidate()
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
