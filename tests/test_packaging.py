"""What can be checked of the image and the wheel without a container engine."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


class TestDockerfile:
    def test_base_image_is_the_supported_python(self) -> None:
        bases = re.findall(r"^FROM\s+(\S+)", _dockerfile(), flags=re.MULTILINE)
        assert bases
        assert all(base.startswith("python:3.11-slim") for base in bases)

    def test_runs_as_a_non_root_user(self) -> None:
        users = re.findall(r"^USER\s+(\S+)", _dockerfile(), flags=re.MULTILINE)
        assert users
        assert users[-1] not in {"root", "0"}

    def test_entry_point_is_the_console_script(self) -> None:
        text = _dockerfile()
        assert 'ENTRYPOINT ["clusterbridge"]' in text
        assert 'CMD ["daemon"]' in text
        pyproject = (ROOT / "pyproject.toml").read_text()
        assert 'clusterbridge = "clusterbridge.cli:main"' in pyproject

    def test_every_copied_source_exists(self) -> None:
        for line in _dockerfile().splitlines():
            if line.startswith("COPY") and "--from" not in line:
                for source in line.split()[1:-1]:
                    assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is missing"

    def test_dependencies_are_installed_from_the_constraints(self) -> None:
        assert "-c /tmp/constraints.txt" in _dockerfile()


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
