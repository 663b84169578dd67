"""End-to-end harness: both simulators on loopback, the real connectors, the real ledger database."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from clusterbridge.config import Settings, default_dir
from clusterbridge.runtime import open_engine
from clusterbridge.simulators import EccpSimulator, KicoxSimulator
from clusterbridge.store import db
from clusterbridge.sync.engine import RunResult

CLIENT_ID, CLIENT_SECRET = "e2e-client", "e2e-secret"
SERVICE_KEY, API_KEY = "e2e/Key+with==", "e2e-api-key"


@dataclass
class Bridge:
    """Two simulated platforms and a clusterbridge configured against them."""

    eccp: EccpSimulator
    kicox: KicoxSimulator
    settings: Settings
    env: dict[str, str]
    results: list[RunResult] = field(default_factory=list)

    def sync(self, direction: str = "both", **options: Any) -> RunResult:
        with open_engine(self.settings) as engine, db.sync_lock(engine.ledger.engine):
            result: RunResult = engine.run(direction, **options)
        self.results.append(result)
        return result

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "clusterbridge", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "clusterbridge", *args], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)

    # what each site shows
    def eccp_mirrors(self) -> list[dict[str, Any]]:
        return [r for r in self.eccp.records() if r["attributes"]["field_origin"] == "kicox"]

    def eccp_natives(self) -> list[dict[str, Any]]:
        return [r for r in self.eccp.records() if r["attributes"]["field_origin"] == "eccp"]

    def kicox_mirrors(self) -> list[dict[str, Any]]:
        return self.kicox.foreign()

    def admin(self, sim: EccpSimulator | KicoxSimulator, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{sim.url}/_admin{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None


def fast_config(tmp: Path) -> Path:
    """Connector settings for tests: the shipped files with a higher rate limit and short retry waits."""
    out = tmp / "config" / "connectors"
    out.mkdir(parents=True)
    for name in ("eccp", "kicox"):
        text = (default_dir("connectors") / f"{name}.toml").read_text()
        text = re.sub(r"(?m)^rate_limit\s*=.*$", "rate_limit = 200.0", text)
        text = re.sub(r"(?m)^backoff_initial\s*=.*$", "backoff_initial = 0.01", text)
        text = re.sub(r"(?m)^backoff_max\s*=.*$", "backoff_max = 0.2", text)
        (out / f"{name}.toml").write_text(text)
    return out.parent


def wait_until(check: Callable[[], Any], timeout: float = 60.0, *, what: str = "the condition") -> Any:
    """Poll `check` until it returns something true (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting until {what}")
