"""Fixtures for the simulator tests: a hand-moved clock, running simulators with small seeds, and clients
that speak to them over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from clusterbridge.simulators import EccpSimulator, KicoxSimulator
from clusterbridge.testing import FakeClock, kicox_cluster, kicox_seed, running
from tests.simulators.simulator_support import (
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    SERVICE_KEY,
    START,
    eccp_client,
    eccp_natives,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def eccp(clock: FakeClock) -> Iterator[EccpSimulator]:
    sim = EccpSimulator(
        seed=eccp_natives(3), client_id=CLIENT_ID, client_secret=CLIENT_SECRET, partner_code="kicox", clock=clock
    )
    with running(sim):
        yield sim


@pytest.fixture
def eccp_http(eccp: EccpSimulator) -> Iterator[httpx.Client]:
    """An ECCP client holding a fresh bearer token."""
    with eccp_client(eccp.url) as client:
        yield client


@pytest.fixture
def kicox(clock: FakeClock) -> Iterator[KicoxSimulator]:
    seed = kicox_seed(
        kicox_cluster("KC-000003", updtDt="20261015093000"),
        kicox_cluster("KC-000001", updtDt="20261015093000"),
        kicox_cluster("KC-000002", updtDt="20261014120000", useAt="N"),
    )
    sim = KicoxSimulator(seed=seed, service_key=SERVICE_KEY, api_key=API_KEY, clock=clock)
    with running(sim):
        yield sim


@pytest.fixture
def kicox_http(kicox: KicoxSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kicox.url, timeout=5) as client:
        yield client
