from __future__ import annotations

import pytest

from clusterbridge.config import Settings
from tests.mapping.pipeline import Pipeline as Mapper


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(_env_file=None, translator="none")  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def mapper(settings: Settings) -> Mapper:
    return Mapper.load(settings)
