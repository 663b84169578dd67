"""Goal 4, quota: when KICOX's daily call quota runs out in the middle of a run, the run stops as partial (exit 3)
with an anomaly that says so, asks the read service nothing more (no retry storm), and the first run after the
quota renews takes up the rest: nothing missing, nothing duplicated, nothing written twice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from clusterbridge.store.tables import sync_runs
from tests.e2e.harness import Bridge
from tests.reliability.support import (
    CliRun,
    Figures,
    Platforms,
    SeedData,
    census,
    ledger,
    ledger_disagreements,
    make_platforms,
)

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

PAGE = 10  # KICOX records a read-service page, so that a listing takes many calls
# edited natives in the incremental case: below the update budget (a guard of its own, tested elsewhere)
EDITS = 90
KR_TO_EU = "kr-to-eu"


@pytest.fixture
def quota_platforms(seed_data: SeedData, database_url: str, tmp_path: Path) -> Iterator[Platforms]:
    made = make_platforms(seed_data, database_url, tmp_path, **{"kicox.num_of_rows": PAGE})
    try:
        yield made
    finally:
        made.stop()


def set_quota(bridge: Bridge, calls: int | None) -> None:
    """The day's quota, counting from now (the simulator's admin API, as an operator of the platform would)."""
    bridge.admin(bridge.kicox, "POST", "/quota", {"daily_quota": calls, "reset_used": True})


def reads(platforms: Platforms) -> int:
    return sum(1 for s in platforms.tap.seen() if s.quota_read)


def stopped_on_quota(platforms: Platforms, run: CliRun, calls: int, since: int) -> tuple[int, list[str]]:
    """Read-service calls after the one the quota refused, and what is wrong with how the run stopped."""
    problems: list[str] = []
    after = reads(platforms) - since - (calls + 1)
    if run.code != 3:
        problems.append(f"the run did not end as partial: {run.describe()}")
    direction = run.direction(KR_TO_EU)
    if direction.get("status") != "partial" or not any("quota" in a for a in direction.get("anomalies", [])):
        problems.append(f"{KR_TO_EU} ended {direction.get('status')} with anomalies {direction.get('anomalies')}")
    with ledger(platforms.database_url) as engine, engine.connect() as conn:
        stored = conn.execute(sa.select(sync_runs.c.anomalies).where(sync_runs.c.direction == KR_TO_EU)
                              .order_by(sync_runs.c.id.desc()).limit(1)).scalar_one()
    if not stored or "daily call quota" not in " ".join(json.loads(stored)):
        problems.append(f"sync_runs does not record the quota anomaly: {stored}")
    if after:
        problems.append(f"{after} read-service calls after the quota was spent")
    return after, problems


def completed(bridge: Bridge, run: CliRun) -> list[str]:
    problems = [] if run.code == 0 else [run.describe()]
    return problems + census(bridge).problems() + ledger_disagreements(bridge)


class TestQuota:
    """A quota spent mid-run stops the run cleanly, and the next run after it renews completes the work."""

    def test_spent_during_the_first_sync(self, quota_platforms: Platforms, figures: Figures) -> None:
        bridge = quota_platforms.start()
        pages = -(-sum(1 for _ in bridge.kicox.clusters()) // PAGE)
        calls = pages // 2
        set_quota(bridge, calls)
        first = quota_platforms.cli("sync", "--json")
        after, problems = stopped_on_quota(quota_platforms, first, calls, since=0)
        figures["requests_after_the_quota_answer"] = self.requests_after(quota_platforms, calls)
        mirrors_then = len(bridge.eccp_mirrors())
        set_quota(bridge, None)
        before = reads(quota_platforms)
        resumed = quota_platforms.cli("sync", "--json")
        problems += completed(bridge, resumed)
        created = first.direction(KR_TO_EU).get("created", 0) + resumed.direction(KR_TO_EU).get("created", 0)
        if created != len(bridge.eccp_mirrors()):
            problems.append(f"{created} mirrors created on ECCP over both runs for {len(bridge.eccp_mirrors())} shown")
        if resumed.direction(KR_TO_EU).get("updated", 0):
            problems.append(f"the resumed run rewrote {resumed.direction(KR_TO_EU)['updated']} mirrors")
        figures["listing_pages"] = pages
        figures["quota_calls"] = calls
        figures["stopped_run_exit"] = first.code
        figures["stopped_run_anomalies"] = first.direction(KR_TO_EU).get("anomalies")
        figures["read_calls_after_the_quota_answer"] = after
        figures["mirrors_after_the_stopped_run"] = mirrors_then
        figures["resumed_run_exit"] = resumed.code
        figures["resumed_run_read_calls"] = reads(quota_platforms) - before
        figures["resumed_run_created"] = resumed.direction(KR_TO_EU).get("created", 0)
        figures["mirrors_in_the_end"] = len(bridge.eccp_mirrors())
        figures["problems"] = problems
        assert not problems, "\n".join(problems)

    def test_spent_during_an_incremental_run(self, quota_platforms: Platforms, figures: Figures) -> None:
        bridge = quota_platforms.start()
        assert quota_platforms.cli("sync").code == 0
        time.sleep(1.1)  # the edits get a later second than the sync's cursor
        # natives with a mirror (not rule-11 links), each given a founding year it did not have
        edited = sorted(r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors())[:EDITS]
        year = {clstr_id: 1900 + number % 100 for number, clstr_id in enumerate(edited)}
        for clstr_id in edited:
            bridge.admin(bridge.kicox, "PATCH", f"/clusters/{clstr_id}", {"estblYear": str(year[clstr_id])})
        calls = EDITS // PAGE // 2
        set_quota(bridge, calls)
        before = reads(quota_platforms)
        stopped = quota_platforms.cli("sync", "--json")
        after, problems = stopped_on_quota(quota_platforms, stopped, calls, since=before)
        set_quota(bridge, None)
        before = reads(quota_platforms)
        resumed = quota_platforms.cli("sync", "--json")
        problems += completed(bridge, resumed)
        updated = stopped.direction(KR_TO_EU).get("updated", 0) + resumed.direction(KR_TO_EU).get("updated", 0)
        if updated != len(edited):
            problems.append(f"{updated} mirrors updated over both runs for {len(edited)} edited natives")
        shown = {r["attributes"]["field_external_id"]: r["attributes"] for r in bridge.eccp_mirrors()}
        stale = [c for c in edited if shown.get(c, {}).get("field_year_established") != year[c]]
        if stale:
            problems.append(f"{len(stale)} edits not on ECCP, e.g. {stale[:3]}")
        figures["edited"] = len(edited)
        figures["quota_calls"] = calls
        figures["stopped_run_exit"] = stopped.code
        figures["stopped_run_updated"] = stopped.direction(KR_TO_EU).get("updated", 0)
        figures["read_calls_after_the_quota_answer"] = after
        figures["resumed_run_exit"] = resumed.code
        figures["resumed_run_read_calls"] = reads(quota_platforms) - before
        figures["resumed_run_updated"] = resumed.direction(KR_TO_EU).get("updated", 0)
        figures["problems"] = problems
        assert not problems, "\n".join(problems)

    @staticmethod
    def requests_after(platforms: Platforms, calls: int) -> dict[str, int]:
        """Every API request after the refused call, by kind (ingest and ECCP requests are not under quota)."""
        seen = platforms.tap.seen()
        refused = [i for i, s in enumerate(seen) if s.quota_read][calls]
        later = seen[refused + 1 :]
        return {"read_service": sum(1 for s in later if s.quota_read),
                "kicox_ingest": sum(1 for s in later if s.platform == "kicox" and not s.quota_read),
                "eccp": sum(1 for s in later if s.platform == "eccp")}
