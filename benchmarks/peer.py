"""Figure 6: pulling the ECCP listing against a peer, dlt's REST API source, on the same simulator in one run.

    .venv/bin/python benchmarks/peer.py [--count 10000]

clusterbridge: `sync --full --dry-run --direction eu-to-kr`, which pulls the ECCP natives (and the KICOX listing
of our mirrors, empty here) and plans their mirrors; a dry run stores nothing. dlt: `dlt_pull.py`, its REST API
source writing the same listing to its default destination, duckdb. Both are processes of their own, start-up
included. dlt is only in the `bench` extra: pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys

from harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    HERE,
    Row,
    Seeds,
    count_calls,
    ratio_row,
    run_process,
    say,
    sync,
    table,
    world,
)

FIGURE = "6. pull of the ECCP listing: clusterbridge vs dlt rest_api → duckdb"
MISSING = "dlt not installed: pip install -e '.[bench]'"


def run(count: int) -> list[Row]:
    if importlib.util.find_spec("dlt") is None:
        print(MISSING)
        return [Row(FIGURE, MISSING, "≤ 1×", None)]
    say(f"peer: generating {count} ECCP natives")
    seeds = Seeds.synthetic(count, 0)
    with world(seeds, "peer") as bench:
        sims = bench.sims
        sims.reset_stats()
        say(f"peer: clusterbridge pulls {count} ECCP natives")
        ours = sync(bench.env, "--full", "--dry-run", "--direction", "eu-to-kr")
        our_requests = count_calls(sims.take_calls())[0]
        say(f"peer: dlt pulls {count} ECCP natives")
        theirs = run_process([sys.executable, str(HERE / "dlt_pull.py"), sims.eccp.url, CLIENT_ID, CLIENT_SECRET,
                              str(bench.folder / "dlt")]).check("dlt pull")
        their_requests = count_calls(sims.take_calls())[0]
    rows = json.loads(theirs.stdout.strip().splitlines()[-1])["rows"]
    print(f"ECCP pull of {count}: clusterbridge {ours.seconds:.2f} s ({our_requests} requests, peak RSS "
          f"{ours.rss_mib:.0f} MiB); dlt {theirs.seconds:.2f} s ({their_requests} requests, {rows} rows loaded, "
          f"peak RSS {theirs.rss_mib:.0f} MiB)")
    return [ratio_row(FIGURE, ours.seconds, theirs.seconds, 1.0,
                      f"{ours.seconds:.1f} s vs {theirs.seconds:.1f} s; dlt loaded {rows} rows")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="ECCP natives")
    args = parser.parse_args()
    rows = run(args.count)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
