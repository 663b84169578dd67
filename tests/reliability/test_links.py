"""Rule 11 when a run sees only part of a side, as an incremental run does (found by the quota goal, whose
stopped run leaves the rest to an incremental one): a Korean cluster and its own ECCP profile are one cluster,
shown once on each platform whichever run first sees them together, and an edit never costs a native its
mirror."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from clusterbridge.store.tables import native_matches
from tests.reliability.support import (
    Figures,
    Platforms,
    SeedData,
    census,
    ledger,
    ledger_disagreements,
)

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

EDITS_PER_RUN = 90  # below the update budget (max(50, a fifth of the live mirrors)), a guard of its own


def matched_homes(database_url: str) -> dict[str, str]:
    """Korean natives linked to their own ECCP profile: home id → profile id."""
    with ledger(database_url) as engine, engine.connect() as conn:
        rows = conn.execute(sa.select(native_matches.c.home_id, native_matches.c.profile_id)
                            .where(native_matches.c.home_side == "kr"))
        return {r.home_id: r.profile_id for r in rows}


class TestLinksSeenIncrementally:
    """Rule 11 holds after incremental runs, not only after a full reconcile."""

    def test_a_korean_cluster_registered_after_its_eccp_profile_was_mirrored_shows_once_on_kicox(
        self, platforms: Platforms, seed_data: SeedData, figures: Figures
    ) -> None:
        platforms.start()
        assert platforms.cli("sync").code == 0
        homes = matched_homes(platforms.database_url)
        assert homes, "the seed data has Korean clusters with their own ECCP profile"
        # the same platforms, but those Korean clusters not registered on KICOX yet
        later = [c for c in seed_data.kicox["clusters"] if c["clstrId"] in homes]
        bridge = platforms.start(seed=SeedData(seed_data.eccp, {"clusters": [
            c for c in seed_data.kicox["clusters"] if c["clstrId"] not in homes]}))
        assert platforms.cli("sync").code == 0
        profiles_mirrored = {f"eccp:{p}" for p in homes.values()} & {f["extrlId"] for f in bridge.kicox_mirrors()}
        for cluster in later:
            registered = {k: v for k, v in cluster.items() if k != "updtDt"}  # registered now
            bridge.admin(bridge.kicox, "PUT", f"/clusters/{cluster['clstrId']}", registered)
        run = platforms.cli("sync", "--json")
        left = profiles_mirrored & {f["extrlId"] for f in bridge.kicox_mirrors()}
        problems = [] if run.code == 0 else [run.describe()]
        problems += census(bridge).problems() + ledger_disagreements(bridge)
        if left:
            problems.append(f"{len(left)} Korean clusters show twice on KICOX (their native and the mirror of their "
                            f"own ECCP profile), e.g. {sorted(left)[:3]}")
        full = platforms.cli("sync", "--full", "--json")
        figures["registered_later"] = len(later)
        figures["profiles_mirrored_before"] = len(profiles_mirrored)
        figures["shown_twice_after_the_incremental_run"] = len(left)
        figures["deleted_by_the_next_full_run"] = full.direction("eu-to-kr").get("linked", 0)
        figures["problems"] = problems
        assert not problems, "\n".join(problems)

    def test_edits_to_every_mirrored_korean_native_keep_their_mirrors_and_profiles_one_to_one(
        self, platforms: Platforms, figures: Figures
    ) -> None:
        bridge = platforms.start()
        assert platforms.cli("sync").code == 0
        before = matched_homes(platforms.database_url)
        mirrored = sorted(r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors())
        year = {clstr_id: 1900 + number % 100 for number, clstr_id in enumerate(mirrored)}
        codes = []
        for start in range(0, len(mirrored), EDITS_PER_RUN):
            for clstr_id in mirrored[start : start + EDITS_PER_RUN]:
                bridge.admin(bridge.kicox, "PATCH", f"/clusters/{clstr_id}", {"estblYear": str(year[clstr_id])})
            codes.append(platforms.cli("sync").code)
        shown = {r["attributes"]["field_external_id"]: r["attributes"] for r in bridge.eccp_mirrors()}
        lost = [c for c in mirrored if c not in shown]
        stale = [c for c in mirrored if c in shown and shown[c].get("field_year_established") != year[c]]
        after = matched_homes(platforms.database_url)
        taken = {home: (profile, [h for h, p in before.items() if p == profile]) for home, profile in after.items()
                 if home not in before}
        problems = [f"sync exit codes {codes}"] if set(codes) != {0} else []
        if lost:
            problems.append(f"{len(lost)} edited natives lost their ECCP mirror: "
                            + json.dumps({h: taken.get(h) for h in lost[:3]}))
        if stale:
            problems.append(f"{len(stale)} edits not on ECCP, e.g. {stale[:3]}")
        problems += census(bridge).problems() + ledger_disagreements(bridge)
        full = platforms.cli("sync", "--full", "--json")
        figures["edited"] = len(mirrored)
        figures["runs"] = len(codes)
        figures["mirrors_lost"] = len(lost)
        figures["profiles_given_to_a_second_native"] = {h: p for h, (p, _) in taken.items()}
        figures["recreated_by_the_next_full_run"] = full.direction("kr-to-eu").get("created", 0)
        figures["problems"] = problems
        assert not problems, "\n".join(problems)
