"""Guard rails: a short listing or a mass change on one platform never wipes or rewrites the other."""

from __future__ import annotations

import json

import pytest

from tests.e2e.harness import Bridge
from tests.e2e.test_sync import linked, live_korean

pytestmark = pytest.mark.slow


def pending(bridge: Bridge) -> list[dict[str, object]]:
    out = bridge.cli("deletions", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def last_run_anomalies(bridge: Bridge, direction: str) -> list[str]:
    status = json.loads(bridge.cli("status", "--json").stdout)
    run = next(r for r in status["runs"] if r["direction"] == direction)
    return run["anomalies"]


class TestUntrustedListings:
    def test_eccp_listing_that_lies_about_its_count_deletes_nothing(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        before = len(bridge.kicox_mirrors())
        bridge.admin(bridge.eccp, "POST", "/listing", {"count_offset": 7})
        done = bridge.cli("sync", "--full")
        assert done.returncode == 3, done.stdout + done.stderr
        assert len(bridge.kicox_mirrors()) == before
        assert any("reported" in a for a in last_run_anomalies(bridge, "eu-to-kr"))

    def test_truncated_eccp_listing_holds_deletions_until_approved(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        before = {f["extrlId"] for f in bridge.kicox_mirrors()}
        bridge.admin(bridge.eccp, "POST", "/listing", {"drop_pages": [1]})
        done = bridge.cli("sync", "--full")
        assert done.returncode == 3, done.stdout + done.stderr
        assert {f["extrlId"] for f in bridge.kicox_mirrors()} == before
        held = pending(bridge)
        assert held
        assert {h["direction"] for h in held} == {"eu-to-kr"}
        status = json.loads(bridge.cli("status", "--json").stdout)
        assert {d["direction"]: d for d in status["directions"]}["eu-to-kr"]["pending_deletions"] == len(held)
        approved = bridge.cli("deletions", "approve", "--all")
        assert approved.returncode == 0, approved.stderr
        after = {f["extrlId"] for f in bridge.kicox_mirrors()}
        assert before - after == {h["external_id"] for h in held}
        assert pending(bridge) == []
        bridge.admin(bridge.eccp, "POST", "/listing", {})
        assert bridge.sync(full=True).exit_code == 0
        assert {f["extrlId"] for f in bridge.kicox_mirrors()} == before

    def test_empty_kicox_response_deletes_nothing(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        before = len(bridge.eccp_mirrors())
        links = linked(bridge)
        assert links[0]  # the sample data holds rule-11 pairs
        bridge.admin(bridge.kicox, "POST", "/listing", {"empty": True})
        done = bridge.cli("sync", "--full")
        assert done.returncode == 3, done.stdout + done.stderr
        assert len(bridge.eccp_mirrors()) == before
        assert linked(bridge) == links  # an untrusted listing settles no rule-11 pair afresh
        assert last_run_anomalies(bridge, "kr-to-eu")


class TestDeletionThreshold:
    def test_mass_withdrawal_waits_for_approval_and_a_comeback_clears_itself(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        before = {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        withdrawn = sorted(set(live_korean(bridge)) & before)[:12]
        for clstr_id in withdrawn:
            bridge.admin(bridge.kicox, "POST", f"/clusters/{clstr_id}/withdraw")
        done = bridge.cli("sync")
        assert done.returncode == 3, done.stdout + done.stderr
        assert {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()} == before
        held = pending(bridge)
        assert sorted(h["native_id"] for h in held) == withdrawn
        assert all(h["reason"] for h in held)
        listing = bridge.cli("deletions")
        assert withdrawn[0] in listing.stdout

        comeback = withdrawn[0]
        bridge.admin(bridge.kicox, "PATCH", f"/clusters/{comeback}", {"useAt": "Y"})
        bridge.cli("sync")
        still = pending(bridge)
        assert comeback not in {h["native_id"] for h in still}
        assert len(still) == len(withdrawn) - 1

        approved = bridge.cli("deletions", "approve", "--all")
        assert approved.returncode == 0, approved.stderr
        after = {r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors()}
        assert before - after == set(withdrawn[1:])

    def test_rejected_deletions_keep_their_mirrors(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        for clstr_id in sorted(live_korean(bridge))[:12]:
            bridge.admin(bridge.kicox, "POST", f"/clusters/{clstr_id}/withdraw")
        before = len(bridge.eccp_mirrors())
        bridge.cli("sync")
        ids = [str(h["id"]) for h in pending(bridge)]
        rejected = bridge.cli("deletions", "reject", *ids)
        assert rejected.returncode == 0, rejected.stderr
        assert len(bridge.eccp_mirrors()) == before
        assert pending(bridge) == []


class TestUpdateBudget:
    def test_mass_update_stops_before_writing_unless_allowed(self, bridge: Bridge) -> None:
        assert bridge.sync(full=True).exit_code == 0
        bridge.env.update(CLUSTERBRIDGE_UPDATE_BUDGET_COUNT="3", CLUSTERBRIDGE_UPDATE_BUDGET_SHARE="0")
        targets = sorted(live_korean(bridge))[:6]
        for clstr_id in targets:
            bridge.admin(bridge.kicox, "PATCH", f"/clusters/{clstr_id}", {"estblYear": "1999"})
        writes = bridge.eccp.stats()["writes"]
        stopped = bridge.cli("sync")
        assert stopped.returncode == 1
        assert "--allow-mass-update" in stopped.stdout + stopped.stderr
        assert bridge.eccp.stats()["writes"] == writes
        status = json.loads(bridge.cli("status", "--json").stdout)
        assert {d["direction"]: d for d in status["directions"]}["kr-to-eu"]["budget_stopped"] is True
        allowed = bridge.cli("sync", "--allow-mass-update")
        assert allowed.returncode == 0, allowed.stdout + allowed.stderr
        years = {r["attributes"]["field_external_id"]: r["attributes"]["field_year_established"]
                 for r in bridge.eccp_mirrors()}
        assert all(years[t] == 1999 for t in targets if t in years)

    def test_initial_backfill_is_not_limited(self, bridge: Bridge) -> None:
        bridge.env.update(CLUSTERBRIDGE_UPDATE_BUDGET_COUNT="1", CLUSTERBRIDGE_UPDATE_BUDGET_SHARE="0")
        done = bridge.cli("sync")
        assert done.returncode == 0, done.stdout + done.stderr
        assert len(bridge.eccp_mirrors()) > 30
