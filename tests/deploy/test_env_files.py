"""The example env files: every setting documented, the defaults they show true, and no secret in them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from clusterbridge.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVICE_EXAMPLE = ROOT / "deploy" / "clusterbridge.env.example"
STACK_EXAMPLE = ROOT / "deploy" / "compose.env.example"
ASSIGNMENT = re.compile(r"^(#\s*)?(CLUSTERBRIDGE_\w+)=(.*)$")
SECRET_FIELDS = {name for name, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)}


def _assignments(path: Path) -> list[tuple[bool, str, str]]:
    """(commented, NAME, value) of each assignment line, commented out or not."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ASSIGNMENT.match(line.strip())
        if match:
            out.append((match.group(1) is not None, match.group(2), match.group(3)))
    return out


def _image_env() -> dict[str, str]:
    """ENV of the Dockerfile: the defaults a container starts with."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(item.partition("=")[::2] for item in shlex.split(line[4:]))
    return env


def _field(name: str) -> str:
    return name.removeprefix("CLUSTERBRIDGE_").removesuffix("_FILE").lower()


class TestServiceExample:
    """deploy/clusterbridge.env.example documents the whole environment of the service."""

    def test_every_setting_is_documented(self) -> None:
        text = SERVICE_EXAMPLE.read_text(encoding="utf-8")
        for name in Settings.model_fields:
            assert f"CLUSTERBRIDGE_{name.upper()}=" in text, f"CLUSTERBRIDGE_{name.upper()} is not documented"

    def test_every_variable_it_names_is_a_setting(self) -> None:
        text = SERVICE_EXAMPLE.read_text(encoding="utf-8")
        for name in set(re.findall(r"\bCLUSTERBRIDGE_\w+", text)):
            if name == "CLUSTERBRIDGE_" or name.endswith("_"):
                continue  # CLUSTERBRIDGE_<NAME>_FILE, the pattern itself
            assert _field(name) in Settings.model_fields, name

    def test_every_secret_names_its_file_variable(self) -> None:
        text = SERVICE_EXAMPLE.read_text(encoding="utf-8")
        for name in SECRET_FIELDS:
            assert f"CLUSTERBRIDGE_{name.upper()}_FILE" in text, name

    def test_holds_no_secret_value(self) -> None:
        for _, name, value in _assignments(SERVICE_EXAMPLE):
            if _field(name) in SECRET_FIELDS:
                assert value == "" or value.startswith("/run/secrets/"), f"{name} has a value"

    def test_commented_values_are_the_defaults_in_effect_in_the_container(self) -> None:
        image = _image_env()
        defaults = Settings.model_validate({_field(k): v for k, v in image.items() if k.startswith("CLUSTERBRIDGE_")})
        for commented, name, value in _assignments(SERVICE_EXAMPLE):
            if not commented or not value or name.endswith("_FILE"):
                continue
            shown = Settings.model_validate({_field(name): value})
            assert getattr(shown, _field(name)) == getattr(defaults, _field(name)), name

    def test_values_to_fill_in_are_valid_settings(self) -> None:
        filled = {_field(n): v for commented, n, v in _assignments(SERVICE_EXAMPLE) if not commented and v}
        assert filled  # the platforms' base URLs, at least
        Settings.model_validate(filled)


class TestStackExample:
    """deploy/compose.env.example names every variable compose.yaml reads, with no password filled in."""

    def test_every_compose_variable_is_documented(self) -> None:
        text = STACK_EXAMPLE.read_text(encoding="utf-8")
        used = set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text(encoding="utf-8")))
        for name in used:
            assert re.search(rf"^#?\s*{name}=", text, flags=re.MULTILINE), name

    @pytest.mark.parametrize("name", ["POSTGRES_PASSWORD", "DASHBOARDS_DB_PASSWORD"])
    def test_passwords_are_left_empty(self, name: str) -> None:
        lines = STACK_EXAMPLE.read_text(encoding="utf-8").splitlines()
        assert f"{name}=" in lines
