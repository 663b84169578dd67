"""Goal 5, concurrency (rule 10): two daemons and a CLI looping `sync` on one ledger database, while natives are
edited on both platforms, never run two syncs at once, lose no edit, and when the daemon holding the lock is
killed the other takes over within one interval."""

from __future__ import annotations

import random
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from clusterbridge.store.tables import sync_runs
from tests.e2e.harness import Bridge, wait_until
from tests.e2e.test_daemon import free_port
from tests.reliability.support import (
    Figures,
    Platforms,
    Scale,
    Spawned,
    census,
    ledger,
    ledger_disagreements,
)

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

INTERVAL_MINUTES = 0.1  # one daemon tick every six seconds
INTERVAL = INTERVAL_MINUTES * 60
TAKE_OVER_SLACK = 2.0  # seconds beyond one interval (process scheduling, the server noticing the dead session)
EDIT_EVERY = 0.5


@dataclass(frozen=True)
class Run:
    """One sync_runs row: a direction of one process's run (a run's directions start and end together)."""

    pid: int
    direction: str
    started: datetime
    finished: datetime | None
    status: str

    def end(self) -> datetime:
        return self.finished or datetime.now(UTC)


def runs(database_url: str) -> list[Run]:
    with ledger(database_url) as engine, engine.connect() as conn:
        rows = conn.execute(sa.select(sync_runs).where(sync_runs.c.dry_run.is_(False)).order_by(sync_runs.c.id))
        return [Run(r.pid, r.direction, r.started_at, r.finished_at, r.status) for r in rows]


def overlaps(found: list[Run]) -> list[tuple[Run, Run]]:
    """Pairs of runs by different processes whose intervals intersect."""
    return [(a, b) for i, a in enumerate(found) for b in found[i + 1 :]
            if a.pid != b.pid and a.started < b.end() and b.started < a.end()]


@dataclass
class Editors:
    """Edits natives on both platforms every EDIT_EVERY seconds, each with a value of its own, and remembers the
    last value each native was given."""

    bridge: Bridge
    korean: list[str]
    european: list[str]
    rng: random.Random
    last_korean: dict[str, int] = field(default_factory=dict)
    last_european: dict[str, int] = field(default_factory=dict)
    last_edit: float = 0.0
    edits: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._edit, name="editors", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _edit(self) -> None:
        number = 0
        while not self._stop.wait(EDIT_EVERY):
            number += 1
            year = 1900 + number % 100
            clstr_id, uuid = self.rng.choice(self.korean), self.rng.choice(self.european)
            self.bridge.admin(self.bridge.kicox, "PATCH", f"/clusters/{clstr_id}", {"estblYear": str(year)})
            self.bridge.admin(self.bridge.eccp, "PATCH", f"/records/{uuid}",
                              {"attributes": {"field_year_established": year}})
            self.last_korean[clstr_id], self.last_european[uuid] = year, year
            self.last_edit = time.time()
            self.edits += 2

    def lost(self) -> list[str]:
        """Edits the other platform does not show."""
        on_eccp = {r["attributes"]["field_external_id"]: r["attributes"].get("field_year_established")
                   for r in self.bridge.eccp_mirrors()}
        on_kicox = {f["extrlId"]: f.get("estblYear") for f in self.bridge.kicox_mirrors()}
        lost = [f"KICOX {k}: ECCP shows {on_eccp.get(k)}, edited to {v}" for k, v in self.last_korean.items()
                if on_eccp.get(k) != v]
        return lost + [f"ECCP {k}: KICOX shows {on_kicox.get(f'eccp:{k}')}, edited to {v}"
                       for k, v in self.last_european.items() if on_kicox.get(f"eccp:{k}") != v]


@dataclass
class CliLoop:
    """`clusterbridge sync` again and again from a thread, as an operator's cron might; pausable."""

    platforms: Platforms
    codes: list[int] = field(default_factory=list)
    pause: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cli-loop", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=600)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self.pause.is_set():
                time.sleep(0.1)
                continue
            self.codes.append(self.platforms.cli("sync").code)


def start_daemon(platforms: Platforms, bridge: Bridge, name: str) -> Spawned:
    env = dict(bridge.env, CLUSTERBRIDGE_SYNC_INTERVAL_MINUTES=str(INTERVAL_MINUTES),
               CLUSTERBRIDGE_HTTP_PORT=str(free_port()), CLUSTERBRIDGE_LOG_FORMAT="json",
               CLUSTERBRIDGE_LOG_LEVEL="info")
    return platforms.spawn("daemon", name=name, env=env)


class TestConcurrency:
    """Two daemons and a CLI on one database: one sync at a time, no lost update, a take-over within an
    interval when the daemon holding the lock is killed."""

    def test_two_daemons_and_a_cli_never_overlap_lose_no_edit_and_take_over(
        self, platforms: Platforms, scale: Scale, figures: Figures
    ) -> None:
        bridge = platforms.start()
        url = bridge.settings.database_url
        first = platforms.cli("sync")
        assert first.code == 0, first.describe()
        korean = sorted(r["attributes"]["field_external_id"] for r in bridge.eccp_mirrors())
        european = sorted(f["extrlId"].removeprefix("eccp:") for f in bridge.kicox_mirrors())
        editors = Editors(bridge, korean, european, random.Random(scale.seed))
        cli = CliLoop(platforms)
        since = datetime.now(UTC)
        daemons = [start_daemon(platforms, bridge, "daemon-a"), start_daemon(platforms, bridge, "daemon-b")]
        started = time.monotonic()
        try:
            editors.start()
            cli.start()
            time.sleep(scale.seconds / 2)
            # the take-over: the CLI waits, a daemon's run is in progress, that daemon is killed
            cli.pause.set()
            pids = {d.pid: d for d in daemons}
            holder = wait_until(lambda: next((r.pid for r in runs(url) if r.finished is None and r.pid in pids),
                                             None), timeout=120)
            victim = pids[holder]
            victim.process.send_signal(signal.SIGKILL)
            victim.wait(timeout=30)
            killed = time.time()
            survivor = next(d for d in daemons if d is not victim)
            taken = wait_until(lambda: next((r for r in runs(url) if r.pid == survivor.pid
                                             and r.started.timestamp() > killed), None), timeout=120)
            take_over = taken.started.timestamp() - killed
            cli.pause.clear()
            time.sleep(max(0.0, scale.seconds - (time.monotonic() - started)))
            editors.stop()
            cli.stop()
            # one more run that began after the last edit, and ended
            caught_up = wait_until(lambda: [r for r in runs(url) if r.started.timestamp() > editors.last_edit + 1
                                            and r.finished is not None], timeout=120)
            survivor.process.send_signal(signal.SIGTERM)
            survivor_code = survivor.wait(timeout=60)
        finally:
            editors.stop()
            cli.stop()
            for daemon in daemons:
                daemon.end()
        found = runs(url)
        clashes = overlaps(found)
        period = {(r.pid, r.started) for r in found if r.started >= since and r.direction == found[0].direction}
        lost = editors.lost()
        problems = [f"runs of pids {a.pid} and {b.pid} overlap ({a.started}–{a.finished}, {b.started}–{b.finished})"
                    for a, b in clashes[:5]]
        problems += lost[:10]
        if take_over > INTERVAL + TAKE_OVER_SLACK:
            problems.append(f"the surviving daemon took over {take_over:.1f} s after the kill")
        if survivor_code != 0:
            problems.append(f"the surviving daemon exited {survivor_code} on SIGTERM: {survivor.stderr()[-600:]}")
        if {r.status for r in caught_up} != {"success"}:
            problems.append(f"the run after the last edit ended {[r.status for r in caught_up]}")
        problems += census(bridge).problems() + ledger_disagreements(bridge)
        figures["seconds"] = scale.seconds
        figures["interval_seconds"] = INTERVAL
        figures["runs"] = len(period)
        figures["runs_by_process"] = {"daemon_a": sum(pid == daemons[0].pid for pid, _ in period),
                                      "daemon_b": sum(pid == daemons[1].pid for pid, _ in period),
                                      "cli": sum(pid not in {d.pid for d in daemons} for pid, _ in period)}
        figures["cli_syncs"] = len(cli.codes)
        figures["cli_syncs_refused_for_the_lock"] = cli.codes.count(1)
        figures["overlaps"] = len(clashes)
        figures["edits"] = editors.edits
        figures["natives_edited"] = {"kicox": len(editors.last_korean), "eccp": len(editors.last_european)}
        figures["lost_updates"] = len(lost)
        figures["take_over_seconds"] = round(take_over, 1)
        figures["problems"] = problems
        assert not problems, "\n".join(problems)


def lock_holder(database_url: str) -> int | None:
    """The server process holding an advisory lock in this database (never another database's)."""
    with ledger(database_url) as engine, engine.connect() as conn:
        held: int | None = conn.execute(sa.text(
            "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()")).scalar()
    return held


class TestLockLost:
    """PostgreSQL: when the server ends the session holding the sync lock in the middle of a run, the run stops
    before writing more, says why in one line (exit 1, no traceback), and the next run completes the sync."""

    @pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
    def test_an_ended_lock_session_stops_the_run_cleanly_and_the_next_run_completes(
        self, platforms: Platforms, figures: Figures
    ) -> None:
        bridge = platforms.start()
        url = bridge.settings.database_url
        run = platforms.spawn("sync", name="lock-lost")
        try:
            assert platforms.tap.wait_for(lambda seen: any(s.write for s in seen), 300, run.alive), run.stderr()
            holder = lock_holder(url)
            assert holder is not None, "the run holds no lock while it writes"
            with ledger(url) as engine, engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
            code = run.wait(timeout=120)
        finally:
            run.end()
        stderr = run.stderr()
        problems = [] if code == 1 else [f"the run exited {code}"]
        if "Traceback" in stderr or "uncaught_exception" in stderr:
            first = stderr[stderr.find("Traceback"):][-800:]
            problems.append(f"the run ended with a traceback instead of the lock-lost message: …{first}")
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        if "sync lock" not in last:
            problems.append(f"the last line does not say the lock was lost: {last[-300:]!r}")
        clean = platforms.cli("sync")
        if clean.code != 0:
            problems.append(f"the next run: {clean.describe()}")
        problems += census(bridge).problems() + ledger_disagreements(bridge)
        figures["stopped_run_exit"] = code
        figures["next_run_exit"] = clean.code
        figures["problems"] = problems
        assert not problems, "\n".join(problems)
