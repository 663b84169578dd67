"""Fixtures of the reliability suite: the counts, the generated seed data, the connectors' settings for fast
trials, a fresh pair of platforms per trial, and the figures each goal measured (printed at the end of the
session and written under tests/reliability/results/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clusterbridge.simulators.generate import write_seed_files
from tests.reliability.support import Figures, Platforms, Scale, SeedData, make_platforms

RESULTS = Path(__file__).with_name("results")
REPORTED = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def scale() -> Scale:
    return Scale.from_env()


@pytest.fixture(scope="session")
def seed_data(scale: Scale, tmp_path_factory: pytest.TempPathFactory) -> SeedData:
    """`scale.records` synthetic natives per platform (generated once a session)."""
    eccp_file, kicox_file = write_seed_files(scale.records, tmp_path_factory.mktemp("seed"))
    return SeedData.read(eccp_file, kicox_file)


@pytest.fixture
def platforms(seed_data: SeedData, database_url: str, tmp_path: Path) -> Iterator[Platforms]:
    """Both platforms with the default fast settings; a test calls `start` for each trial."""
    made = make_platforms(seed_data, database_url, tmp_path)
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    measured = Figures(request.node.nodeid.split("::", 1)[-1])
    try:
        yield measured
    finally:
        if measured.values:
            measured.save(RESULTS)
            request.config.stash.setdefault(REPORTED, []).append(measured.line())


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(REPORTED, [])
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"(each test's figures in full: {RESULTS}/)")
