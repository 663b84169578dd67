"""Simulators of the two platforms: real HTTP servers on 127.0.0.1 with in-memory state, faults and an
admin API (`/_admin/...`), for the demo, the end-to-end tests and the benchmarks.

    sim = EccpSimulator(seed=None, faults=FaultSpec.parse("rate_limit=10,error503=0.05,seed=1")).start()
    ...
    sim.stop()
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

from clusterbridge.errors import ClusterbridgeError, ConfigurationError
from clusterbridge.simulators.base import FaultSpec, Simulator, load_default_seed
from clusterbridge.simulators.eccp import EccpSimulator
from clusterbridge.simulators.kicox import KicoxSimulator

__all__ = [
    "DEFAULT_PORTS",
    "EccpSimulator",
    "FaultSpec",
    "KicoxSimulator",
    "Simulator",
    "create_simulator",
    "load_default_seed",
    "serve",
]

SIMULATORS: dict[str, type[EccpSimulator] | type[KicoxSimulator]] = {
    "eccp": EccpSimulator,
    "kicox": KicoxSimulator,
}
DEFAULT_PORTS = {name: cls.default_port for name, cls in SIMULATORS.items()}


def create_simulator(
    platform: str,
    seed_data: Path | None = None,
    faults: str | None = None,
    **options: Any,
) -> EccpSimulator | KicoxSimulator:
    """A (not yet started) simulator of `platform`, seeded from a JSON file or the shipped sample data."""
    cls = SIMULATORS.get(platform)
    if cls is None:
        raise ValueError(f"unknown platform {platform!r}; choose one of {', '.join(SIMULATORS)}")
    seed = json.loads(seed_data.read_text(encoding="utf-8")) if seed_data is not None else None
    return cls(seed, FaultSpec.parse(faults), **options)


def serve(platform: str, port: int | None = None, seed_data: Path | None = None, faults: str | None = None) -> None:
    """Run one simulator in the foreground until SIGINT or SIGTERM, printing where and how to reach it."""
    try:
        sim = create_simulator(platform, seed_data, faults, log=lambda line: print(line, file=sys.stderr, flush=True))
    except ValueError as exc:  # a seed file that is not JSON records, a fault switch that does not exist
        raise ConfigurationError(f"simulate {platform}: {exc}") from exc
    try:
        sim.start(DEFAULT_PORTS[platform] if port is None else port)
    except OSError as exc:  # the port is taken (or privileged): a one-line failure, not a traceback
        raise ClusterbridgeError(str(exc)) from exc
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"{platform.upper()} simulator listening on {sim.url} (admin API under {sim.url}/_admin)")
        for line in _credentials(sim):
            print(f"  {line}")
        if str(sim.faults):
            print(f"  faults: {sim.faults}")
        print("Press Ctrl+C to stop.", flush=True)
        while not stopping.wait(0.5):
            pass
    finally:
        sim.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        print(f"{platform.upper()} simulator stopped.", flush=True)


def _credentials(sim: Simulator) -> list[str]:
    """The demo credentials, as environment lines the service reads (these are simulator-only values)."""
    if isinstance(sim, EccpSimulator):
        return [
            f"CLUSTERBRIDGE_ECCP_BASE_URL={sim.url}",
            f"CLUSTERBRIDGE_ECCP_CLIENT_ID={sim.client_id}",
            f"CLUSTERBRIDGE_ECCP_CLIENT_SECRET={sim.client_secret}",
            f"partner code (field_origin of mirrors): {sim.partner_code}",
        ]
    if isinstance(sim, KicoxSimulator):
        return [
            f"CLUSTERBRIDGE_KICOX_BASE_URL={sim.url}",
            f"CLUSTERBRIDGE_KICOX_SERVICE_KEY={sim.service_key}",
            f"  (send it URL-encoded exactly once: serviceKey={quote(sim.service_key, safe='')})",
            f"CLUSTERBRIDGE_KICOX_API_KEY={sim.api_key}",
        ]
    return []
