"""Goal 2, fault storm: with a fifth of all requests failing in every way the simulators can fail, the platforms
converge to exactly the state a clean sync gives (payload by payload) within a few runs, and nothing is ever
duplicated on the way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from clusterbridge.simulators import FaultSpec
from tests.reliability.support import (
    Figures,
    Platforms,
    Scale,
    SeedData,
    census,
    ledger_disagreements,
    make_platforms,
    mirror_contents,
)

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

MAX_RUNS = 5
# A fifth of ECCP's requests fail: 429 and 503 with Retry-After, resets, answers slower than the client waits
# (a timeout), truncated and garbled bodies. KICOX's read service fails as often, a good part of it in its own
# ways (gateway codes 01/02/04/05 and 99 as XML in HTTP 200, XML where JSON was asked for); its ingest API
# fails in the shared ways only, so less often.
ECCP_STORM = "error429=0.04,error503=0.04,reset=0.03,slow=0.03,truncate=0.03,garble=0.03"
KICOX_STORM = ("error429=0.02,error503=0.02,reset=0.02,slow=0.02,truncate=0.02,garble=0.02,"
               "gateway=0.04,gateway99=0.02,xml=0.02")
SLOW = "slow_delay=3,retry_after=1"
# the client gives up on an answer after 2 s (a slow one takes 3), and reads KICOX ten records a page so that
# its read service, where its own faults live, is asked often
SETTINGS = {"eccp.timeout": 2, "kicox.timeout": 2, "kicox.num_of_rows": 10}


@dataclass
class Storm:
    """One storm: the runs it took, what each showed, and what went wrong."""

    seed: int
    converged_after: int | None = None
    exit_codes: list[int] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def storm_platforms(seed_data: SeedData, database_url: str, tmp_path: Path) -> Iterator[Platforms]:
    made = make_platforms(seed_data, database_url, tmp_path, **SETTINGS)
    try:
        yield made
    finally:
        made.stop()


def differences(shown: dict[str, dict[str, dict[str, object]]],
                expected: dict[str, dict[str, dict[str, object]]]) -> list[str]:
    """How what the platforms show differs from the reference, mirror by mirror."""
    found: list[str] = []
    for direction, want in expected.items():
        have = shown[direction]
        for external_id in sorted(set(want) - set(have))[:5]:
            found.append(f"{direction}: no mirror of {external_id}")
        for external_id in sorted(set(have) - set(want))[:5]:
            found.append(f"{direction}: a mirror of {external_id} that a clean sync does not write")
        for external_id in sorted(set(want) & set(have)):
            fields = sorted(k for k in want[external_id].keys() | have[external_id].keys()
                            if want[external_id].get(k) != have[external_id].get(k))
            if fields:
                found.append(f"{direction}: {external_id} differs in {', '.join(fields[:5])}")
    return found


def storm(platforms: Platforms, seed: int, expected: dict[str, dict[str, dict[str, object]]]) -> Storm:
    """Sync under the storm until the platforms show what a clean sync shows, at most MAX_RUNS times."""
    result = Storm(seed)
    bridge = platforms.start(FaultSpec.parse(f"{ECCP_STORM},{SLOW},seed={seed}"),
                             FaultSpec.parse(f"{KICOX_STORM},{SLOW},seed={seed + 1}"))
    left: list[str] = []
    for number in range(1, MAX_RUNS + 1):
        run = platforms.cli("sync", "--json")
        result.exit_codes.append(run.code)
        if run.code not in (0, 3):
            result.problems.append(f"run {number}: {run.describe()}")
        duplicates = census(bridge).duplicates
        if duplicates:
            result.problems.append(f"run {number} left {duplicates} duplicate mirrors")
        left = differences(mirror_contents(bridge), expected) + ledger_disagreements(bridge)
        if not left and run.code == 0:
            result.converged_after = number
            break
    for sim in (bridge.eccp, bridge.kicox):
        stats = sim.stats()
        result.faults.update(stats["faults"])
        result.requests += stats["requests"]
    if result.converged_after is None:
        result.problems.append(f"not converged after {MAX_RUNS} runs: " + "; ".join(left[:8]))
    return result


class TestFaultStorm:
    """Under a storm of every fault, a few runs reach exactly the clean state, with nothing duplicated."""

    def test_platforms_converge_to_the_clean_state_within_five_runs(
        self, storm_platforms: Platforms, scale: Scale, figures: Figures
    ) -> None:
        clean = storm_platforms.start()
        reference = storm_platforms.cli("sync", "--json")
        assert reference.code == 0, reference.describe()
        expected = mirror_contents(clean)
        storms = [storm(storm_platforms, seed, expected) for seed in scale.seeds(scale.storms)]
        failed = [s for s in storms if s.problems]
        faults = sum((s.faults for s in storms), Counter[str]())
        requests = sum(s.requests for s in storms)
        figures["records_per_platform"] = scale.records
        figures["storms"] = len(storms)
        figures["failures"] = len(failed)
        figures["runs_to_converge"] = [s.converged_after for s in storms]
        figures["most_runs_to_converge"] = max((s.converged_after or MAX_RUNS + 1) for s in storms)
        figures["exit_codes"] = [s.exit_codes for s in storms]
        figures["requests"] = requests
        figures["faulty_share"] = round(sum(faults.values()) / max(requests, 1), 3)
        figures["faults_by_kind"] = dict(sorted(faults.items()))
        figures["expected_mirrors"] = {d: len(m) for d, m in expected.items()}
        figures["failing_storms"] = [{"seed": s.seed, "problems": s.problems[:10]} for s in failed]
        assert not failed, "\n".join(f"seed {s.seed}: " + "; ".join(s.problems[:5]) for s in failed) + (
            "\nrerun one with CLUSTERBRIDGE_RELIABILITY_SEED=<seed> CLUSTERBRIDGE_RELIABILITY_STORMS=1")
