"""Goal 1, crash anywhere (rule 3): a first sync of both platforms under 5 % faults, stopped at an instant drawn
from the trial's seed (SIGKILL, or SIGTERM for a graceful stop), is completed by a clean sync and a full sync
with exactly one mirror per live native on each platform, and a ledger that agrees with both."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from statistics import mean

import pytest

from clusterbridge.simulators import FaultSpec
from tests.e2e.harness import Bridge
from tests.reliability.support import (
    CliRun,
    Figures,
    Platforms,
    Scale,
    Seen,
    Spawned,
    census,
    ledger_disagreements,
    wait_for_lock,
    write_requests,
)

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

FAULTS = "error503=0.02,reset=0.01,truncate=0.01,garble=0.01"
# Where a trial's signal lands, in turn: while the process starts (imports, settings, lock, ledger), while it
# pulls and plans, while it writes, and inside a platform's answer to a write it already applied.
STRATA = ("start-up", "pulling", "writing", "mid-answer")
WAIT = 300.0  # seconds any one phase may take before the trial counts as hung


@dataclass(frozen=True)
class RunShape:
    """When things happen in an uninterrupted run, in seconds after its process started, and its writes."""

    first_request: float
    first_write: float
    end: float
    writes: int


@dataclass(frozen=True)
class SignalPoint:
    """Where in the run the trial's signal lands: a stratum, and a position within it (0 to 1)."""

    stratum: str
    position: float

    @classmethod
    def draw(cls, seed: int) -> SignalPoint:
        return cls(STRATA[seed % len(STRATA)], random.Random(seed).random())


@dataclass
class Trial:
    """What one trial did and found."""

    seed: int
    point: SignalPoint
    landed: str = ""
    stop_code: int | None = None
    stop_seconds: float = 0.0
    duplicates_at_stop: int = 0
    lock_wait: float = 0.0
    codes: tuple[int, int] = (0, 0)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def faults(seed: int) -> FaultSpec:
    return FaultSpec.parse(f"{FAULTS},seed={seed}")


def calibrate(platforms: Platforms, seed: int) -> RunShape:
    """One uninterrupted first sync under the same faults: how long its phases take."""
    platforms.start(faults(seed), faults(seed))
    run = platforms.spawn("sync", name="calibration")
    code = run.wait(timeout=WAIT)
    ended = time.monotonic() - run.started
    assert code in (0, 3), f"an uninterrupted run under faults failed: {run.stderr()[-1500:]}"
    seen = platforms.tap.seen()
    writes = [s for s in seen if s.write]
    assert writes, "the calibration run sent no write"
    return RunShape(seen[0].at - run.started, writes[0].at - run.started, ended, len(writes))


def landed(run: Spawned, seen: list[Seen]) -> str:
    if not run.alive():
        return "after the end"
    if not seen:
        return "start-up"
    return "writing" if write_requests(seen) else "pulling"


def deliver(platforms: Platforms, run: Spawned, point: SignalPoint, shape: RunShape, signum: int) -> str:
    """Send the signal where the point says; returns where in the run it landed."""
    tap = platforms.tap
    if point.stratum == "mid-answer":
        number = 1 + int(point.position * max(shape.writes - 1, 0))
        where: list[str] = []

        def strike() -> None:
            where.append(landed(run, tap.seen()))
            os.kill(run.pid, signum)
            if signum == signal.SIGKILL:
                run.wait(timeout=30)  # gone before this answer leaves: the client never hears it

        tap.on_write(number, strike)
        tap.wait_for(lambda seen: write_requests(seen) >= number, WAIT, run.alive)
        if where:
            return "writing, inside an answer"
        os.kill(run.pid, signum)  # the run sent fewer writes than the calibration run
        return landed(run, tap.seen())
    if point.stratum == "start-up":
        time.sleep(point.position * shape.first_request)
    elif point.stratum == "pulling":
        tap.wait_for(lambda seen: bool(seen), WAIT, run.alive)
        time.sleep(point.position * max(shape.first_write - shape.first_request, 0.0))
    else:
        tap.wait_for(lambda seen: write_requests(seen) > 0, WAIT, run.alive)
        time.sleep(point.position * max(shape.end - shape.first_write, 0.0))
    where_now = landed(run, tap.seen())
    if run.alive():
        os.kill(run.pid, signum)
    return where_now


def crash_trial(platforms: Platforms, seed: int, shape: RunShape, signum: int) -> Trial:
    """Stop a faulty first sync with `signum` where the seed says, then a clean sync and a full sync."""
    started = time.monotonic()
    trial = Trial(seed, SignalPoint.draw(seed))
    bridge = platforms.start(faults(seed), faults(seed))
    run = platforms.spawn("sync", name=f"trial-{seed}")
    try:
        trial.landed = deliver(platforms, run, trial.point, shape, signum)
        signalled = time.monotonic()
        trial.stop_code = run.wait(timeout=WAIT)
        trial.stop_seconds = time.monotonic() - signalled
    finally:
        run.end()
    if signum == signal.SIGTERM and trial.stop_code not in (0, 1, 3, -signal.SIGTERM):
        trial.problems.append(f"the stopped run exited {trial.stop_code}: {run.stderr()[-600:]}")
    if "Traceback" in run.stderr() and signum == signal.SIGTERM:
        trial.problems.append(f"a traceback from the stopped run: {run.stderr()[-600:]}")
    trial.duplicates_at_stop = census(bridge).duplicates
    trial.lock_wait = wait_for_lock(bridge.settings.database_url)
    platforms.calm()
    clean = platforms.cli("sync", "--json")
    trial.problems += [f"after the clean sync: {p}" for p in check(bridge, clean)]
    full = platforms.cli("sync", "--full", "--json")
    trial.problems += [f"after the full sync: {p}" for p in check(bridge, full)]
    writes = full.total("created") + full.total("updated") + full.total("deleted")
    if writes:
        trial.problems.append(f"the full sync after the clean one still wrote {writes} mirrors")
    trial.codes = (clean.code, full.code)
    trial.seconds = time.monotonic() - started
    return trial


def check(bridge: Bridge, run: CliRun) -> list[str]:
    """What is wrong after a run that should have completed the sync."""
    problems = [] if run.code == 0 else [run.describe()]
    if run.total("deleted"):
        problems.append(f"it deleted {run.total('deleted')} mirrors (a duplicate or a stray had been written)")
    problems += census(bridge).problems()
    problems += ledger_disagreements(bridge)
    return problems


class TestCrashAnywhere:
    """A first sync stopped anywhere (SIGKILL, or SIGTERM's graceful stop) is completed by the next runs:
    0 duplicates, 0 missing mirrors, and the ledger agrees with both platforms."""

    @pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
    def test_stopped_first_sync_then_clean_and_full_sync_leave_exactly_one_mirror_each(
        self, platforms: Platforms, scale: Scale, figures: Figures, signum: int
    ) -> None:
        shape = calibrate(platforms, scale.seed)
        trials = [crash_trial(platforms, seed, shape, signum) for seed in scale.seeds(scale.trials)]
        failed = [t for t in trials if t.problems]
        figures["records_per_platform"] = scale.records
        figures["faults"] = FAULTS
        figures["trials"] = len(trials)
        figures["failures"] = len(failed)
        figures["uninterrupted_run_seconds"] = round(shape.end, 1)
        figures["strata"] = dict(Counter(t.point.stratum for t in trials))
        figures["landed"] = dict(Counter(t.landed for t in trials))
        figures["stopped_run_exit_codes"] = dict(Counter(str(t.stop_code) for t in trials))
        figures["longest_stop_seconds"] = round(max(t.stop_seconds for t in trials), 2)
        figures["duplicates_right_after_the_stop"] = sum(t.duplicates_at_stop for t in trials)
        figures["longest_lock_wait_seconds"] = round(max(t.lock_wait for t in trials), 2)
        figures["mean_trial_seconds"] = round(mean(t.seconds for t in trials), 1)
        figures["failing_trials"] = [{"seed": t.seed, "stratum": t.point.stratum, "landed": t.landed,
                                      "problems": t.problems[:10]} for t in failed]
        assert not failed, "\n".join(
            f"seed {t.seed} ({t.point.stratum} at {t.point.position:.2f}, landed {t.landed}): "
            + "; ".join(t.problems[:5]) for t in failed
        ) + "\nrerun one with CLUSTERBRIDGE_RELIABILITY_SEED=<seed> CLUSTERBRIDGE_RELIABILITY_TRIALS=1"
