"""HTTP process metrics: what the shared client does, counted per connector through its observer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from clusterbridge.config import HttpSettings
from clusterbridge.connectors.http import HttpObserver, ResilientClient
from clusterbridge.errors import RetryableError
from clusterbridge.ops.http_metrics import HttpMetrics
from clusterbridge.ops.metrics import render_metrics

BASE = "http://platform.test"


def settings(rate_limit: float = 1000) -> HttpSettings:
    return HttpSettings(base_url=BASE, rate_limit=rate_limit, max_attempts=3, backoff_initial=0.001,
                        backoff_max=0.01, max_retry_seconds=5)


def accept(response: httpx.Response) -> int:
    if response.status_code >= 500:
        raise RetryableError("eccp", f"HTTP {response.status_code}")
    return response.status_code


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    parsed = text_string_to_metric_families(render_metrics(registry).decode())
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in parsed for s in family.samples}


def requests(code: str, method: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return "clusterbridge_http_requests_total", (("code", code), ("connector", "eccp"), ("method", method))


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def client(router: respx.MockRouter, registry: CollectorRegistry, rate_limit: float = 1000) -> ResilientClient:
    return ResilientClient("eccp", settings(rate_limit), transport=httpx.MockTransport(router.handler),
                           observer=HttpMetrics(registry))


class TestRequests:
    """Every attempt is counted by connector, method and status code, and timed."""

    def test_retried_call_counts_each_attempt_and_the_retry(
        self, router: respx.MockRouter, registry: CollectorRegistry
    ) -> None:
        router.get("/items").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
        http = client(router, registry)
        assert http.call("GET", "/items", accept) == 200
        got = samples(registry)
        assert got[requests("503", "GET")] == 1
        assert got[requests("200", "GET")] == 1
        assert got["clusterbridge_http_retries_total", (("connector", "eccp"),)] == 1
        assert got["clusterbridge_http_request_duration_seconds_count", (("connector", "eccp"),)] == 2

    def test_transport_error_is_counted_by_its_name(
        self, router: respx.MockRouter, registry: CollectorRegistry
    ) -> None:
        router.post("/items").mock(side_effect=httpx.ConnectError("refused"))
        http = client(router, registry)
        with pytest.raises(RetryableError, match="gave up after retries"):
            http.call("POST", "/items", accept)
        got = samples(registry)
        assert got[requests("ConnectError", "POST")] == 3
        assert got["clusterbridge_http_retries_total", (("connector", "eccp"),)] == 2

    def test_a_connector_that_sent_shows_zero_retries_and_waits(
        self, router: respx.MockRouter, registry: CollectorRegistry
    ) -> None:
        router.get("/items").mock(return_value=httpx.Response(200))
        client(router, registry).call("GET", "/items", accept)
        got = samples(registry)
        assert got["clusterbridge_http_retries_total", (("connector", "eccp"),)] == 0
        assert got["clusterbridge_rate_limit_wait_seconds_total", (("connector", "eccp"),)] == 0


class TestRateLimitWaits:
    """Time held back by the client's own request window is counted, and kept out of the latency."""

    def test_waits_are_summed_and_not_timed_as_latency(
        self, router: respx.MockRouter, registry: CollectorRegistry
    ) -> None:
        router.get("/items").mock(return_value=httpx.Response(200))
        http = client(router, registry, rate_limit=2)  # two requests in any one second
        for _ in range(3):
            http.call("GET", "/items", accept)
        got = samples(registry)
        waited = got["clusterbridge_rate_limit_wait_seconds_total", (("connector", "eccp"),)]
        latency = got["clusterbridge_http_request_duration_seconds_sum", (("connector", "eccp"),)]
        assert waited >= 0.9  # the third waited until a second after the first was answered
        assert latency < waited / 2


class TestObserverHook:
    """An observer overrides only what it needs; the client tells it why a call is tried again."""

    def test_partial_observer_hears_retry_causes(self, router: respx.MockRouter) -> None:
        heard: list[tuple[str, str]] = []

        class Retries(HttpObserver):
            def retry(self, connector: str, cause: str) -> None:
                heard.append((connector, cause))

        router.get("/items").mock(side_effect=[httpx.Response(502), httpx.Response(200)])
        http = ResilientClient("eccp", settings(), transport=httpx.MockTransport(router.handler), observer=Retries())
        assert http.call("GET", "/items", accept) == 200
        assert heard == [("eccp", "eccp: HTTP 502")]
