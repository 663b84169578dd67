"""The benchmark suite still runs: `benchmarks/run_all.py --smoke` at a tiny N, every figure in its table.

The figures of a smoke run mean nothing (and timings are never asserted): this only proves that `make bench`
would get through every benchmark and print its table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("1. pipeline overhead", "1. first full sync, PostgreSQL vs SQLite", "2. pull and plan",
           "3. no-change incremental", "3. no-change full reconcile", "4. within the rate limits", "5. memory",
           "6. pull of the ECCP listing")


@pytest.mark.slow
@pytest.mark.postgres
def test_smoke_run_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "latest.md"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=150, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and not line.startswith("| figure")]
    for figure in FIGURES:
        assert any(row.startswith(f"| {figure}") for row in rows), f"no row for {figure!r} in:\n{done.stdout}"
    assert all(row.count(" | ") == 3 for row in rows), rows
    assert "failed" not in "\n".join(rows)
    assert "Machine: " in done.stdout
    assert "Command: `python benchmarks/run_all.py --smoke" in done.stdout
    assert out.read_text(encoding="utf-8").startswith("| figure | measured | goal | met? |")


def test_a_process_peak_rss_is_its_own_not_its_parents() -> None:
    """Linux counts the memory of the process that spawned a child into the child's ru_maxrss (the exec takes
    the high-water mark of the mm it replaces): a benchmark holding big simulators must not read it as the sync's."""
    script = f"""
import sys
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
from harness import run_process
ballast = bytearray(400 * 1024 * 1024)
for i in range(0, len(ballast), 4096):
    ballast[i] = 1
run = run_process([sys.executable, "-c", "x = bytearray(64 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"])
print(run.rss_mib, run.code)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    rss, code = done.stdout.split()
    assert code == "0"
    assert 64 <= float(rss) < 200, f"the child's peak RSS read as {rss} MiB"
