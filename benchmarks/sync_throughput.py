"""Throughput and memory of a full two-way sync against the simulators, with N synthetic clusters per side.

    .venv/bin/python benchmarks/sync_throughput.py --count 2000 [--rate 1000] [--database URL]

The simulators run in this process; each sync runs as a separate `clusterbridge sync` process so that its
peak memory (max RSS) is measured alone. The client rate limit is raised (--rate) because the shipped limits
(8 and 4 requests per second) are the real platforms' and would measure only the wait. Figures are printed,
never asserted: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clusterbridge.config import default_dir
from clusterbridge.simulators import EccpSimulator, KicoxSimulator
from clusterbridge.simulators.generate import write_seed_files

CLIENT_ID, CLIENT_SECRET, SERVICE_KEY, API_KEY = "bench", "bench-secret", "bench/Key+==", "bench-api"


def run_sync(env: dict[str, str], *args: str) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, exit code) of one `clusterbridge sync` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "clusterbridge", "sync", *args], env=env, check=False,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 3):
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    return elapsed, max(peak, before) / 1024, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="synthetic clusters per side")
    parser.add_argument("--rate", type=float, default=1000.0, help="client requests per second")
    parser.add_argument("--database", default=None, help="ledger URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        eccp_seed, kicox_seed = write_seed_files(args.count, tmp / "seed")
        print(f"generated {args.count} clusters per side in {time.perf_counter() - t0:.1f} s")
        config = tmp / "config" / "connectors"
        config.mkdir(parents=True)
        for name in ("eccp", "kicox"):
            text = (default_dir("connectors") / f"{name}.toml").read_text()
            (config / f"{name}.toml").write_text(re.sub(r"(?m)^rate_limit\s*=.*$", f"rate_limit = {args.rate}", text))

        import json

        eccp = EccpSimulator(json.loads(eccp_seed.read_text()), client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                             partner_code="kicox").start(0)
        kicox = KicoxSimulator(json.loads(kicox_seed.read_text()), service_key=SERVICE_KEY, api_key=API_KEY).start(0)
        database = args.database or f"sqlite:///{tmp / 'bench.db'}"
        env = dict(os.environ, CLUSTERBRIDGE_DATABASE_URL=database, CLUSTERBRIDGE_ECCP_BASE_URL=eccp.url,
                   CLUSTERBRIDGE_ECCP_CLIENT_ID=CLIENT_ID, CLUSTERBRIDGE_ECCP_CLIENT_SECRET=CLIENT_SECRET,
                   CLUSTERBRIDGE_KICOX_BASE_URL=kicox.url, CLUSTERBRIDGE_KICOX_SERVICE_KEY=SERVICE_KEY,
                   CLUSTERBRIDGE_KICOX_API_KEY=API_KEY, CLUSTERBRIDGE_CONFIG_DIR=str(tmp / "config"),
                   CLUSTERBRIDGE_LOG_LEVEL="warning")
        try:
            subprocess.run([sys.executable, "-m", "clusterbridge", "db", "upgrade"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            first = run_sync(env, "--full")
            mirrors = (len([r for r in eccp.records() if r["attributes"]["field_origin"] == "kicox"]),
                       len(kicox.foreign()))
            second = run_sync(env)
            third = run_sync(env, "--full")
        finally:
            eccp.stop()
            kicox.stop()

    records = 2 * args.count
    print(f"first full sync   : {first[0]:7.1f} s  {records / first[0]:8.0f} records/s  peak RSS {first[1]:6.0f} MiB"
          f"  exit {first[2]}  (mirrors written: ECCP {mirrors[0]}, KICOX {mirrors[1]})")
    print(f"incremental, idle : {second[0]:7.1f} s  peak RSS so far {second[1]:6.0f} MiB  exit {second[2]}")
    print(f"full, unchanged   : {third[0]:7.1f} s  {records / third[0]:8.0f} records/s  exit {third[2]}")


if __name__ == "__main__":
    main()
