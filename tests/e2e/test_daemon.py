"""The daemon as an operator runs it: endpoints, JSON logs, a clean stop on SIGTERM, and one sync at a time
across replicas on one PostgreSQL, with a take-over when a replica dies."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from clusterbridge.simulators import FaultSpec
from clusterbridge.store import db
from clusterbridge.store.tables import sync_runs
from tests.e2e.harness import Bridge, wait_until
from tests.e2e.test_sync import assert_exactly_one_mirror_each

pytestmark = pytest.mark.slow
INTERVAL = "0.1"  # minutes: one tick every six seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_daemon(bridge: Bridge, **env: str) -> subprocess.Popen[str]:
    """A daemon whose output goes to files (a pipe nobody reads would fill and block it)."""
    full = dict(bridge.env, CLUSTERBRIDGE_SYNC_INTERVAL_MINUTES=INTERVAL, CLUSTERBRIDGE_LOG_FORMAT="json",
                CLUSTERBRIDGE_LOG_LEVEL="info", **env)
    out = tempfile.NamedTemporaryFile("w+", suffix=".out", delete=False)  # noqa: SIM115 - closed by stop()
    err = tempfile.NamedTemporaryFile("w+", suffix=".err", delete=False)  # noqa: SIM115 - closed by stop()
    process = subprocess.Popen([sys.executable, "-m", "clusterbridge", "daemon"], env=full, stdout=out, stderr=err,
                               text=True)
    OUTPUT[process.pid] = (out, err)
    return process


OUTPUT: dict[int, tuple[Any, Any]] = {}


def output(process: subprocess.Popen[str]) -> tuple[str, str]:
    """What a finished daemon wrote, its files closed and removed."""
    out, err = OUTPUT.pop(process.pid)
    texts = []
    for handle in (out, err):
        handle.close()
        path = Path(handle.name)
        texts.append(path.read_text(encoding="utf-8"))
        path.unlink()
    return texts[0], texts[1]


def runs(bridge: Bridge) -> list[sa.Row[Any]]:
    engine = db.make_engine(bridge.settings.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(sync_runs).order_by(sync_runs.c.id)))
    finally:
        engine.dispose()


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    out, err = output(process)
    return process.returncode, out, err


class TestEndpoints:
    """The daemon answers /healthz, /readyz and /metrics; its logs are one JSON object per line."""

    def test_endpoints_and_json_logs(self, bridge: Bridge) -> None:
        port = free_port()
        daemon = start_daemon(bridge, CLUSTERBRIDGE_HTTP_PORT=str(port))
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: any(r.status != "running" for r in runs(bridge)) if runs(bridge) else False)

            def get(path: str) -> httpx.Response | None:
                try:
                    return httpx.get(base + path, timeout=5)
                except httpx.TransportError:
                    return None

            health = wait_until(lambda: get("/healthz"))
            assert health.status_code == 200
            ready = wait_until(lambda: (r := get("/readyz")) is not None and r.status_code == 200 and r)
            assert ready.json() == {"ready": True}
            metrics = get("/metrics")
            assert metrics is not None
            assert metrics.status_code == 200
            families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
            for name in ("clusterbridge_runs", "clusterbridge_records", "clusterbridge_freshness_seconds",
                         "clusterbridge_http_requests", "clusterbridge_http_request_duration_seconds",
                         "clusterbridge_run_in_progress", "clusterbridge_quarantined_records"):
                assert name in families, name
            assert any(s.value > 0 for s in families["clusterbridge_http_requests"].samples)
            missing = get("/nothing")
            assert missing is not None
            assert missing.status_code == 404
        finally:
            code, out, err = stop(daemon)
        assert code == 0, err[-2000:]
        lines = [line for line in (out + err).splitlines() if line.strip()]
        assert lines
        events = [json.loads(line) for line in lines]  # every line is one JSON object
        assert {"daemon.started", "sync.finished", "daemon.stopped"} <= {e.get("event") for e in events}
        assert "Traceback" not in out + err

    def test_a_platform_failing_makes_readiness_fail_and_the_daemon_keeps_going(self, bridge: Bridge) -> None:
        port = free_port()
        bridge.kicox.stop()  # the Korean platform is away: every run fails its directions
        daemon = start_daemon(bridge, CLUSTERBRIDGE_HTTP_PORT=str(port), CLUSTERBRIDGE_READY_MAX_FAILING_MINUTES="0.1")
        try:
            wait_until(lambda: len([r for r in runs(bridge) if r.status == "failed"]) >= 2)
            time.sleep(7)  # failing for longer than the 0.1 minute allowed
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            assert ready.status_code == 503
            assert ready.json()["ready"] is False
            assert daemon.poll() is None  # still running: the next tick tries again
            assert all(r.error for r in runs(bridge) if r.status == "failed")
        finally:
            code, out, err = stop(daemon)
        assert code == 0
        for line in (out + err).splitlines():
            if line.strip():
                json.loads(line)


class TestStop:
    def test_sigterm_mid_run_finishes_the_batch_records_interrupted_and_exits_0(self, bridge: Bridge) -> None:
        # slow platforms: the first run lasts far longer than a loaded machine needs to see it start
        bridge.eccp.set_faults(FaultSpec.parse("latency=0.4"))
        bridge.kicox.set_faults(FaultSpec.parse("latency=0.6"))
        daemon = start_daemon(bridge, CLUSTERBRIDGE_HTTP_PORT=str(free_port()))
        wait_until(lambda: runs(bridge))
        time.sleep(1.5)
        assert any(r.status == "running" for r in runs(bridge)), "the run ended before the stop: slow it down"
        started = time.monotonic()
        code, _out, err = stop(daemon)
        assert code == 0, err[-2000:]
        assert time.monotonic() - started < 30  # the documented bound for a container's stop grace
        statuses = {r.status for r in runs(bridge)}
        assert "running" not in statuses
        assert "interrupted" in statuses
        bridge.eccp.set_faults(FaultSpec.parse(""))
        bridge.kicox.set_faults(FaultSpec.parse(""))
        assert bridge.cli("sync").returncode == 0
        assert_exactly_one_mirror_each(bridge)


    def test_sigusr1_prints_every_threads_stack_and_the_run_goes_on(self, bridge: Bridge) -> None:
        """An operator asks a run that seems stuck where it is, without stopping it."""
        bridge.eccp.set_faults(FaultSpec.parse("latency=0.3"))
        bridge.kicox.set_faults(FaultSpec.parse("latency=0.3"))
        with tempfile.TemporaryFile("w+") as err:
            run = subprocess.Popen([sys.executable, "-m", "clusterbridge", "sync"], env=bridge.env,
                                   stdout=subprocess.DEVNULL, stderr=err, text=True)
            try:
                wait_until(lambda: any(r.status == "running" for r in runs(bridge)))
                run.send_signal(signal.SIGUSR1)
                time.sleep(1)
                assert run.poll() is None  # the dump does not end the run
                bridge.eccp.set_faults(FaultSpec.parse(""))
                bridge.kicox.set_faults(FaultSpec.parse(""))
                code = run.wait(timeout=120)
            finally:
                if run.poll() is None:
                    run.kill()
            err.seek(0)
            text = err.read()
        assert code == 0, text[-2000:]
        assert "Current thread 0x" in text  # the main thread named among them (the others are listed too)
        assert "clusterbridge/" in text  # frames of the service's own code
        assert_exactly_one_mirror_each(bridge)


class TestReplicas:
    def test_two_daemons_never_overlap_and_one_takes_over_when_the_other_is_killed(self, bridge: Bridge) -> None:
        if "postgresql" not in bridge.settings.database_url:
            pytest.skip("replicas share a PostgreSQL ledger; SQLite's lock is a file on one machine")
        bridge.kicox.set_faults(FaultSpec.parse("latency=0.05"))
        first = start_daemon(bridge, CLUSTERBRIDGE_HTTP_PORT=str(free_port()))
        second = start_daemon(bridge, CLUSTERBRIDGE_HTTP_PORT=str(free_port()))
        try:
            wait_until(lambda: len({(r.pid, r.started_at) for r in runs(bridge) if r.status != "running"}) >= 6,
                       timeout=120)
            holder = wait_until(lambda: next((r.pid for r in reversed(runs(bridge))), None))
            victim = first if first.pid == holder else second
            survivor = second if victim is first else first
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            output(victim)
            killed_at = time.time()
            wait_until(lambda: any(r.pid == survivor.pid and r.started_at.timestamp() > killed_at
                                   and r.status != "running" for r in runs(bridge)), timeout=60)
        finally:
            for process in (first, second):
                if process.poll() is None:
                    stop(process)
        done = [r for r in runs(bridge) if r.finished_at is not None]
        assert {r.pid for r in done} == {first.pid, second.pid}  # both took turns
        # one sync at a time: no run of one process overlaps a run of the other
        for a in done:
            for b in done:
                if a.pid != b.pid:
                    assert a.finished_at <= b.started_at or b.finished_at <= a.started_at, (a.id, b.id)
        resumed = min(r.started_at.timestamp() for r in done if r.pid == survivor.pid
                      and r.started_at.timestamp() > killed_at)
        assert resumed - killed_at <= 2 * float(INTERVAL) * 60 + 5  # taken over within the next interval
