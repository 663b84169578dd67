"""Fixtures of the file-exchange tests: one exchange folder per side."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def kr_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "kr"
    folder.mkdir()
    return folder


@pytest.fixture
def eu_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "eu"
    folder.mkdir()
    return folder
