"""`clusterbridge check` against the real simulators over loopback: every check passing, refused credentials,
a platform down, a database not migrated or read-only, and the exit code each of those gives."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import clusterbridge.ops.check as check_module
from clusterbridge.abc import Connector
from clusterbridge.config import Settings
from clusterbridge.ops.check import CheckResult, SelfChecking, exit_code, render, run_checks
from clusterbridge.simulators import EccpSimulator, KicoxSimulator
from clusterbridge.store import db
from tests.e2e.harness import API_KEY, CLIENT_ID, CLIENT_SECRET, SERVICE_KEY

SECRETS = (CLIENT_SECRET, SERVICE_KEY, API_KEY)
# for checks whose outcome does not depend on the ledger's database (each passes on both elsewhere)
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Platforms:
    """Both simulators, a ledger database, and the environment that points clusterbridge at them."""

    eccp: EccpSimulator
    kicox: KicoxSimulator
    database_url: str
    work: Path

    def values(self, **changes: str) -> dict[str, str]:
        values = {"database_url": self.database_url, "eccp_base_url": self.eccp.url, "eccp_client_id": CLIENT_ID,
                  "eccp_client_secret": CLIENT_SECRET, "kicox_base_url": self.kicox.url,
                  "kicox_service_key": SERVICE_KEY, "kicox_api_key": API_KEY}
        values.update(changes)
        return values

    def settings(self, **changes: str) -> Settings:
        values: dict[str, Any] = self.values(**changes)
        for key in ("eccp_client_secret", "kicox_service_key", "kicox_api_key"):
            values[key] = SecretStr(values[key])
        return Settings(_env_file=None, **values)

    def check(self, **changes: str) -> dict[str, CheckResult]:
        return {r.check: r for r in run_checks(self.settings(**changes))}

    def cli(self, *args: str, **changes: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLUSTERBRIDGE_")}
        env.update({f"CLUSTERBRIDGE_{k.upper()}": v for k, v in self.values(**changes).items()})
        return subprocess.run([sys.executable, "-m", "clusterbridge", "check", *args], env=env, cwd=self.work,
                              capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def platforms(database_url: str, tmp_path: Path) -> Iterator[Platforms]:
    eccp = EccpSimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, partner_code="kicox").start(0)
    kicox = KicoxSimulator(service_key=SERVICE_KEY, api_key=API_KEY).start(0)
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    engine.dispose()
    try:
        yield Platforms(eccp, kicox, database_url, tmp_path)
    finally:
        eccp.stop()
        kicox.stop()


def failed(results: dict[str, CheckResult]) -> dict[str, CheckResult]:
    return {name: r for name, r in results.items() if not r.ok}


class TestAllGreen:
    """With both platforms up, the right credentials and a migrated database, every check passes: exit 0."""

    def test_every_check_passes(self, platforms: Platforms) -> None:
        results = platforms.check()
        assert failed(results) == {}
        assert list(results) == [
            "sides", "mappings",
            "eu (eccp) connector", "eu (eccp) base URL", "eu (eccp) natives", "eu (eccp) mirrors",
            "kr (kicox) connector", "kr (kicox) base URL", "kr (kicox) natives", "kr (kicox) mirrors",
            "database",
        ]
        assert exit_code(list(results.values())) == 0

    def test_a_probe_reads_one_record_a_page(self, platforms: Platforms) -> None:
        results = platforms.check()
        for name in ("eu (eccp) natives", "kr (kicox) natives"):
            found = re.search(r"first page read: (\d+) native record\(s\); the platform reports (\d+) in all",
                              results[name].detail)
            assert found is not None, results[name].detail
            assert int(found[1]) == 1 < int(found[2])

    def test_cli_prints_one_line_a_check_and_exits_0(self, platforms: Platforms) -> None:
        out = platforms.cli()
        assert out.returncode == 0, out.stdout + out.stderr
        lines = out.stdout.splitlines()
        assert len(lines) == 13  # settings, environment, and the eleven above
        assert all(line.startswith("ok ") for line in lines), out.stdout
        assert out.stderr == ""


class TestCredentials:
    """A platform that refuses a credential fails its check naming the variables to fix: exit 1."""

    def test_wrong_client_secret(self, platforms: Platforms) -> None:
        results = platforms.check(eccp_client_secret="not-the-secret")
        natives = results["eu (eccp) natives"]
        assert not natives.ok
        assert natives.failure == "refused"
        assert "CLUSTERBRIDGE_ECCP_CLIENT_ID" in natives.detail
        assert "CLUSTERBRIDGE_ECCP_CLIENT_SECRET" in natives.detail
        assert results["eu (eccp) base URL"].ok
        assert results["kr (kicox) natives"].ok
        assert exit_code(list(results.values())) == 1

    def test_wrong_service_key_is_gateway_code_30(self, platforms: Platforms) -> None:
        results = platforms.check(kicox_service_key="not-registered")
        natives = results["kr (kicox) natives"]
        assert (natives.ok, natives.failure) == (False, "refused")
        assert "gateway code 30" in natives.detail
        assert "CLUSTERBRIDGE_KICOX_SERVICE_KEY" in natives.detail
        assert results["kr (kicox) mirrors"].ok  # the ingest API has its own key
        assert exit_code(list(results.values())) == 1

    def test_wrong_ingest_api_key(self, platforms: Platforms) -> None:
        results = platforms.check(kicox_api_key="not-the-key")
        mirrors = results["kr (kicox) mirrors"]
        assert (mirrors.ok, mirrors.failure) == (False, "refused")
        assert "CLUSTERBRIDGE_KICOX_API_KEY" in mirrors.detail
        assert results["kr (kicox) natives"].ok

    @SQLITE_ONLY
    def test_cli_exits_1_and_shows_no_secret(self, platforms: Platforms) -> None:
        out = platforms.cli(eccp_client_secret="wrong-secret-value")
        assert out.returncode == 1, out.stdout + out.stderr
        assert "FAIL  eu (eccp) natives: ECCP refused the client credentials" in out.stdout
        for secret in (*SECRETS, "wrong-secret-value"):
            assert secret not in out.stdout + out.stderr


class TestReachability:
    """A platform that does not answer fails its base-URL check at once (no retries), and nothing more is tried
    there: exit 1."""

    def test_platform_down(self, platforms: Platforms) -> None:
        down = f"http://127.0.0.1:{closed_port()}"
        results = platforms.check(kicox_base_url=down)
        base = results["kr (kicox) base URL"]
        assert (base.ok, base.failure) == (False, "unreachable")
        assert down in base.detail
        assert base.fix is not None
        assert "CLUSTERBRIDGE_KICOX_BASE_URL" in base.fix
        assert "kr (kicox) natives" not in results
        assert results["eu (eccp) natives"].ok
        assert exit_code(list(results.values())) == 1

    @SQLITE_ONLY
    def test_cli_platform_down_exits_1(self, platforms: Platforms) -> None:
        out = platforms.cli(eccp_base_url=f"http://127.0.0.1:{closed_port()}")
        assert out.returncode == 1, out.stdout + out.stderr
        assert "FAIL  eu (eccp) base URL" in out.stdout


class TestDatabase:
    """The database answers, is migrated and takes writes; each failure says what to do."""

    @SQLITE_ONLY
    def test_unmigrated_database_says_db_upgrade(self, platforms: Platforms, tmp_path: Path) -> None:
        results = platforms.check(database_url=f"sqlite:///{tmp_path / 'new.db'}")
        database = results["database"]
        assert (database.ok, database.failure, database.fix) == (False, "configuration",
                                                                   "run `clusterbridge db upgrade`")
        assert exit_code(list(results.values())) == 2

    @SQLITE_ONLY
    def test_read_only_database(self, platforms: Platforms, tmp_path: Path) -> None:
        path = tmp_path / "ledger.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        engine.dispose()
        # SQLite's own read-only open: the refusal a file without write permission gets, for any user
        database = platforms.check(database_url=f"sqlite:///file:{path}?mode=ro&uri=true")["database"]
        assert (database.ok, database.failure) == (False, "configuration")
        assert "read-only" in database.detail

    @pytest.mark.postgres
    @pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
    def test_unreachable_database(self, platforms: Platforms) -> None:
        url = f"postgresql://postgres:pw-of-the-db@127.0.0.1:{closed_port()}/test"
        database = platforms.check(database_url=url)["database"]
        assert (database.ok, database.failure) == (False, "unreachable")
        assert "pw-of-the-db" not in database.detail

    def test_passing_database_names_its_revision(self, platforms: Platforms) -> None:
        database = platforms.check()["database"]
        assert database.ok
        assert "is migrated (revision" in database.detail


class TestConfiguration:
    """What only configuration mends exits 2, and wins over a failure that would exit 1."""

    def test_missing_credential_names_its_variable(self, platforms: Platforms) -> None:
        settings = platforms.settings().model_copy(update={"kicox_api_key": None})
        results = {r.check: r for r in run_checks(settings)}
        connector = results["kr (kicox) connector"]
        assert (connector.ok, connector.failure) == (False, "configuration")
        assert "CLUSTERBRIDGE_KICOX_API_KEY is not set" in connector.detail
        assert exit_code(list(results.values())) == 2

    def test_unknown_connector_lists_the_installed_ones(self, platforms: Platforms) -> None:
        results = platforms.check(eu_connector="nonesuch")
        connector = results["eu (nonesuch) connector"]
        assert not connector.ok
        assert "installed: eccp" in connector.detail

    @SQLITE_ONLY
    def test_a_plugin_that_breaks_while_building_is_reported(self, platforms: Platforms,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
        def broken(name: str, settings: Settings, **kwargs: Any) -> Connector:
            raise RuntimeError("the plugin's module failed to import")

        monkeypatch.setattr(check_module, "load_connector", broken)
        results = platforms.check()
        connector = results["eu (eccp) connector"]
        assert (connector.ok, connector.failure) == (False, "configuration")
        assert connector.detail == "RuntimeError: the plugin's module failed to import"
        assert results["database"].ok  # the other checks still run

    def test_configuration_wins_over_unreachable(self) -> None:
        results = [CheckResult.failed("a", "unreachable", "x", "y"), CheckResult.failed("b", "configuration", "x", "y"),
                   CheckResult.passed("c", "fine", "a warning")]
        assert exit_code(results) == 2
        assert exit_code(results[:1]) == 1
        assert exit_code(results[2:]) == 0

    @SQLITE_ONLY
    def test_cli_bad_setting_is_a_failed_check_in_json(self, platforms: Platforms) -> None:
        out = platforms.cli("--json", eccp_base_url="localhost:8081", databse_url="typo")
        assert out.returncode == 2, out.stdout + out.stderr
        assert json.loads(out.stdout) == [{
            "check": "settings", "ok": False,
            "detail": "invalid configuration: CLUSTERBRIDGE_ECCP_BASE_URL: 'localhost:8081' has no scheme: write it "
                      "as http://localhost:8081 or https://localhost:8081",
            "fix": "correct the variable (or file) named above"}]

    @SQLITE_ONLY
    def test_cli_unknown_variable_is_a_warning_that_keeps_exit_0(self, platforms: Platforms) -> None:
        out = platforms.cli("--json", databse_url="typo")
        assert out.returncode == 0, out.stdout + out.stderr
        environment = [r for r in json.loads(out.stdout) if r["check"] == "environment"]
        assert environment == [{
            "check": "environment", "ok": True,
            "detail": "CLUSTERBRIDGE_DATABSE_URL is not a clusterbridge setting and is ignored "
                      "(did you mean CLUSTERBRIDGE_DATABASE_URL?)",
            "fix": "rename it to CLUSTERBRIDGE_DATABASE_URL"}]


class TestJson:
    """--json prints an array of {check, ok, detail, fix} on stdout, failures included."""

    @SQLITE_ONLY
    def test_shape_with_failures(self, platforms: Platforms, tmp_path: Path) -> None:
        out = platforms.cli("--json", kicox_service_key="not-registered", database_url=f"sqlite:///{tmp_path / 'x.db'}")
        assert out.returncode == 2, out.stdout + out.stderr
        results = json.loads(out.stdout)
        assert all(set(r) == {"check", "ok", "detail", "fix"} for r in results)
        assert {r["check"] for r in results if not r["ok"]} == {"kr (kicox) natives", "database"}
        assert "not-registered" not in out.stdout + out.stderr


class FakeChecking(Connector):
    """A connector that proves itself: only its check() may be called by `clusterbridge check`."""

    name = "fake"

    def __init__(self) -> None:
        self.closed = False

    def check(self) -> list[CheckResult]:
        return [CheckResult.passed("fake folder", "readable"), CheckResult.failed("fake index", "configuration",
                                                                                  "missing", "create it")]

    def iter_natives(self, since: Any = None) -> Any:
        raise AssertionError("a self-checking connector is not probed")

    def normalise(self, record: Any) -> Any:
        raise NotImplementedError

    def external_id(self, native_id: str) -> str:
        return native_id

    def shape(self, record: Any) -> Any:
        raise NotImplementedError

    def iter_mirrors(self) -> Any:
        raise AssertionError("a self-checking connector is not probed")

    def write(self, writes: Any) -> Any:
        raise NotImplementedError

    def delete(self, external_id: str, mirror_id: str | None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.closed = True


class TestSelfChecking:
    """A connector offering check() is asked for its own results instead of being probed."""

    @SQLITE_ONLY
    def test_its_results_are_reported(self, platforms: Platforms, monkeypatch: pytest.MonkeyPatch) -> None:
        fake = FakeChecking()
        real = check_module.load_connector

        def load(name: str, settings: Settings, **kwargs: Any) -> Connector:
            return fake if kwargs["side"].name == "eu" else real(name, settings, **kwargs)

        monkeypatch.setattr(check_module, "load_connector", load)
        assert isinstance(fake, SelfChecking)
        results = platforms.check()
        assert [name for name in results if name.startswith(("fake", "eu"))] == [
            "eu (eccp) connector", "fake folder", "fake index"]
        assert results["kr (kicox) natives"].ok
        assert fake.closed
        assert exit_code(list(results.values())) == 2


class TestRender:
    """The human form: one line a check, with its fix when there is one."""

    def test_lines(self) -> None:
        lines = list(render([CheckResult.passed("a", "fine"), CheckResult.passed("b", "odd", "rename it"),
                             CheckResult.failed("c", "refused", "no", "fix it")]))
        assert lines == ["ok    a: fine", "warn  b: odd -> rename it", "FAIL  c: no -> fix it"]
