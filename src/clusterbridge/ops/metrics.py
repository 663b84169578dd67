"""Metrics the ledger already knows, computed at scrape time, and the one Prometheus text rendering.

The families here are read from a `StatusSource` (the ledger) on every scrape, so `/metrics` of the daemon
and the one-shot `clusterbridge metrics` of the CLI say the same thing, and a restart loses nothing.
Process counters of the HTTP layer live in `clusterbridge.ops.http_metrics`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = structlog.get_logger(__name__)

# What `render_metrics` produces: the Prometheus text format, version 0.0.4.
METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# Every outcome a record can have in a run; each direction reports all of them, zeros included, so that a
# dashboard's rate() has a series to start from before the first record of that kind.
RECORD_OUTCOMES = ("created", "updated", "unchanged", "deleted", "linked", "skipped", "quarantined")


@dataclass(frozen=True)
class DirectionStatus:
    """One direction as the ledger sees it now: what the gauges show and the readiness check judges.

    `last_success_at`: when the last successful run of the direction ended. `fresh_since`: when the last run
    began that completed the direction without leaving records behind (nothing quarantined, nothing held).
    `failing_since`: when the first of the failed runs began that have followed the last run that did not
    fail; None while the direction is not failing. Times are timezone-aware.
    """

    direction: str
    last_success_at: datetime | None = None
    fresh_since: datetime | None = None
    failing_since: datetime | None = None
    quarantined: int = 0
    held_deletions: int = 0
    mirrors_live: int = 0
    running: bool = False

    def __post_init__(self) -> None:
        for name in ("last_success_at", "fresh_since", "failing_since"):
            value: datetime | None = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"DirectionStatus.{name} must be timezone-aware")


class StatusSource(Protocol):
    """What the metrics and the readiness check read from the ledger; each call is one cheap query."""

    def run_counts(self) -> Iterable[tuple[str, str, int]]:
        """(direction, final status, runs) over the finished runs; a run in progress is not counted yet."""
        ...

    def record_counts(self) -> Iterable[tuple[str, str, int]]:
        """(direction, outcome, records) summed over the finished runs; outcomes are `RECORD_OUTCOMES`."""
        ...

    def direction_status(self) -> Iterable[DirectionStatus]:
        """One entry per direction the ledger knows."""
        ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class LedgerCollector(Collector):
    """Reads a `StatusSource` on every collect; when the ledger cannot be read it says so in
    `clusterbridge_ledger_up` instead of failing the whole scrape."""

    def __init__(self, source: StatusSource, clock: Callable[[], datetime] = utc_now) -> None:
        self._source = source
        self._clock = clock

    def describe(self) -> Iterable[Metric]:
        # names only, so that registering the collector never touches the database
        return list(_Families().all())

    def collect(self) -> Iterable[Metric]:
        families = _Families()
        try:
            runs = list(self._source.run_counts())
            records = list(self._source.record_counts())
            statuses = list(self._source.direction_status())
        except Exception as exc:  # whatever the database raises, the scrape reports ledger_up 0 and goes on
            log.warning("metrics.ledger_unreadable", error=f"{type(exc).__name__}: {exc}")
            families.up.add_metric([], 0)
            return [families.up]
        families.up.add_metric([], 1)
        for direction, status, count in sorted(runs):
            families.runs.add_metric([direction, status], count)
        self._add_records(families, records, statuses)
        now = self._clock()
        for s in sorted(statuses, key=lambda s: s.direction):
            labels = [s.direction]
            if s.last_success_at is not None:
                families.last_success.add_metric(labels, s.last_success_at.timestamp())
            if s.fresh_since is not None:
                families.freshness.add_metric(labels, max(0.0, (now - s.fresh_since).total_seconds()))
            families.quarantined.add_metric(labels, s.quarantined)
            families.held.add_metric(labels, s.held_deletions)
            families.mirrors.add_metric(labels, s.mirrors_live)
            families.running.add_metric(labels, 1 if s.running else 0)
        return list(families.all())

    @staticmethod
    def _add_records(
        families: _Families, records: list[tuple[str, str, int]], statuses: list[DirectionStatus]
    ) -> None:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for direction in {d for d, _, _ in records} | {s.direction for s in statuses}:
            for outcome in RECORD_OUTCOMES:
                counts[direction, outcome] = 0
        for direction, outcome, count in records:
            counts[direction, outcome] += count
        for (direction, outcome), count in sorted(counts.items()):
            families.records.add_metric([direction, outcome], count)


class _Families:
    """A fresh set of the ledger's metric families, filled once per collect."""

    def __init__(self) -> None:
        per_direction = ["direction"]
        self.up = GaugeMetricFamily(
            "clusterbridge_ledger_up", "1 when the ledger could be read for this scrape, else 0."
        )
        self.runs = CounterMetricFamily(
            "clusterbridge_runs", "Finished sync runs in the ledger, by direction and status.",
            labels=["direction", "status"],
        )
        self.records = CounterMetricFamily(
            "clusterbridge_records", "Records handled by finished runs, by direction and outcome.",
            labels=["direction", "outcome"],
        )
        self.last_success = GaugeMetricFamily(
            "clusterbridge_last_success_timestamp_seconds", "When the last successful run of the direction ended.",
            labels=per_direction,
        )
        self.freshness = GaugeMetricFamily(
            "clusterbridge_freshness_seconds",
            "Seconds since the start of the last run that completed the direction without leaving records behind.",
            labels=per_direction,
        )
        self.quarantined = GaugeMetricFamily(
            "clusterbridge_quarantined_records", "Records in quarantine, waiting for a later run.",
            labels=per_direction,
        )
        self.held = GaugeMetricFamily(
            "clusterbridge_held_deletions", "Deletions held by the guard rails until an operator decides.",
            labels=per_direction,
        )
        self.mirrors = GaugeMetricFamily(
            "clusterbridge_mirrors_live", "Mirrors live on the target platform.", labels=per_direction
        )
        self.running = GaugeMetricFamily(
            "clusterbridge_run_in_progress", "1 while a run of the direction is in progress, else 0.",
            labels=per_direction,
        )

    def all(self) -> Iterator[Metric]:
        yield from (
            self.up, self.runs, self.records, self.last_success, self.freshness, self.quarantined, self.held,
            self.mirrors, self.running,
        )


def ledger_registry(source: StatusSource, clock: Callable[[], datetime] = utc_now) -> CollectorRegistry:
    """A registry of its own holding the ledger's families: the CLI's one-shot output, and the daemon's base
    (which adds the HTTP process metrics with `HttpMetrics(registry)`)."""
    registry = CollectorRegistry()
    registry.register(LedgerCollector(source, clock))
    return registry


def render_metrics(registry: Collector) -> bytes:
    """Everything `registry` holds, in the Prometheus text format (`METRICS_CONTENT_TYPE`)."""
    return generate_latest(registry)
