"""Ledger-derived metrics: computed from the status source at each scrape, in the Prometheus text format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from clusterbridge.ops.metrics import (
    RECORD_OUTCOMES,
    DirectionStatus,
    LedgerCollector,
    ledger_registry,
    render_metrics,
)

from .fakes import MemoryStatus

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EU_KR = "eccp-to-kicox"
KR_EU = "kicox-to-eccp"


def scrape(source: MemoryStatus, now: datetime = NOW) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Samples by name, then by sorted labels, as a scraper would parse the text."""
    text = render_metrics(ledger_registry(source, clock=lambda: now)).decode()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def by_direction(direction: str) -> tuple[tuple[str, str], ...]:
    return (("direction", direction),)


class TestCounters:
    """Runs and records are counters read from the run history."""

    def test_runs_by_direction_and_status(self) -> None:
        source = MemoryStatus(runs=[(EU_KR, "success", 7), (EU_KR, "partial", 2), (KR_EU, "failed", 1)])
        runs = scrape(source)["clusterbridge_runs_total"]
        assert runs == {
            (("direction", EU_KR), ("status", "success")): 7,
            (("direction", EU_KR), ("status", "partial")): 2,
            (("direction", KR_EU), ("status", "failed")): 1,
        }

    def test_every_outcome_has_a_series_from_the_start(self) -> None:
        source = MemoryStatus(records=[(EU_KR, "created", 40), (EU_KR, "quarantined", 3)],
                              directions=[DirectionStatus(KR_EU)])
        records = scrape(source)["clusterbridge_records_total"]
        assert records[(("direction", EU_KR), ("outcome", "created"))] == 40
        assert records[(("direction", EU_KR), ("outcome", "quarantined"))] == 3
        assert records[(("direction", EU_KR), ("outcome", "linked"))] == 0
        # a direction known only from its status still reports every outcome, at zero
        assert {labels[1][1] for labels in records if labels[0] == ("direction", KR_EU)} == set(RECORD_OUTCOMES)
        assert len(records) == 2 * len(RECORD_OUTCOMES)


class TestGauges:
    """Per-direction gauges come from the direction's status; freshness counts from the clean run's start."""

    def test_values_per_direction(self) -> None:
        source = MemoryStatus(directions=[
            DirectionStatus(EU_KR, last_success_at=NOW - timedelta(minutes=20), fresh_since=NOW - timedelta(hours=2),
                            quarantined=3, held_deletions=1, mirrors_live=120, running=True),
            DirectionStatus(KR_EU, mirrors_live=45),
        ])
        samples = scrape(source)
        eu = by_direction(EU_KR)
        assert samples["clusterbridge_last_success_timestamp_seconds"][eu] == (NOW - timedelta(minutes=20)).timestamp()
        assert samples["clusterbridge_freshness_seconds"][eu] == 7200
        assert samples["clusterbridge_quarantined_records"][eu] == 3
        assert samples["clusterbridge_held_deletions"][eu] == 1
        assert samples["clusterbridge_mirrors_live"][eu] == 120
        assert samples["clusterbridge_run_in_progress"][eu] == 1
        assert samples["clusterbridge_run_in_progress"][by_direction(KR_EU)] == 0
        assert samples["clusterbridge_mirrors_live"][by_direction(KR_EU)] == 45

    def test_freshness_grows_with_the_clock(self) -> None:
        source = MemoryStatus(directions=[DirectionStatus(EU_KR, fresh_since=NOW)])
        later = NOW + timedelta(minutes=5)
        assert scrape(source, now=later)["clusterbridge_freshness_seconds"][by_direction(EU_KR)] == 300

    def test_a_direction_never_completed_has_no_freshness_or_success_sample(self) -> None:
        samples = scrape(MemoryStatus(directions=[DirectionStatus(EU_KR, failing_since=NOW)]))
        assert by_direction(EU_KR) not in samples.get("clusterbridge_freshness_seconds", {})
        assert by_direction(EU_KR) not in samples.get("clusterbridge_last_success_timestamp_seconds", {})
        assert samples["clusterbridge_mirrors_live"][by_direction(EU_KR)] == 0

    def test_naive_times_are_refused(self) -> None:
        with pytest.raises(ValueError, match="fresh_since must be timezone-aware"):
            DirectionStatus(EU_KR, fresh_since=datetime(2025, 1, 1))


class TestScrape:
    """A scrape reads the ledger afresh each time and survives a ledger that cannot be read."""

    def test_each_scrape_reads_current_values(self) -> None:
        source = MemoryStatus(runs=[(EU_KR, "success", 1)])
        registry = ledger_registry(source, clock=lambda: NOW)
        assert b'clusterbridge_runs_total{direction="eccp-to-kicox",status="success"} 1.0' in render_metrics(registry)
        source.runs = [(EU_KR, "success", 2)]
        assert b'clusterbridge_runs_total{direction="eccp-to-kicox",status="success"} 2.0' in render_metrics(registry)

    def test_ledger_up_is_one_when_read(self) -> None:
        assert scrape(MemoryStatus())["clusterbridge_ledger_up"] == {(): 1}

    def test_unreadable_ledger_gives_ledger_up_zero_and_no_stale_values(self) -> None:
        source = MemoryStatus(runs=[(EU_KR, "success", 1)], broken=ConnectionError("database is away"))
        samples = scrape(source)
        assert samples == {"clusterbridge_ledger_up": {(): 0}}

    def test_registering_never_reads_the_ledger(self) -> None:
        source = MemoryStatus()
        ledger_registry(source)
        assert source.reads == 0

    def test_the_global_registry_is_left_alone(self) -> None:
        ledger_registry(MemoryStatus())
        assert "clusterbridge_runs" not in {m.name for m in REGISTRY.collect()}

    def test_the_collector_names_its_families(self) -> None:
        names = {family.name for family in LedgerCollector(MemoryStatus()).describe()}
        assert {"clusterbridge_runs", "clusterbridge_records", "clusterbridge_freshness_seconds",
                "clusterbridge_run_in_progress"} <= names
