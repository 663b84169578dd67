"""Process counters of the HTTP layer, fed by the connectors' `ResilientClient` through its observer hook."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram

from clusterbridge.connectors.http import HttpObserver

# Seconds; platform calls time out after 20 s by default, so the top buckets still tell slow from stuck.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)


class HttpMetrics(HttpObserver):
    """Counts attempts, retries and rate-limit waits per connector into `registry` (never the global one)."""

    def __init__(self, registry: CollectorRegistry, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.requests = Counter(
            "clusterbridge_http_requests",
            "HTTP attempts sent to a platform, by connector, method and status code (or transport error name).",
            ["connector", "method", "code"],
            registry=registry,
        )
        self.duration = Histogram(
            "clusterbridge_http_request_duration_seconds",
            "Seconds from sending an attempt to its response or error, rate-limit waits excluded.",
            ["connector"],
            buckets=buckets,
            registry=registry,
        )
        self.retries = Counter(
            "clusterbridge_http_retries",
            "Calls tried again after a passing fault, by connector.",
            ["connector"],
            registry=registry,
        )
        self.rate_waits = Counter(
            "clusterbridge_rate_limit_wait_seconds",
            "Seconds requests were held back to keep the client's own rate limit, by connector.",
            ["connector"],
            registry=registry,
        )

    def request(self, connector: str, method: str, status_or_error: int | str, seconds: float) -> None:
        self.requests.labels(connector, method.upper(), str(status_or_error)).inc()
        self.duration.labels(connector).observe(seconds)
        # a connector that has sent anything shows its retry and wait series, at zero until they happen
        self.retries.labels(connector)
        self.rate_waits.labels(connector)

    def retry(self, connector: str, cause: str) -> None:
        # the cause stays out of the labels: free text would make a series per message
        self.retries.labels(connector).inc()

    def rate_wait(self, connector: str, seconds: float) -> None:
        self.rate_waits.labels(connector).inc(seconds)
