"""What a first full sync asks of its ledger, and where the ledger's time goes, by database.

    .venv/bin/python benchmarks/ledger_traffic.py [--count 10000] [--database sqlite|postgres ...] [--slowest 8]

A first `sync --full` of N natives a side (client rate limits lifted) runs in this process on the ledger's own
engine (`store.db.make_engine`), with SQLAlchemy's events counting commits, connection checkouts, connections
opened and the statements sent (an executemany counts once), and timing each statement and each call into the
database driver (connect, probe, commit, rollback, execute). The simulators run in this process too, so the
times include waiting for the interpreter lock: compare the databases with each other, not with figure 1.
Printed, never asserted.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from harness import (
    Seeds,
    say,
    settings_for,
    world,
)

from clusterbridge.runtime import open_engine
from clusterbridge.store.db import make_engine

STATEMENT_CHARS = 110  # a statement is known by its first words (its columns and its WHERE, mostly)
_TIMED = ("connect", "do_ping", "do_commit", "do_rollback", "do_execute", "do_executemany", "do_execute_no_params")


def _time_driver_calls(engine: sa.Engine, traffic: Traffic) -> None:
    """Wrap the dialect's calls into the database driver, adding up each one's wall time and count."""
    dialect = engine.dialect
    for name in _TIMED:
        call = getattr(dialect, name)

        def timed(*args: Any, _call: Callable[..., Any] = call, _name: str = name, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _call(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                with traffic.lock:
                    traffic.driver[_name] += elapsed
                    traffic.calls[_name] += 1

        setattr(dialect, name, timed)


@dataclass
class Traffic:
    """What one sync asked of its ledger."""

    seconds: float = 0.0
    counts: Counter[str] = field(default_factory=Counter)
    driver: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # time in each driver call
    calls: Counter[str] = field(default_factory=Counter)  # how often each was made
    statements: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # each statement's time
    runs: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)  # the two directions count at once


def count(traffic: Traffic, *keys: str) -> None:
    with traffic.lock:
        traffic.counts.update(keys)


def _count_statements(engine: sa.Engine, traffic: Traffic) -> None:
    started = threading.local()  # the two directions run statements at once

    def before(_conn: Any, _cursor: Any, text: str, _params: Any, _context: Any, many: bool) -> None:
        count(traffic, "statements", f"{text.split(None, 1)[0].upper()}{' (executemany)' if many else ''}")
        started.at = time.perf_counter()

    def after(_conn: Any, _cursor: Any, text: str, _params: Any, _context: Any, _many: bool) -> None:
        elapsed, key = time.perf_counter() - started.at, " ".join(text.split())[:STATEMENT_CHARS]
        with traffic.lock:
            traffic.statements[key] += elapsed
            traffic.runs[key] += 1

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)


def counted_sync(env: dict[str, str]) -> Traffic:
    settings = settings_for(env)
    engine = make_engine(settings.database_url)
    traffic = Traffic()
    sa.event.listen(engine, "commit", lambda _conn: count(traffic, "commits"))
    sa.event.listen(engine, "checkout", lambda *_args: count(traffic, "checkouts"))
    sa.event.listen(engine, "connect", lambda *_args: count(traffic, "connections opened"))
    _count_statements(engine, traffic)
    _time_driver_calls(engine, traffic)
    try:
        started = time.perf_counter()
        with open_engine(settings, database=engine) as sync:
            sync.run("both", full=True)
        traffic.seconds = time.perf_counter() - started
        return traffic
    finally:
        engine.dispose()


def report(name: str, traffic: Traffic, slowest: int) -> None:
    counts, driver, calls = traffic.counts, traffic.driver, traffic.calls
    main_counts = ", ".join(f"{counts[k]:,} {k}" for k in ("commits", "checkouts", "statements"))
    rest = ", ".join(f"{v:,} {k}" for k, v in sorted(counts.items())
                     if k not in ("commits", "checkouts", "statements"))
    print(f"{name}: first full sync in this process {traffic.seconds:.1f} s; {main_counts} ({rest})")
    waits = ", ".join(f"{call} {driver[call]:.2f} s in {calls[call]:,}" for call in _TIMED if calls[call])
    print(f"{name}: wall time inside the database driver {sum(driver.values()):.1f} s ({waits})")
    for text, seconds in sorted(traffic.statements.items(), key=lambda item: -item[1])[:slowest]:
        print(f"  {seconds:6.2f} s in {traffic.runs[text]:5,}  {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="natives per side")
    parser.add_argument("--database", choices=("sqlite", "postgres"), action="append",
                        help="the ledger's database (both when not given)")
    parser.add_argument("--slowest", type=int, default=8, metavar="N",
                        help="list the N statements that took the most time in all (default 8)")
    args = parser.parse_args()
    say(f"ledger traffic: generating {args.count} clusters a side")
    seeds = Seeds.synthetic(args.count)
    for name in args.database or ("sqlite", "postgres"):
        with world(seeds, "traffic", name) as bench:
            say(f"ledger traffic: first full sync of {args.count} a side on {name}")
            traffic = counted_sync(bench.env)
        report(name, traffic, args.slowest)


if __name__ == "__main__":
    main()
