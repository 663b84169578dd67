"""Figures 1–3: the sync's pipeline against the bare wire, on the same simulators in the same run.

    .venv/bin/python benchmarks/pipeline.py [--count 10000] [--database sqlite|postgres ...]

1. Pipeline overhead: `clusterbridge sync --full` (first sync, N natives a side) against `bare_client.py`
   sending exactly the requests the sync sent (recorded by the simulators: listing pages of both platforms,
   token, one write per mirror batch, with the same payloads) to fresh simulators with the same seed. On
   SQLite and on PostgreSQL, with the PostgreSQL/SQLite ratio of the two syncs.
2. Pull and plan: `sync --full --dry-run` against the bare client sending the dry run's requests (the listings
   of both platforms).
3. No-change runs: an incremental sync right after the first (its wall time as a share of the first's, and the
   requests and writes it made), as a one-off `clusterbridge sync` and the daemon's way (one engine for every
   run, in this process: its connectors, and ECCP's token, kept between runs), and a full reconcile with nothing
   changed against the bare client sending its requests (the listings of natives and of mirrors on both platforms).

The client rate limits are lifted (a CLUSTERBRIDGE_CONFIG_DIR copy of connectors/*.toml): these figures measure
the pipeline, not the platforms' limits (see rate_limits.py for those).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from harness import (
    LIFTED_RATE,
    Call,
    Platforms,
    Row,
    Run,
    Seeds,
    clusterbridge,
    count_calls,
    platforms,
    postgres_available,
    postgres_ledger,
    ratio_row,
    replay,
    say,
    settings_for,
    sqlite_ledger,
    statuses,
    sync,
    table,
    upgrade,
    write_config,
)

from clusterbridge import logs
from clusterbridge.runtime import open_engine
from clusterbridge.store import db
from clusterbridge.sync.engine import SyncEngine

GOAL_OVERHEAD, GOAL_POSTGRES, GOAL_DRY_RUN, GOAL_IDLE_SHARE, GOAL_UNCHANGED = 1.5, 1.2, 3.0, 0.01, 1.5


@dataclass
class Outcome:
    """The rows, and the first full sync on SQLite (the memory figure's base at this N)."""

    rows: list[Row] = field(default_factory=list)
    first_sqlite: Run | None = None


def _mirrors(calls: dict[str, list[Call]]) -> str:
    eccp = sum(c.method == "POST" and c.path != "/oauth/token" for c in calls["eccp"])
    kicox = sum(c.method == "POST" for c in calls["kicox"])
    return f"{eccp} ECCP mirror writes, {kicox} KICOX batches"


def _mismatch_note(mismatches: int) -> str:
    return f"; {mismatches} replayed answers differed" if mismatches else ""


def first_sync(seeds: Seeds, config: Path, folder: Path, ledger: AbstractContextManager[str], label: str,
               count: int, extended: bool, rows: list[Row]) -> Run:
    """The first full sync on one ledger against its bare replay (and with `extended`, figures 2 and 3)."""
    with ledger as database, platforms(seeds, config) as sims:
        env = sims.env(database)
        upgrade(env)
        sims.reset_stats()
        if extended:
            say(f"{label}: dry run (pull and plan) of {count} a side")
            dry = sync(env, "--full", "--dry-run")
            dry_calls = sims.take_calls()
            say(f"{label}: bare pull of the same {count_calls(dry_calls)[0]} requests")
            bare_pull = replay(dry_calls, sims.eccp.url, sims.kicox.url, folder, only_reads=True)
            sims.take_calls()  # the bare pull's own requests, which the simulators recorded too
            print(f"{label} pull and plan: dry run {dry.seconds:.2f} s, bare pull {bare_pull.seconds:.2f} s "
                  f"({bare_pull.requests} requests)")
            rows.append(ratio_row(f"2. pull and plan (`--dry-run`) vs bare pull, {label}", dry.seconds,
                                  bare_pull.seconds, GOAL_DRY_RUN,
                                  f"{dry.seconds:.1f} s vs {bare_pull.seconds:.1f} s"
                                  f"{_mismatch_note(bare_pull.mismatches)}"))
        say(f"{label}: first full sync of {count} a side")
        first = sync(env, "--full")
        first_calls = sims.take_calls()
        requests, writes = count_calls(first_calls)
        say(f"{label}: bare replay of the same {requests} requests against fresh simulators")
        with platforms(seeds, config) as fresh:
            bare = replay(first_calls, fresh.eccp.url, fresh.kicox.url, folder)
        print(f"{label} first full sync: {first.seconds:.2f} s (exit {first.code}, peak RSS {first.rss_mib:.0f} MiB, "
              f"{requests} requests, {writes} writes: {_mirrors(first_calls)}); bare client {bare.seconds:.2f} s, "
              f"answers {bare.statuses}, recorded {dict(statuses(c for cs in first_calls.values() for c in cs))}")
        rows.append(ratio_row(f"1. pipeline overhead: first full sync vs bare client, {label}", first.seconds,
                              bare.seconds, GOAL_OVERHEAD,
                              f"{first.seconds:.1f} s vs {bare.seconds:.1f} s, {requests} requests"
                              f"{_mismatch_note(bare.mismatches)}"))
        if extended:
            _no_change(sims, env, first, folder, label, rows)
        return first


def _no_change(sims: Platforms, env: dict[str, str], first: Run, folder: Path, label: str, rows: list[Row]) -> None:
    sims.reset_stats()
    say(f"{label}: incremental sync with nothing changed")
    idle = sync(env)
    idle_calls = sims.take_calls()
    requests, writes = count_calls(idle_calls)
    share = idle.seconds / first.seconds
    made = ", ".join(f"{platform} {c.method} {c.path}" for platform, cs in idle_calls.items() for c in cs)
    print(f"{label} incremental, nothing changed: {idle.seconds:.2f} s = {share:.1%} of the first sync; "
          f"{requests} requests ({made}), {writes} writes")
    startup = clusterbridge(env, "--version").check("clusterbridge --version")
    rows.append(Row(f"3. no-change incremental: wall time vs first full sync, {label}",
                    f"{share:.1%} ({idle.seconds:.2f} s vs {first.seconds:.1f} s; `clusterbridge --version` alone "
                    f"takes {startup.seconds:.2f} s)", f"≤ {GOAL_IDLE_SHARE:.0%}", share <= GOAL_IDLE_SHARE))
    rows.append(Row(f"3. no-change incremental: requests, writes, {label}", f"{requests} requests, {writes} writes",
                    "2 requests, 0 writes", requests <= 2 and writes == 0))
    seconds, daemon_calls = _daemon_idle(sims, env)
    requests, writes = count_calls(daemon_calls)
    share = seconds / first.seconds
    print(f"{label} incremental, nothing changed, the daemon's way: {seconds:.2f} s = {share:.1%} of the first "
          f"sync; {requests} requests, {writes} writes")
    rows.append(Row(f"3. no-change incremental, the daemon's way: wall time vs first full sync, {label}",
                    f"{share:.1%} ({seconds:.2f} s vs {first.seconds:.1f} s)", f"≤ {GOAL_IDLE_SHARE:.0%}",
                    share <= GOAL_IDLE_SHARE))
    rows.append(Row(f"3. no-change incremental, the daemon's way: requests, writes, {label}",
                    f"{requests} requests, {writes} writes", "2 requests, 0 writes", requests <= 2 and writes == 0))
    say(f"{label}: full reconcile with nothing changed")
    again = sync(env, "--full")
    again_calls = sims.take_calls()
    requests, writes = count_calls(again_calls)
    bare = replay(again_calls, sims.eccp.url, sims.kicox.url, folder, only_reads=True)
    sims.take_calls()
    print(f"{label} full reconcile, nothing changed: {again.seconds:.2f} s, {requests} requests, {writes} writes; "
          f"bare listing {bare.seconds:.2f} s ({bare.requests} requests)")
    rows.append(ratio_row(f"3. no-change full reconcile vs bare listing of natives and mirrors, {label}",
                          again.seconds, bare.seconds, GOAL_UNCHANGED,
                          f"{again.seconds:.1f} s vs {bare.seconds:.1f} s{_mismatch_note(bare.mismatches)}"))
    rows.append(Row(f"3. no-change full reconcile: writes, {label}", f"{writes} writes", "0 writes", writes == 0))


def _daemon_idle(sims: Platforms, env: dict[str, str]) -> tuple[float, dict[str, list[Call]]]:
    """Two no-change incremental runs as the daemon makes them (`daemon.py`: one engine for every run, the sync
    lock taken for each); the second is timed and its requests returned."""
    settings = settings_for(env)
    logs.configure(settings.log_format, settings.log_level)  # as `clusterbridge daemon` does
    database = db.make_engine(settings.database_url)

    def one_run(engine: SyncEngine) -> float:
        started = time.perf_counter()
        with db.sync_lock(database) as lock:
            engine.lock = lock
            engine.run("both", trigger="daemon")
            engine.lock = None
        return time.perf_counter() - started

    try:
        with open_engine(settings, database=database) as engine:
            one_run(engine)  # the first run after start-up fetches ECCP's token
            sims.take_calls()
            return one_run(engine), sims.take_calls()
    finally:
        database.dispose()


def run(count: int, databases: tuple[str, ...] = ("sqlite", "postgres"), seeds: Seeds | None = None,
        extended: bool = True) -> Outcome:
    """Figure 1 on each database; with `extended`, figures 2 and 3 on SQLite too."""
    outcome = Outcome()
    say(f"generating {count} synthetic clusters a side")
    seeds = seeds or Seeds.synthetic(count)
    with tempfile.TemporaryDirectory(prefix="cb-bench-") as tmp_name:
        folder = Path(tmp_name)
        config = write_config(folder / "config", LIFTED_RATE)
        seconds: dict[str, float] = {}
        ledgers: dict[str, Callable[[], AbstractContextManager[str]]] = {
            "sqlite": lambda: sqlite_ledger(folder, "pipeline"),
            "postgres": lambda: postgres_ledger("pipeline"),
        }
        for name in databases:
            label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[name]
            if name == "postgres" and (why := postgres_available()) is not None:
                outcome.rows.append(Row(f"1. pipeline overhead, {label}", f"not measured: {why}", "≤ 1.5×", None))
                continue
            first = first_sync(seeds, config, folder, ledgers[name](), label, count,
                               extended and name == "sqlite", outcome.rows)
            seconds[name] = first.seconds
            if name == "sqlite":
                outcome.first_sqlite = first
        if "sqlite" in seconds and "postgres" in seconds:
            outcome.rows.append(ratio_row("1. first full sync, PostgreSQL vs SQLite", seconds["postgres"],
                                          seconds["sqlite"], GOAL_POSTGRES,
                                          f"{seconds['postgres']:.1f} s vs {seconds['sqlite']:.1f} s"))
    return outcome


def _order(rows: list[Row]) -> Iterator[Row]:
    yield from sorted(rows, key=lambda r: r.figure[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="synthetic clusters per side")
    parser.add_argument("--database", nargs="+", choices=("sqlite", "postgres"), default=["sqlite", "postgres"])
    args = parser.parse_args()
    outcome = run(args.count, tuple(args.database))
    print(f"\nN = {args.count} per side\n")
    print(table(_order(outcome.rows)))


if __name__ == "__main__":
    main()
