"""Errors an operator makes end with one line on stderr and the documented exit code (1 failed or unreachable,
2 configuration), never a traceback and never a password. Each is run as the operator runs it: the CLI in a
process of its own, with nothing but its environment."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from clusterbridge.errors import ConfigurationError
from clusterbridge.simulators import KicoxSimulator
from clusterbridge.store import db
from clusterbridge.store.tables import sync_runs
from tests.e2e.harness import API_KEY, CLIENT_ID, CLIENT_SECRET, SERVICE_KEY, fast_config

PASSWORD = "pw-nobody-may-see"


def cli(*args: str, cwd: Path, **values: str) -> subprocess.CompletedProcess[str]:
    """`clusterbridge ARGS` with only the CLUSTERBRIDGE_* `values` given (by setting name), in `cwd`."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLUSTERBRIDGE_")}
    env.update({f"CLUSTERBRIDGE_{k.upper()}": v for k, v in values.items()})
    return subprocess.run([sys.executable, "-m", "clusterbridge", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def one_line(out: subprocess.CompletedProcess[str], code: int, *says: str) -> str:
    """The one stderr line of a run that ended with `code`, which says each of `says`."""
    everything = out.stdout + out.stderr
    assert "Traceback" not in everything, everything
    assert out.returncode == code, everything
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for fragment in says:
        assert fragment in lines[0]
    assert PASSWORD not in everything
    return lines[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An empty working directory: no .env, no database."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def migrated(tmp_path: Path) -> str:
    """A migrated SQLite ledger."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    return url


class TestSettings:
    """A bad setting stops the command at start-up, naming its variable: exit 2."""

    @pytest.mark.parametrize("value", ["htp://x", "ftp://eccp.example.eu", "localhost:8081", "http://eccp example.eu"])
    def test_bad_base_url(self, work: Path, value: str) -> None:
        out = cli("sync", cwd=work, eccp_base_url=value)
        one_line(out, 2, "configuration error", "CLUSTERBRIDGE_ECCP_BASE_URL")

    @pytest.mark.parametrize("value", ["inf", "nan", "-5", "0.001", "1e9"])
    def test_bad_sync_interval(self, work: Path, value: str) -> None:
        out = cli("daemon", cwd=work, sync_interval_minutes=value)
        one_line(out, 2, "CLUSTERBRIDGE_SYNC_INTERVAL_MINUTES")

    def test_missing_config_dir(self, work: Path) -> None:
        out = cli("status", cwd=work, config_dir=str(work / "nowhere"))
        one_line(out, 2, "CLUSTERBRIDGE_CONFIG_DIR", str(work / "nowhere"), "no such folder")

    def test_config_dir_that_is_a_file(self, work: Path) -> None:
        (work / "a-file").write_text("")
        out = cli("status", cwd=work, config_dir=str(work / "a-file"))
        one_line(out, 2, "CLUSTERBRIDGE_CONFIG_DIR", "not a folder")

    def test_missing_secret_file(self, work: Path) -> None:
        out = cli("status", cwd=work, eccp_client_secret_file=str(work / "absent"))
        one_line(out, 2, "CLUSTERBRIDGE_ECCP_CLIENT_SECRET_FILE", str(work / "absent"))

    def test_secret_given_twice(self, work: Path) -> None:
        (work / "secret").write_text(PASSWORD)
        out = cli("status", cwd=work, eccp_client_secret=PASSWORD, eccp_client_secret_file=str(work / "secret"))
        one_line(out, 2, "given more than once")

    def test_unknown_variable_is_warned_about_and_the_command_goes_on(self, work: Path, migrated: str) -> None:
        out = cli("status", "--json", cwd=work, database_url=migrated, databse_url="sqlite:///typo.db",
                  log_format="json")
        assert out.returncode == 0, out.stderr
        warnings = [line for line in out.stderr.splitlines() if "config.unknown_variable" in line]
        assert len(warnings) == 1
        assert '"variable": "CLUSTERBRIDGE_DATABSE_URL"' in warnings[0]
        assert '"did_you_mean": "CLUSTERBRIDGE_DATABASE_URL"' in warnings[0]
        assert out.stdout.startswith("{")  # the warning stays off stdout


class TestPlatforms:
    """An unreachable platform fails the run (exit 1) and the run's rows in sync_runs say why."""

    @staticmethod
    def sync(work: Path, tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
        """A sync with ECCP down (a closed port, two quick attempts) and KICOX up."""
        kicox = KicoxSimulator(service_key=SERVICE_KEY, api_key=API_KEY).start(0)
        try:
            config = fast_config(tmp_path)
            (config / "connectors" / "eccp.toml").write_text("max_attempts = 2\nbackoff_initial = 0.01\n")
            return cli("sync", *args, cwd=work, database_url=database_url, config_dir=str(config), log_level="error",
                       eccp_base_url=f"http://127.0.0.1:{closed_port()}", eccp_client_id=CLIENT_ID,
                       eccp_client_secret=CLIENT_SECRET, kicox_base_url=kicox.url, kicox_service_key=SERVICE_KEY,
                       kicox_api_key=API_KEY)
        finally:
            kicox.stop()

    @staticmethod
    def runs(database_url: str) -> dict[str, sa.Row[tuple[str, str, str | None, str | None]]]:
        engine = db.make_engine(database_url)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(sync_runs.c.direction, sync_runs.c.status, sync_runs.c.error,
                                          sync_runs.c.anomalies)).all()
        engine.dispose()
        return {row.direction: row for row in rows}

    def test_unreachable_platform_fails_the_run(self, work: Path, tmp_path: Path, migrated: str) -> None:
        out = self.sync(work, tmp_path, migrated)
        assert out.returncode == 1, out.stdout + out.stderr
        assert "Traceback" not in out.stdout + out.stderr
        runs = self.runs(migrated)
        # writing to ECCP: the direction fails, with the reason in sync_runs.error
        assert runs["kr-to-eu"].status == "failed"
        assert runs["kr-to-eu"].error is not None
        assert "eccp" in runs["kr-to-eu"].error
        assert "ConnectError" in runs["kr-to-eu"].error
        # reading from ECCP: the reason is recorded too (as the anomaly of a listing that ended early)
        assert "ConnectError" in (runs["eu-to-kr"].error or "") + (runs["eu-to-kr"].anomalies or "")

    def test_unreachable_source_alone_fails_the_run(self, work: Path, tmp_path: Path, migrated: str) -> None:
        out = self.sync(work, tmp_path, migrated, "--direction", "eu-to-kr")
        assert out.returncode == 1, out.stdout + out.stderr
        run = self.runs(migrated)["eu-to-kr"]
        assert (run.status, run.error is not None) == ("failed", True)


class TestSimulate:
    """`simulate` on a port that is taken, or with a fault switch that does not exist: one line."""

    def test_busy_port(self, work: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            out = cli("simulate", "eccp", "--port", str(port), cwd=work)
        one_line(out, 1, f"127.0.0.1:{port}", "in use")

    def test_unknown_fault(self, work: Path) -> None:
        one_line(cli("simulate", "kicox", "--port", "0", "--faults", "earthquake=1", cwd=work), 2,
                 "unknown fault key 'earthquake'")


class TestSqlite:
    """A SQLite ledger that cannot be written or opened: exit 2, with what to do."""

    def test_folder_that_does_not_exist(self, work: Path) -> None:
        out = cli("db", "upgrade", cwd=work, database_url=f"sqlite:///{work / 'no' / 'such' / 'ledger.db'}")
        one_line(out, 2, "cannot open the database", "check that its folder exists")

    @pytest.mark.parametrize("command", [("db", "upgrade"), ("sync",)])
    def test_read_only_open(self, work: Path, tmp_path: Path, command: tuple[str, ...]) -> None:
        path = tmp_path / "ledger.db"
        if command == ("sync",):
            engine = db.make_engine(f"sqlite:///{path}")
            db.upgrade(engine)
            engine.dispose()
        else:
            sa.create_engine(f"sqlite:///{path}").connect().close()  # an empty database file, not migrated
        down = f"http://127.0.0.1:{closed_port()}"  # the first write to the ledger comes before any request
        out = cli(*command, cwd=work, database_url=f"sqlite:///file:{path}?mode=ro&uri=true", log_level="warning",
                  eccp_base_url=down, eccp_client_id=CLIENT_ID, eccp_client_secret=CLIENT_SECRET, kicox_base_url=down,
                  kicox_service_key=SERVICE_KEY, kicox_api_key=API_KEY)
        one_line(out, 2, "is read-only", "attempt to write a readonly database")

    def test_file_without_write_permission(self, work: Path, tmp_path: Path) -> None:
        path = tmp_path / "ledger.db"
        sa.create_engine(f"sqlite:///{path}").connect().close()
        with read_only(path):
            out = cli("db", "upgrade", cwd=work, database_url=f"sqlite:///{path}", log_level="warning")
        one_line(out, 2, "is read-only")


@pytest.fixture
def postgres_database(postgres_server: str) -> Iterator[sa.URL]:
    """An empty PostgreSQL database of its own."""
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    name = f"cb_ops_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(postgres_server).set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
class TestPostgres:
    """Nothing listening: exit 1 (it may pass). The server refusing the user, or the user lacking rights: exit 2.
    The password never shows."""

    def test_nothing_listening(self, work: Path) -> None:
        url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{closed_port()}/test"
        for command in (("db", "upgrade"), ("status",)):
            line = one_line(cli(*command, cwd=work, database_url=url), 1, "is unreachable", "Connection refused")
            assert "postgres:***@" in line

    def test_unknown_user(self, work: Path, postgres_database: sa.URL) -> None:
        url = postgres_database.set(username=f"nobody_{uuid.uuid4().hex[:8]}", password=PASSWORD)
        out = cli("db", "upgrade", cwd=work, database_url=url.render_as_string(hide_password=False))
        one_line(out, 2, "refused the connection", "does not exist", "check the user, password and database name")

    def test_user_without_rights(self, work: Path, postgres_database: sa.URL) -> None:
        role = f"cb_reader_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(postgres_database, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        try:
            url = postgres_database.set(username=role, password=PASSWORD).render_as_string(hide_password=False)
            one_line(cli("db", "upgrade", cwd=work, database_url=url, log_level="warning"), 2, "lacks rights",
                     "permission denied for schema public")
            db.upgrade(admin)  # migrated by its owner: the reader may still not touch the tables
            one_line(cli("sync", cwd=work, database_url=url, log_level="warning"), 2, "lacks rights",
                     "permission denied for table")
        finally:
            admin.dispose()
            owner = sa.create_engine(postgres_database, isolation_level="AUTOCOMMIT")
            with owner.connect() as conn:
                conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
                conn.execute(sa.text(f'DROP ROLE "{role}"'))
            owner.dispose()


class TestClassification:
    """How a driver's error becomes the operator's (for what the local server cannot stage: DNS, passwords)."""

    URL = sa.make_url(f"postgresql+psycopg://clusterbridge:{PASSWORD}@db.example.internal/ledger")

    def test_unknown_host_is_unreachable(self) -> None:
        import psycopg

        error = db.operator_error(psycopg.OperationalError(
            "failed to resolve host 'db.example.internal': [Errno -2] Name or service not known"), self.URL,
            connecting=True)
        assert isinstance(error, db.DatabaseUnreachable)
        assert "clusterbridge:***@db.example.internal" in str(error)

    def test_wrong_password_is_configuration_on_one_line_without_the_password(self) -> None:
        import psycopg

        error = db.operator_error(psycopg.OperationalError(
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  password '
            f'authentication failed for user "clusterbridge"\n\tpassword was {PASSWORD}'), self.URL,
            connecting=True)
        assert isinstance(error, ConfigurationError)
        assert "\n" not in str(error)
        assert "password authentication failed" in str(error)
        assert PASSWORD not in str(error)

    def test_other_errors_keep_their_own_exception(self) -> None:
        import psycopg

        failure = psycopg.errors.UniqueViolation("duplicate key value violates unique constraint")
        assert db.operator_error(failure, self.URL, connecting=False) is None


class read_only:
    """Make a file unwritable for this process: without write permission for an ordinary user; immutable
    (`chattr +i`) for root, whom permissions do not stop. Skips when neither holds here."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.immutable = False

    def __enter__(self) -> None:
        self.mode = self.path.stat().st_mode
        self.path.chmod(0o444)
        self.path.parent.chmod(0o555)
        if os.access(self.path, os.W_OK):
            self.path.parent.chmod(0o755)
            chattr = shutil.which("chattr")
            done = chattr is not None and subprocess.run([chattr, "+i", str(self.path)], capture_output=True,
                                                         check=False).returncode == 0
            if not done:
                self.path.chmod(self.mode)
                pytest.skip("this user can write any file and the file system has no immutable flag")
            self.immutable = True

    def __exit__(self, *_exc: object) -> None:
        if self.immutable:
            subprocess.run(["chattr", "-i", str(self.path)], check=True)
        self.path.parent.chmod(0o755)
        self.path.chmod(self.mode)
