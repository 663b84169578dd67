"""What can be checked of the image and the wheel without a container engine."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from clusterbridge.config import Settings
from clusterbridge.ops.health import Readiness
from clusterbridge.ops.server import OpsServer

ROOT = Path(__file__).resolve().parents[1]
# a full Python version, the Debian release, and the sha256 digest of the image index
PINNED_BASE = re.compile(r"^python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}$")


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined and comments left out."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in _dockerfile().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def _args(keyword: str) -> list[str]:
    return [rest for kw, rest in _instructions() if kw == keyword]


def _key_values(text: str) -> dict[str, str]:
    """KEY=value pairs of an ENV, LABEL or ARG instruction."""
    return {k: v for k, _, v in (item.partition("=") for item in shlex.split(text))}


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in _args("ENV"):
        env.update(_key_values(rest))
    return env


def _build_args() -> dict[str, str]:
    args: dict[str, str] = {}
    for rest in _args("ARG"):
        args.update(_key_values(rest))
    return args


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def _copied_sources() -> list[str]:
    """Build-context paths the Dockerfile reads: COPY sources and RUN bind mounts from the context."""
    sources: list[str] = []
    for rest in _args("COPY"):
        if "--from" not in rest:
            sources += [part for part in rest.split()[:-1] if not part.startswith("--")]
    for rest in _args("RUN"):
        for mount in re.findall(r"--mount=(\S+)", rest):
            options = dict(part.partition("=")[::2] for part in mount.split(","))
            if options.get("type") == "bind" and "from" not in options:
                sources.append(options["source"])
    return sources


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class TestBaseImage:
    """The base image is the supported Python, pinned by tag and digest, the same for every stage."""

    def test_is_pinned_by_full_version_and_digest(self) -> None:
        assert PINNED_BASE.match(_build_args()["PYTHON_IMAGE"]), _build_args()["PYTHON_IMAGE"]

    def test_every_stage_starts_from_the_pin(self) -> None:
        stages = _args("FROM")
        assert len(stages) >= 2  # a build stage and a runtime stage
        for stage in stages:
            assert stage.split()[0] == "${PYTHON_IMAGE}", stage

    def test_the_pin_satisfies_requires_python(self) -> None:
        wanted = _pyproject()["project"]["requires-python"]
        minor = re.search(r"python:(3\.\d+)", _build_args()["PYTHON_IMAGE"])
        assert minor is not None
        assert wanted == f">={minor.group(1)}"

    def test_labels_name_the_base_the_pin_is_of(self) -> None:
        labels = _key_values(" ".join(_args("LABEL")))
        tag = _build_args()["PYTHON_IMAGE"].split("@")[0]
        assert labels["org.opencontainers.image.base.name"].endswith(f"/{tag}")


class TestBuild:
    """A multi-stage build from the pinned constraints, with everything the wheel carries."""

    def test_every_copied_source_exists(self) -> None:
        for source in _copied_sources():
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is missing"

    def test_nothing_copied_is_left_out_of_the_build_context(self) -> None:
        for source in _copied_sources():
            for pattern in _dockerignore():
                assert not fnmatch.fnmatch(source, pattern), f".dockerignore's {pattern} drops {source}"

    def test_secrets_and_local_state_stay_out_of_the_build_context(self) -> None:
        ignored = set(_dockerignore())
        assert {".git", ".venv", ".env", "*.env", "*.db", "deploy"} <= ignored

    def test_the_files_the_wheel_needs_are_copied(self) -> None:
        copied = {s.rstrip("/") for s in _copied_sources()}
        project = _pyproject()
        hatch = project["tool"]["hatch"]["build"]["targets"]["wheel"]
        needed = {"pyproject.toml", project["project"]["readme"], *hatch["force-include"]}
        needed |= {package.split("/")[0] for package in hatch["packages"]}
        assert needed <= copied, f"missing: {needed - copied}"

    def test_dependencies_come_from_the_constraints(self) -> None:
        pip = [rest for rest in _args("RUN") if re.search(r"\bpip (install|wheel)\b", rest)]
        assert pip
        for rest in pip:
            for command in re.split(r"&&", rest):
                if re.search(r"\bpip (install|wheel)\b", command):
                    assert re.search(r"-c \S*constraints\.txt", command), command

    def test_the_runtime_stage_installs_without_an_index(self) -> None:
        final = _dockerfile().rsplit("\nFROM ", 1)[1]
        assert "--no-index" in final
        assert '"clusterbridge==${VERSION}"' in final

    def test_version_label_follows_the_project(self) -> None:
        assert _build_args()["VERSION"] == _pyproject()["project"]["version"]
        labels = _key_values(" ".join(_args("LABEL")))
        assert labels["org.opencontainers.image.version"] == "${VERSION}"


class TestRuntime:
    """The image runs the daemon as a non-root user, logs JSON, serves its endpoints and refuses an ephemeral
    ledger."""

    def test_runs_as_a_numeric_non_root_user(self) -> None:
        users = _args("USER")
        assert users
        user = users[-1].split(":")[0]
        assert user.isdigit()  # numeric, so that runAsNonRoot can verify it
        assert user != "0"
        assert f"--uid {user}" in _dockerfile()

    def test_entry_point_is_the_console_script(self) -> None:
        text = _dockerfile()
        assert 'ENTRYPOINT ["clusterbridge"]' in text
        assert 'CMD ["daemon"]' in text
        assert _pyproject()["project"]["scripts"]["clusterbridge"] == "clusterbridge.cli:main"

    def test_oci_labels_are_present(self) -> None:
        labels = _key_values(" ".join(_args("LABEL")))
        for name in ("title", "description", "source", "licenses", "version"):
            assert f"org.opencontainers.image.{name}" in labels, name
        assert labels["org.opencontainers.image.title"] == "clusterbridge"
        assert labels["org.opencontainers.image.licenses"] == _pyproject()["project"]["license"]

    def test_environment_is_valid_settings(self) -> None:
        env = {k: v for k, v in _image_env().items() if k.startswith("CLUSTERBRIDGE_")}
        fields = {f"CLUSTERBRIDGE_{name.upper()}" for name in Settings.model_fields}
        assert set(env) <= fields
        settings = Settings.model_validate({k.removeprefix("CLUSTERBRIDGE_").lower(): v for k, v in env.items()})
        assert settings.log_format == "json"
        assert settings.http_host == "0.0.0.0"  # noqa: S104 - the container's interfaces; published with care
        assert settings.require_database_url is True

    def test_exposes_the_endpoints_port(self) -> None:
        port = Settings.model_fields["http_port"].default
        assert _args("EXPOSE") == [str(port)]
        assert _image_env()["CLUSTERBRIDGE_HTTP_PORT"] == str(port)

    def test_health_check_asks_healthz(self) -> None:
        (check,) = _args("HEALTHCHECK")
        assert "CMD" in check
        assert "/healthz" in check


def _health_command() -> list[str]:
    (check,) = _args("HEALTHCHECK")
    command: list[str] = json.loads(check.split("CMD", 1)[1])
    return command


@pytest.fixture
def endpoints() -> Iterator[tuple[OpsServer, list[bool]]]:
    alive = [True]
    server = OpsServer("127.0.0.1", 0, registry=CollectorRegistry(), alive=lambda: alive[0],
                       ready=lambda: Readiness(True))
    server.start()
    try:
        yield server, alive
    finally:
        server.stop()


class TestHealthCheckCommand:
    """The image's HEALTHCHECK command, run as Docker runs it, against the daemon's real endpoints."""

    def _run(self, port: int) -> int:
        python, *rest = _health_command()
        assert python == "python"
        env = {**os.environ, "CLUSTERBRIDGE_HTTP_PORT": str(port)}
        return subprocess.run([sys.executable, *rest], env=env, capture_output=True, timeout=30).returncode

    def test_healthy_while_the_scheduler_runs(self, endpoints: tuple[OpsServer, list[bool]]) -> None:
        server, _ = endpoints
        assert self._run(server.port) == 0

    def test_unhealthy_once_it_stopped(self, endpoints: tuple[OpsServer, list[bool]]) -> None:
        server, alive = endpoints
        alive[0] = False
        assert self._run(server.port) != 0

    def test_unhealthy_when_nothing_answers(self, endpoints: tuple[OpsServer, list[bool]]) -> None:
        server, _ = endpoints
        port = server.port
        server.stop()
        assert self._run(port) != 0


@pytest.mark.slow
def test_wheel_carries_the_defaults(tmp_path: Path) -> None:
    """A wheel install must run from any directory: it carries connectors/, mappings/ and migrations/."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir",
         str(tmp_path), str(ROOT)],
        check=True,
    )
    (wheel,) = tmp_path.glob("clusterbridge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("connectors", "mappings", "migrations"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                packed = f"clusterbridge/_defaults/{folder}/{path.relative_to(ROOT / folder).as_posix()}"
                assert packed in names, f"{packed} missing from the wheel"
