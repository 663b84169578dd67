"""compose.yaml: the service graph (PostgreSQL healthy → migrations done → daemon), its health checks, its
ledger on the stack's PostgreSQL, secrets as files, ports on loopback, and the demo and Grafana profiles."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from clusterbridge.config import Settings
from clusterbridge.simulators import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
CLUSTERBRIDGE_SERVICES = ("migrate", "clusterbridge")
SIMULATORS = {"eccp-simulator": "eccp", "kicox-simulator": "kicox"}
# compose's interpolation: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")
# an environment name that carries a secret, unless it names the file that holds it
SECRET_NAME = re.compile(r"SECRET|PASSWORD|API_KEY|SERVICE_KEY|TOKEN")


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def _env_file(path: Path) -> dict[str, str]:
    """KEY=value lines of an env file (comments and blank lines left out)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _interpolate(value: Any, env: dict[str, str]) -> Any:
    """What compose makes of the file with `env` as its variables; a missing required one fails the test."""
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        current = env.get(name)
        missing = current is None or (op.startswith(":") and current == "")
        if op.endswith("?") and missing:
            pytest.fail(f"compose would stop: {name}: {arg}")
        if op.endswith("-") and missing:
            return arg
        return current or ""

    return VARIABLE.sub(one, value).replace("$$", "$")


def _compose(env: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = _interpolate(_raw(), env)
    return data


def _production_env() -> dict[str, str]:
    """The stack's variables as an operator fills deploy/compose.env.example."""
    env = {k: v for k, v in _env_file(ROOT / "deploy" / "compose.env.example").items()}
    env.update(POSTGRES_PASSWORD="s3cret-ledger", DASHBOARDS_DB_PASSWORD="s3cret-dashboards")
    return env


def _demo_env() -> dict[str, str]:
    return _env_file(ROOT / "deploy" / "demo" / "compose.env")


def _services(compose: dict[str, Any], profiles: set[str]) -> dict[str, Any]:
    """The services `docker compose up` starts with these profiles active."""
    return {name: s for name, s in compose["services"].items()
            if not s.get("profiles") or set(s["profiles"]) & profiles}


def _health_test(service: dict[str, Any]) -> str:
    return " ".join(service["healthcheck"]["test"])


class TestServiceGraph:
    """PostgreSQL healthy, then the one-shot migration, then the daemon; nothing else by default."""

    def test_the_default_stack_is_the_ledger_the_migration_and_the_daemon(self) -> None:
        assert set(_services(_compose(_production_env()), set())) == {"postgres", "migrate", "clusterbridge"}

    def test_the_migration_waits_for_a_healthy_postgresql_and_runs_once(self) -> None:
        migrate = _compose(_production_env())["services"]["migrate"]
        assert migrate["command"] == ["db", "upgrade"]
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert migrate["restart"] == "no"
        assert migrate["healthcheck"] == {"disable": True}  # the image's /healthz check is the daemon's

    def test_the_daemon_waits_for_the_migration_to_succeed_and_for_postgresql(self) -> None:
        daemon = _compose(_production_env())["services"]["clusterbridge"]
        assert daemon["command"] == ["daemon"]
        assert daemon["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert daemon["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert daemon["restart"] == "unless-stopped"
        assert "stop_grace_period" in daemon  # time to finish the batch in flight after SIGTERM

    def test_the_migration_and_the_daemon_run_one_image_with_one_configuration(self) -> None:
        services = _compose(_production_env())["services"]
        first, second = (services[name] for name in CLUSTERBRIDGE_SERVICES)
        for key in ("image", "env_file", "environment", "secrets"):
            assert first[key] == second[key], key
        assert first["env_file"] == ["deploy/clusterbridge.env"]

    def test_the_image_tag_follows_the_project_version(self) -> None:
        with (ROOT / "pyproject.toml").open("rb") as fh:
            version = tomllib.load(fh)["project"]["version"]
        image = _compose(_production_env())["services"]["clusterbridge"]["image"]
        assert image == f"clusterbridge:{version}"


class TestHealthChecks:
    """Each long-running service says when it is healthy; the daemon's check asks /healthz."""

    def test_the_daemon_asks_healthz_on_the_port_it_serves(self) -> None:
        daemon = _compose(_production_env())["services"]["clusterbridge"]
        port = int(daemon["environment"]["CLUSTERBRIDGE_HTTP_PORT"])
        assert port == Settings.model_fields["http_port"].default
        assert daemon["environment"]["CLUSTERBRIDGE_HTTP_HOST"] == "0.0.0.0"  # noqa: S104 - every interface of the container
        assert f"http://127.0.0.1:{port}/healthz" in _health_test(daemon)
        assert [p.rpartition(":")[2] for p in daemon["ports"]] == [str(port)]

    def test_postgresql_is_healthy_once_it_accepts_connections_over_tcp(self) -> None:
        postgres = _compose(_production_env())["services"]["postgres"]
        test = _health_test(postgres)
        assert "pg_isready" in test
        assert "--host=127.0.0.1" in test

    def test_the_simulators_are_healthy_once_their_port_answers(self) -> None:
        services = _compose(_demo_env())["services"]
        for name, platform in SIMULATORS.items():
            assert f"'127.0.0.1', {DEFAULT_PORTS[platform]}" in _health_test(services[name])


class TestLedger:
    """The daemon's ledger is the stack's PostgreSQL, kept on a named volume."""

    def test_database_url_points_at_the_compose_postgresql(self) -> None:
        compose = _compose(_production_env())
        postgres = compose["services"]["postgres"]["environment"]
        for name in CLUSTERBRIDGE_SERVICES:
            url = sa.make_url(compose["services"][name]["environment"]["CLUSTERBRIDGE_DATABASE_URL"])
            assert url.get_backend_name() == "postgresql"
            assert url.host == "postgres"
            assert url.host in compose["services"]
            assert url.port == 5432
            assert url.username == postgres["POSTGRES_USER"]
            assert url.database == postgres["POSTGRES_DB"]
            assert url.password == postgres["POSTGRES_PASSWORD"] == "s3cret-ledger"

    def test_the_stack_stops_without_a_ledger_password(self) -> None:
        with pytest.raises(pytest.fail.Exception, match="POSTGRES_PASSWORD"):
            _compose({})

    def test_postgresql_keeps_its_data_on_a_named_volume(self) -> None:
        compose = _compose(_production_env())
        mounts = compose["services"]["postgres"]["volumes"]
        assert "ledger:/var/lib/postgresql/data" in mounts
        assert "ledger" in compose["volumes"]

    def test_postgresql_image_is_pinned_to_a_full_version(self) -> None:
        image = _compose(_production_env())["services"]["postgres"]["image"]
        assert re.fullmatch(r"postgres:15\.\d+(-\w+)?(@sha256:[0-9a-f]{64})?", image), image

    def test_postgresql_is_not_published(self) -> None:
        assert "ports" not in _compose(_production_env())["services"]["postgres"]


class TestSecrets:
    """No secret value is written in compose.yaml: passwords come from the stack's .env, platform
    credentials from files the platform mounts, read through CLUSTERBRIDGE_<NAME>_FILE."""

    def test_no_secret_value_is_inlined(self) -> None:
        for name, service in _raw()["services"].items():
            for key, value in (service.get("environment") or {}).items():
                text = str(value)
                if key.endswith("_FILE"):
                    assert text.startswith("/run/secrets/"), f"{name}: {key}"
                elif SECRET_NAME.search(key):
                    assert re.fullmatch(r"\$\{\w+(:?[-?][^}]*)?\}", text), f"{name}: {key} holds a value"
                elif "://" in text and "@" in text:
                    credentials = text.split("://", 1)[1].split("@", 1)[0]
                    password = credentials.partition(":")[2]
                    assert VARIABLE.fullmatch(password), f"{name}: {key} carries a password"

    def test_demo_credentials_stay_out_of_compose_yaml(self) -> None:
        text = COMPOSE.read_text(encoding="utf-8")
        for secret in (ROOT / "deploy" / "demo" / "secrets").iterdir():
            if secret.name != "README.md":
                assert secret.read_text(encoding="utf-8") not in text

    def test_each_secret_file_variable_is_a_secret_setting_with_its_mount(self) -> None:
        compose = _compose(_production_env())
        secret_fields = {n for n, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)}
        for name in CLUSTERBRIDGE_SERVICES:
            service = compose["services"][name]
            files = {k: v for k, v in service["environment"].items() if k.endswith("_FILE")}
            assert files
            for key, path in files.items():
                setting = key.removeprefix("CLUSTERBRIDGE_").removesuffix("_FILE").lower()
                assert setting in secret_fields, key
                secret = path.removeprefix("/run/secrets/")
                assert secret in service["secrets"]
                assert secret in compose["secrets"]

    def test_secret_files_come_from_a_folder_git_never_takes(self) -> None:
        compose = _compose(_production_env())
        for definition in compose["secrets"].values():
            path = ROOT / definition["file"]
            assert path.parent == ROOT / "deploy" / "secrets"
            assert _ignored_by_git(path.relative_to(ROOT).as_posix())

    def test_the_demo_has_every_secret_file(self) -> None:
        for definition in _compose(_demo_env())["secrets"].values():
            assert (ROOT / definition["file"]).is_file(), definition["file"]


def _ignored_by_git(path: str) -> bool:
    done = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "--quiet", "--no-index", path], check=False)
    return done.returncode == 0


class TestPortsAndMounts:
    """What is published is on the host's loopback; every bind mount exists; every volume is declared."""

    def test_published_ports_are_on_loopback_and_match_the_served_ports(self) -> None:
        services = _compose({**_demo_env()})["services"]
        served = {"clusterbridge": Settings.model_fields["http_port"].default, "grafana": 3000}
        for name, service in services.items():
            for mapping in service.get("ports", []):
                host, _, container = mapping.rpartition(":")
                assert host.startswith("127.0.0.1:"), f"{name}: {mapping}"
                assert int(container) == served[name]

    def test_bind_mounts_exist_and_named_volumes_are_declared(self) -> None:
        compose = _compose(_demo_env())
        for name, service in compose["services"].items():
            for mount in service.get("volumes", []):
                source = mount.split(":")[0]
                if source.startswith("."):
                    assert (ROOT / source).exists(), f"{name}: {source}"
                else:
                    assert source in compose["volumes"], f"{name}: {source}"

    def test_clusterbridge_containers_are_locked_down(self) -> None:
        services = _compose(_demo_env())["services"]
        for name in (*CLUSTERBRIDGE_SERVICES, *SIMULATORS):
            assert services[name]["read_only"] is True
            assert services[name]["cap_drop"] == ["ALL"]

    def test_the_service_settings_file_is_never_committed(self) -> None:
        assert _ignored_by_git("deploy/clusterbridge.env")
        assert not _ignored_by_git("deploy/demo/clusterbridge.env")
        assert not _ignored_by_git("deploy/clusterbridge.env.example")


class TestProfiles:
    """`demo` adds the simulators where the daemon reaches them; `grafana` the dashboard on the ledger."""

    def test_the_demo_runs_both_simulators_in_the_daemons_network(self) -> None:
        compose = _compose(_demo_env())
        assert set(_services(compose, {"demo"})) >= set(SIMULATORS)
        for name, platform in SIMULATORS.items():
            service = compose["services"][name]
            assert service["profiles"] == ["demo"]
            assert service["command"] == ["simulate", platform]
            assert service["network_mode"] == "service:clusterbridge"
            assert service["image"] == compose["services"]["clusterbridge"]["image"]

    def test_the_demo_daemon_reaches_the_simulators_with_their_published_credentials(self) -> None:
        from clusterbridge.simulators import create_simulator

        compose = _compose(_demo_env())
        settings = _env_file(ROOT / compose["services"]["clusterbridge"]["env_file"][0])
        secrets = {name: (ROOT / d["file"]).read_text(encoding="utf-8") for name, d in compose["secrets"].items()}
        eccp, kicox = create_simulator("eccp"), create_simulator("kicox")
        assert settings["CLUSTERBRIDGE_ECCP_BASE_URL"] == f"http://127.0.0.1:{DEFAULT_PORTS['eccp']}"
        assert settings["CLUSTERBRIDGE_KICOX_BASE_URL"] == f"http://127.0.0.1:{DEFAULT_PORTS['kicox']}"
        assert settings["CLUSTERBRIDGE_ECCP_CLIENT_ID"] == eccp.client_id
        assert secrets["eccp_client_secret"] == eccp.client_secret
        assert secrets["kicox_service_key"] == kicox.service_key
        assert secrets["kicox_api_key"] == kicox.api_key
        Settings.model_validate({k.removeprefix("CLUSTERBRIDGE_").lower(): v for k, v in settings.items()})

    def test_the_demo_env_turns_both_profiles_on(self) -> None:
        assert set(_demo_env()["COMPOSE_PROFILES"].split(",")) == {"demo", "grafana"}

    def test_grafana_reads_the_ledger_once_postgresql_is_healthy(self) -> None:
        grafana = _compose(_demo_env())["services"]["grafana"]
        assert grafana["profiles"] == ["grafana"]
        assert grafana["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert grafana["environment"]["DASHBOARDS_DB_PASSWORD"] == "demo-dashboards"
        assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana_admin_password"
        assert re.fullmatch(r"grafana/grafana-oss:\d+\.\d+\.\d+", grafana["image"])

    def test_the_dashboards_role_is_created_with_the_ledger(self) -> None:
        postgres = _compose(_demo_env())["services"]["postgres"]
        assert "./deploy/postgres/initdb:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
        assert postgres["environment"]["DASHBOARDS_DB_PASSWORD"] == "demo-dashboards"
