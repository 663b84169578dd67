"""The daemon's endpoints, scraped over loopback: health, readiness, metrics and clean start and stop."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from clusterbridge.errors import ConfigurationError
from clusterbridge.ops.health import Readiness
from clusterbridge.ops.metrics import DirectionStatus, ledger_registry
from clusterbridge.ops.server import OpsServer

from .fakes import MemoryStatus

HOST = "127.0.0.1"


class Switches:
    """What the endpoints will be told, changed by a test while the server runs."""

    def __init__(self) -> None:
        self.alive = True
        self.readiness = Readiness(True)
        self.raise_on_ready = False

    def is_alive(self) -> bool:
        return self.alive

    def ready(self) -> Readiness:
        if self.raise_on_ready:
            raise RuntimeError("ledger gone")
        return self.readiness


@pytest.fixture
def switches() -> Switches:
    return Switches()


@pytest.fixture
def source() -> MemoryStatus:
    return MemoryStatus(runs=[("eccp-to-kicox", "success", 4)],
                        directions=[DirectionStatus("eccp-to-kicox", mirrors_live=12)])


@pytest.fixture
def server(switches: Switches, source: MemoryStatus) -> Iterator[OpsServer]:
    with OpsServer(HOST, 0, registry=ledger_registry(source), alive=switches.is_alive, ready=switches.ready) as ops:
        yield ops


@pytest.fixture
def get(server: OpsServer) -> Iterator[Callable[..., httpx.Response]]:
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield client.get


class TestHealth:
    """/healthz follows the liveness callable."""

    def test_alive_is_200(self, get: Callable[..., httpx.Response]) -> None:
        response = get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"alive": True}

    def test_dead_scheduler_is_503(self, get: Callable[..., httpx.Response], switches: Switches) -> None:
        switches.alive = False
        assert get("/healthz").status_code == 503


class TestReady:
    """/readyz answers 200 with ready true, or 503 with the reasons."""

    def test_ready(self, get: Callable[..., httpx.Response]) -> None:
        response = get("/readyz")
        assert (response.status_code, response.json()) == (200, {"ready": True})
        assert response.headers["content-type"] == "application/json"

    def test_not_ready_gives_reasons(self, get: Callable[..., httpx.Response], switches: Switches) -> None:
        switches.readiness = Readiness(False, ("database not reachable",))
        response = get("/readyz")
        assert (response.status_code, response.json()) == (503, {"ready": False, "reasons": ["database not reachable"]})

    def test_a_raising_check_is_not_ready(self, get: Callable[..., httpx.Response], switches: Switches) -> None:
        switches.raise_on_ready = True
        response = get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"ready": False, "reasons": ["readiness check failed (RuntimeError)"]}


class TestMetrics:
    """/metrics serves the registry in the text format a Prometheus server parses."""

    def test_parses_with_the_official_parser(self, get: Callable[..., httpx.Response], source: MemoryStatus) -> None:
        response = get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        families = {f.name: f for f in text_string_to_metric_families(response.text)}
        runs = families["clusterbridge_runs"]
        assert runs.type == "counter"
        assert [(s.labels, s.value) for s in runs.samples] == [({"direction": "eccp-to-kicox", "status": "success"}, 4)]
        # the next scrape reads the ledger again
        source.directions = [DirectionStatus("eccp-to-kicox", mirrors_live=13)]
        again = {f.name: f for f in text_string_to_metric_families(get("/metrics").text)}
        assert again["clusterbridge_mirrors_live"].samples[0].value == 13

    def test_openmetrics_when_asked(self, get: Callable[..., httpx.Response]) -> None:
        response = get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert response.headers["content-type"].startswith("application/openmetrics-text")
        assert response.text.endswith("# EOF\n")


class TestRouting:
    """Only the three paths exist."""

    @pytest.mark.parametrize("path", ["/", "/metrics/extra", "/health"])
    def test_other_paths_are_404(self, get: Callable[..., httpx.Response], path: str) -> None:
        assert get(path).status_code == 404

    def test_query_string_is_ignored(self, get: Callable[..., httpx.Response]) -> None:
        assert get("/healthz?verbose=1").status_code == 200


class TestLifecycle:
    """Start binds, stop releases the port, a busy port is an error that names the address."""

    def test_busy_port_names_host_and_port(self, server: OpsServer, switches: Switches) -> None:
        second = OpsServer(HOST, server.port, registry=ledger_registry(MemoryStatus()), alive=switches.is_alive,
                           ready=switches.ready)
        with pytest.raises(ConfigurationError, match=rf"{HOST}:{server.port}: address already in use"):
            second.start()

    def test_stop_releases_the_port(self, switches: Switches) -> None:
        ops = OpsServer(HOST, 0, registry=ledger_registry(MemoryStatus()), alive=switches.is_alive,
                        ready=switches.ready)
        ops.start()
        port = ops.port
        assert httpx.get(f"{ops.url}/healthz", timeout=5).status_code == 200
        ops.stop()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{HOST}:{port}/healthz", timeout=5)
        ops.stop()  # a second stop is harmless
        # a restarted daemon binds the same port at once
        with OpsServer(HOST, port, registry=ledger_registry(MemoryStatus()), alive=switches.is_alive,
                       ready=switches.ready) as again:
            assert httpx.get(f"{again.url}/healthz", timeout=5).status_code == 200
