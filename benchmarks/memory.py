"""Figure 5: peak memory of a first full sync at a small and a large N per side.

    .venv/bin/python benchmarks/memory.py [--count 10000] [--large 100000]

Each sync is a `clusterbridge sync --full` process of its own (SQLite ledger, client rate limits lifted); its
peak RSS is that process's own (see harness.run_process). A sync that streams its pages holds about the same
memory at any N: the goal is that the large N's peak is at most 1.5× the small one's.
"""

from __future__ import annotations

import argparse

from harness import Row, Run, Seeds, say, sync, table, world

GOAL = 1.5
GOAL_COUNTS = (10_000, 100_000)


def full_sync(count: int) -> Run:
    """One first full sync of `count` natives a side, with a SQLite ledger."""
    say(f"memory: generating {count} clusters a side")
    seeds = Seeds.synthetic(count)
    with world(seeds, f"memory-{count}") as bench:
        say(f"memory: first full sync of {count} a side")
        run = sync(bench.env, "--full")
    print(f"first full sync of {count} a side: peak RSS {run.rss_mib:.0f} MiB, {run.seconds:.1f} s, exit {run.code}")
    return run


def run(count: int, large: int, base: Run | None = None) -> list[Row]:
    """`base` is a first full sync of `count` already made in this run (the pipeline's), if any."""
    small = base or full_sync(count)
    big = full_sync(large)
    value = big.rss_mib / small.rss_mib
    # the goal is set at 100,000 against 10,000: a smaller pair of counts shows the trend, not the verdict
    met = value <= GOAL if (count, large) == GOAL_COUNTS else None
    return [Row(f"5. memory: peak RSS of a first full sync, N = {large:,} vs {count:,} a side",
                f"{value:.2f}× ({big.rss_mib:.0f} MiB vs {small.rss_mib:.0f} MiB; {big.seconds:.0f} s vs "
                f"{small.seconds:.0f} s)", f"≤ {GOAL:g}× (at 100,000 vs 10,000)", met)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="the small N per side")
    parser.add_argument("--large", type=int, default=100_000, help="the large N per side")
    args = parser.parse_args()
    rows = run(args.count, args.large)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
