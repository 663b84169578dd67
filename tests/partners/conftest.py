from __future__ import annotations

import pytest

from clusterbridge.config import Settings
from clusterbridge.partners import Matcher


@pytest.fixture(scope="session")
def matcher() -> Matcher:
    return Matcher.load(Settings(_env_file=None))  # type: ignore[call-arg]
