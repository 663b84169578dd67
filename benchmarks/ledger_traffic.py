"""What a first full sync asks of its ledger: transactions, connection checkouts and statements, by database.

    .venv/bin/python benchmarks/ledger_traffic.py [--count 10000] [--database sqlite|postgres ...]

A first `sync --full` of N natives a side (client rate limits lifted) runs in this process on the ledger's own
engine (`store.db.make_engine`), with SQLAlchemy's events counting commits, connection checkouts and the
statements sent (an executemany counts once). With `upsert_batching.py`'s cost of one transaction on each
database, the counts say how much of the PostgreSQL/SQLite difference of figure 1 the round trips explain.
Printed, never asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from harness import (
    LIFTED_RATE,
    Seeds,
    platforms,
    postgres_ledger,
    say,
    settings_for,
    sqlite_ledger,
    upgrade,
    write_config,
)

from clusterbridge.runtime import open_engine
from clusterbridge.store.db import make_engine


def counted_sync(env: dict[str, str]) -> tuple[float, Counter[str]]:
    settings = settings_for(env)
    engine = make_engine(settings.database_url)
    counts: Counter[str] = Counter()

    def statement(_conn: Any, _cursor: Any, text: str, _params: Any, _context: Any, many: bool) -> None:
        counts["statements"] += 1
        counts[f"{text.split(None, 1)[0].upper()}{' (executemany)' if many else ''}"] += 1

    sa.event.listen(engine, "commit", lambda _conn: counts.update(["commits"]))
    sa.event.listen(engine, "checkout", lambda *_args: counts.update(["checkouts"]))
    sa.event.listen(engine, "before_cursor_execute", statement)
    try:
        started = time.perf_counter()
        with open_engine(settings, database=engine) as sync:
            sync.run("both", full=True)
        return time.perf_counter() - started, counts
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="natives per side")
    parser.add_argument("--database", choices=("sqlite", "postgres"), action="append",
                        help="the ledger's database (both when not given)")
    args = parser.parse_args()
    say(f"ledger traffic: generating {args.count} clusters a side")
    seeds = Seeds.synthetic(args.count)
    with tempfile.TemporaryDirectory(prefix="cb-bench-") as tmp_name:
        folder = Path(tmp_name)
        config = write_config(folder / "config", LIFTED_RATE)
        ledgers: dict[str, Callable[[], AbstractContextManager[str]]] = {
            "sqlite": lambda: sqlite_ledger(folder, "traffic"), "postgres": lambda: postgres_ledger("traffic")}
        for name in args.database or ("sqlite", "postgres"):
            with ledgers[name]() as database, platforms(seeds, config) as sims:
                env = sims.env(database)
                upgrade(env)
                say(f"ledger traffic: first full sync of {args.count} a side on {name}")
                seconds, counts = counted_sync(env)
            main_counts = ", ".join(f"{counts[k]:,} {k}" for k in ("commits", "checkouts", "statements"))
            rest = ", ".join(f"{v:,} {k}" for k, v in sorted(counts.items())
                             if k not in ("commits", "checkouts", "statements"))
            print(f"{name}: first full sync in this process {seconds:.1f} s; {main_counts} ({rest})")


if __name__ == "__main__":
    main()
