"""Peak memory of the daemon's usual run: an incremental sync whose partner refresh covers a few changed natives.

    .venv/bin/python benchmarks/refresh_memory.py [--count 30000] [--changed 200]

A first full sync of N natives a side (SQLite ledger, client rate limits lifted), then `--changed` natives (half
on each side) flagged in the ledger as waiting for their suggestions, as a run that pulled their changes leaves
them, and an incremental `clusterbridge sync`: nothing changed on the platforms, so the run's memory is its
partner refresh of those natives (a refresh limited to what they touch, not a whole recompute). Each sync is a
process of its own; its peak RSS is its own (see harness.run_process). Not a goal of issue 15: printed so that
the run a daemon makes most often is measured too, next to the first sync it is compared with.
"""

from __future__ import annotations

import argparse

import sqlalchemy as sa
from harness import Seeds, say, sync, world

from clusterbridge.store.tables import natives


def flag(database: str, changed: int) -> None:
    """Flag `changed` natives, half on each side, as a run that pulled their changes leaves them."""
    engine = sa.create_engine(database)
    try:
        with engine.begin() as conn:
            sides = conn.execute(sa.select(natives.c.side).distinct().order_by(natives.c.side)).scalars().all()
            for n, side in enumerate(sides):
                share = changed // len(sides) + (1 if n < changed % len(sides) else 0)
                ids = conn.execute(sa.select(natives.c.native_id).where(natives.c.side == side).order_by(
                    natives.c.native_id).limit(share)).scalars().all()
                conn.execute(natives.update().where(natives.c.side == side, natives.c.native_id.in_(ids)).values(
                    suggestions_stale=True))
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30_000, help="natives per side")
    parser.add_argument("--changed", type=int, default=200, help="natives whose suggestions wait, both sides")
    args = parser.parse_args()
    say(f"refresh memory: generating {args.count} clusters a side")
    seeds = Seeds.synthetic(args.count)
    with world(seeds, "refresh") as bench:
        say(f"refresh memory: first full sync of {args.count} a side")
        first = sync(bench.env, "--full")
        flag(bench.database, args.changed)
        say(f"refresh memory: incremental sync refreshing the suggestions of {args.changed} natives")
        again = sync(bench.env)
    print(f"first full sync of {args.count} a side: peak RSS {first.rss_mib:.0f} MiB, {first.seconds:.1f} s")
    print(f"incremental sync whose partner refresh covers {args.changed} changed natives: peak RSS "
          f"{again.rss_mib:.0f} MiB, {again.seconds:.1f} s")


if __name__ == "__main__":
    main()
