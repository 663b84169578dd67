"""Every performance figure of the service in one run, ending in one table: figure | measured | goal | met?

    .venv/bin/python benchmarks/run_all.py [--count 10000] [--large 30000] [--only NAME ...] [--smoke]

NAME is one of
  pipeline   1–3 on SQLite: first full sync vs the bare client, dry run vs bare pull, no-change runs
  postgres   1 on PostgreSQL, and its first full sync against SQLite's
  rate       4: within the platforms' rate limits, with faults (client settings as shipped)
  memory     5: peak RSS of a first full sync at --large vs --count a side
  peer       6: the ECCP pull against dlt's REST API source (needs the `bench` extra)

Each figure is a ratio against a reference measured in the same run, on the same simulators: the machines are
shared and noisy, so the figures are printed, never asserted. The table also goes to
benchmarks/results/latest.md. --smoke runs every benchmark at a tiny N (in well under a minute) to prove they
still run; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import memory
import peer
import pipeline
import rate_limits
from harness import HERE, Row, Run, say, table

NAMES = ("pipeline", "postgres", "rate", "memory", "peer")
SMOKE = {"count": 30, "large": 90, "rate_eccp": 100, "rate_kicox": 20}


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model}; Python {platform.python_version()} ({platform.platform()})"


def _figure_number(row: Row) -> int:
    head = row.figure.split(".", 1)[0]
    return int(head) if head.isdigit() else 99


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--count", type=int, default=10_000, help="synthetic clusters per side (default 10000)")
    parser.add_argument("--large", type=int, default=30_000,
                        help="the large N per side of the memory figure (default 30000; the goal is set at 100000)")
    parser.add_argument("--rate-eccp", type=int, default=3000, help="ECCP natives of the rate-limit figure")
    parser.add_argument("--rate-kicox", type=int, default=400, help="KICOX natives of the rate-limit figure")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help=f"run only these: {', '.join(NAMES)}")
    parser.add_argument("--smoke", action="store_true", help="tiny N: proves every benchmark runs, measures nothing")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.md", help="where the table goes")
    args = parser.parse_args(argv)
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    selected = tuple(args.only or NAMES)
    smoke = " — SMOKE RUN: tiny N, the figures mean nothing" if args.smoke else ""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    rows: list[Row] = []
    failed = False
    first_sqlite: Run | None = None

    def attempt(name: str, work: Callable[[], list[Row]]) -> None:
        nonlocal failed
        say(f"== {name}")
        try:
            rows.extend(work())
        except Exception as exc:
            traceback.print_exc()
            rows.append(Row(f"{name}: failed", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}", "runs",
                            False))
            failed = True

    if "pipeline" in selected or "postgres" in selected:
        databases = tuple(d for d, name in (("sqlite", "pipeline"), ("postgres", "postgres"))
                          if name in selected or d == "sqlite")

        def run_pipeline() -> list[Row]:
            nonlocal first_sqlite
            outcome = pipeline.run(args.count, databases, extended="pipeline" in selected)
            first_sqlite = outcome.first_sqlite
            return outcome.rows

        attempt("pipeline", run_pipeline)
    if "rate" in selected:
        attempt("rate", lambda: rate_limits.run(args.rate_eccp, args.rate_kicox))
    if "memory" in selected:
        attempt("memory", lambda: memory.run(args.count, args.large, first_sqlite))
    if "peer" in selected:
        attempt("peer", lambda: peer.run(args.count))

    rows.sort(key=_figure_number)
    command = shlex.join(["python", "benchmarks/run_all.py", *(sys.argv[1:] if argv is None else argv)])
    report = "\n".join([
        table(rows),
        "",
        f"N = {args.count:,} clusters per side (memory: {args.count:,} and {args.large:,}; rate limits: "
        f"{args.rate_eccp:,} ECCP + {args.rate_kicox:,} KICOX natives){smoke}",
        f"Machine: {machine()}",
        f"Date: {started:%Y-%m-%d %H:%M} UTC, {time.perf_counter() - clock:.0f} s in all",
        f"Command: `{command}` (`make bench` runs it with the defaults)",
    ])
    print()
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
