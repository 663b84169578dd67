"""Figure 4: a first full sync within the platforms' rate limits, with faults.

    .venv/bin/python benchmarks/rate_limits.py [--eccp 3000] [--kicox 400]

The simulators enforce 10 requests a second (ECCP) and 5 (KICOX) over a sliding one-second window, answer
every request 50 ms late, and answer 10% of requests at random 429 (5%) or 503 (5%) with Retry-After: 1. The
client keeps its shipped settings (connectors/*.toml: the platforms' own limits, 10 and 5 a second, kept by a
request window that counts each request until a second after its answer), so no configuration override is
made here.

Three things are counted per platform:
- 429s caused by the client's own pace: the answers of the simulator's rate limiter (its `rate_limit` fault
  count), told apart from the random ones (its `error429` count);
- the achieved request rate as a share of the platform's limit, over the platform's active span (its first to
  its last request of the run) and over the whole run's wall time;
- the same rate over the reads (listing pages and tokens: one after the other, as keyset paging needs) and
  over the writes (from the first to the last), which tells where the share is lost.

ECCP natives (`--eccp`) become KICOX batches of 100 and ECCP listing pages of 50; KICOX natives (`--kicox`)
become one ECCP write each: the defaults give each platform enough requests for a rate, in one to two minutes.
"""

from __future__ import annotations

import argparse
import tempfile
from itertools import pairwise
from pathlib import Path

from harness import Call, Row, Seeds, platforms, say, sqlite_ledger, statuses, sync, table, upgrade

from clusterbridge.config import default_dir, read_toml
from clusterbridge.simulators import FaultSpec

LIMITS = {"eccp": 10.0, "kicox": 5.0}
GOAL_SHARE = 0.9


def faults(platform: str, seed: int) -> FaultSpec:
    return FaultSpec(latency=0.05, rate_limit=LIMITS[platform], error429=0.05, error503=0.05, retry_after=1,
                     seed=seed)


def client_limit(platform: str) -> float:
    return float(read_toml(default_dir("connectors") / f"{platform}.toml")["rate_limit"])


def _pauses(calls: list[Call], longer_than: float = 0.5) -> tuple[float, int]:
    """(seconds, count) of the gaps between consecutive requests longer than `longer_than` seconds."""
    gaps = [b.at - a.at for a, b in pairwise(calls) if b.at - a.at > longer_than]
    return sum(gaps), len(gaps)


def _rate(calls: list[Call]) -> tuple[float, float]:
    """(requests per second over the active span, the span in seconds)."""
    if len(calls) < 2:
        return 0.0, 0.0
    span = calls[-1].at - calls[0].at
    return (len(calls) - 1) / span if span > 0 else 0.0, span


def run(eccp_count: int, kicox_count: int) -> list[Row]:
    rows: list[Row] = []
    say(f"rate limits: {eccp_count} ECCP and {kicox_count} KICOX natives, faults on")
    seeds = Seeds.synthetic(eccp_count, kicox_count)
    with tempfile.TemporaryDirectory(prefix="cb-bench-") as tmp_name, \
            sqlite_ledger(Path(tmp_name), "rate") as database, \
            platforms(seeds, None, faults("eccp", 1), faults("kicox", 2)) as sims:
        env = sims.env(database)
        upgrade(env)
        sims.reset_stats()
        first = sync(env, "--full")
        calls = sims.take_calls()
        stats = {"eccp": sims.eccp.stats(), "kicox": sims.kicox.stats()}
    print(f"first full sync within the rate limits: {first.seconds:.1f} s, exit {first.code}")
    own_total = 0
    for platform, label in (("eccp", "ECCP"), ("kicox", "KICOX")):
        made = calls[platform]
        own = int(stats[platform]["faults"].get("rate_limit", 0))
        own_total += own
        rate, span = _rate(made)
        whole = len(made) / first.seconds
        limit, mine = LIMITS[platform], client_limit(platform)
        print(f"  {label}: {len(made)} requests, answers {dict(statuses(made))}, injected {stats[platform]['faults']}; "
              f"{rate:.2f}/s over its {span:.1f} s active span ({rate / limit:.0%} of {limit:g}/s), "
              f"{whole:.2f}/s over the run; client limit {mine:g}/s")
        share = rate / limit
        reads = [c for c in made if not c.is_write]
        writes = [c for c in made if c.is_write]
        read_rate, read_span = _rate(reads)
        write_rate, write_span = _rate(writes)
        phases = (f"reads {len(reads)} at {read_rate / limit:.0%} of the limit over {read_span:.0f} s "
                  f"({sum(c.status in {'429', '503'} for c in reads)} answered with Retry-After 1 s), "
                  f"writes {len(writes)} at {write_rate / limit:.0%} over {write_span:.0f} s")
        paused, pauses = _pauses(made)
        print(f"  {label}: {phases}; {pauses} pauses over 0.5 s between requests, {paused:.1f} s in all")
        reason = ""
        if share < GOAL_SHARE:
            reason = f"; {phases}; {paused:.0f} s of the span in {pauses} pauses over 0.5 s"
        rows.append(Row(f"4. within the rate limits: {label} request rate vs its limit of {limit:g}/s",
                        f"{share:.0%} ({rate:.2f}/s over {span:.0f} s active, {whole:.2f}/s over the "
                        f"{first.seconds:.0f} s run, {len(made)} requests){reason}",
                        f"≥ {GOAL_SHARE:.0%} (active span)", share >= GOAL_SHARE))
    random_429 = sum(int(s["faults"].get("error429", 0)) for s in stats.values())
    rows.insert(0, Row("4. within the rate limits: 429s caused by the client's own pace",
                       f"{own_total} (plus {random_429} random 429s injected; N = {eccp_count} ECCP + "
                       f"{kicox_count} KICOX natives)", "0", own_total == 0))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eccp", type=int, default=3000, help="ECCP natives")
    parser.add_argument("--kicox", type=int, default=400, help="KICOX natives")
    args = parser.parse_args()
    rows = run(args.eccp, args.kicox)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
