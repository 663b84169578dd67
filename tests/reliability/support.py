"""What every reliability goal shares: its counts from the environment, both platforms started afresh for each
trial from one set of seed data, the CLI as an operator runs it, and the checks of what the platforms show
against what they should show and against what the ledger says they show."""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr

from clusterbridge.config import Settings
from clusterbridge.errors import SyncLocked
from clusterbridge.simulators import EccpSimulator, FaultSpec, KicoxSimulator
from clusterbridge.simulators.kicox import READ_PATH
from clusterbridge.store import db
from clusterbridge.store.tables import links, metadata, native_matches, sync_runs
from tests.e2e.harness import API_KEY, CLIENT_ID, CLIENT_SECRET, SERVICE_KEY, Bridge, fast_config
from tests.e2e.test_sync import linked, live_korean, published_european

JSON = dict[str, Any]
# What a platform sets on a mirror itself: left out when mirrors are compared payload by payload.
ECCP_SERVER_KEYS = frozenset({"drupal_internal__nid", "created", "changed"})
KICOX_SERVER_KEYS = frozenset({"frgnClstrId", "updtDt"})
NO_FAULTS = FaultSpec()


def _count(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, not {raw!r}")
    return value


@dataclass(frozen=True)
class Scale:
    """How much each goal does. The defaults are the small counts `make test` runs; `make reliability` sets the
    full ones through the environment:

    CLUSTERBRIDGE_RELIABILITY_TRIALS   crash trials per signal and database (default 10; full 100)
    CLUSTERBRIDGE_RELIABILITY_STORMS   fault storms (one seed each) per database (default 1; full 5)
    CLUSTERBRIDGE_RELIABILITY_SECONDS  length of the concurrency period (default 20; full 60)
    CLUSTERBRIDGE_RELIABILITY_RECORDS  native records per platform (default 500)
    CLUSTERBRIDGE_RELIABILITY_SEED     seed of the first trial; trial i uses seed + i (default 1000)
    """

    trials: int
    storms: int
    seconds: int
    records: int
    seed: int

    @classmethod
    def from_env(cls) -> Scale:
        return cls(
            trials=_count("CLUSTERBRIDGE_RELIABILITY_TRIALS", 10),
            storms=_count("CLUSTERBRIDGE_RELIABILITY_STORMS", 1),
            seconds=_count("CLUSTERBRIDGE_RELIABILITY_SECONDS", 20),
            records=_count("CLUSTERBRIDGE_RELIABILITY_RECORDS", 500),
            seed=int(os.environ.get("CLUSTERBRIDGE_RELIABILITY_SEED", "").strip() or 1000),
        )

    def seeds(self, count: int) -> list[int]:
        return [self.seed + i for i in range(count)]


@dataclass(frozen=True)
class SeedData:
    """The generated native records of both platforms, kept parsed; every trial starts from a deep copy."""

    eccp: JSON
    kicox: JSON

    @classmethod
    def read(cls, eccp_file: Path, kicox_file: Path) -> SeedData:
        return cls(*(json.loads(f.read_text(encoding="utf-8")) for f in (eccp_file, kicox_file)))


# -- requests the platforms receive ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One API request a simulator answered, as its log line gives it, with when (monotonic seconds)."""

    at: float
    platform: str
    method: str
    path: str
    label: str  # the status, or "reset"

    @property
    def write(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH", "DELETE"} and self.path != "/oauth/token"

    @property
    def quota_read(self) -> bool:
        return self.platform == "kicox" and self.path == READ_PATH


class RequestTap:
    """Hears every API request both simulators answer (their `log` hook), in order. A test can wait for a
    request, or act inside the handler of the n-th write: after the platform handled it (applied it, unless a
    fault said otherwise), before the client hears the answer."""

    def __init__(self) -> None:
        self._seen: list[Seen] = []
        self._writes = 0
        self._changed = threading.Condition()
        self._on_write: tuple[int, Callable[[], None]] | None = None

    def hook(self, platform: str) -> Callable[[str], None]:
        def log(line: str) -> None:
            method, path, label = line.split(" ", 2)
            seen = Seen(time.monotonic(), platform, method, path, label)
            with self._changed:
                self._seen.append(seen)
                self._writes += seen.write
                number = self._writes if seen.write else 0
                action = self._on_write
                self._changed.notify_all()
            if action is not None and number == action[0]:
                action[1]()

        return log

    def on_write(self, number: int, action: Callable[[], None]) -> None:
        """Call `action` inside the handler of the `number`-th write request (counted over both platforms)."""
        with self._changed:
            self._on_write = (number, action)

    def wait_for(self, check: Callable[[list[Seen]], bool], timeout: float, alive: Callable[[], bool]) -> bool:
        """Wait until `check` holds for the requests seen so far; False when time ran out or `alive` turned
        false first (the run ended)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check(self._seen):
                left = deadline - time.monotonic()
                if left <= 0 or not alive():
                    return False
                self._changed.wait(min(left, 0.05))
        return True

    def seen(self) -> list[Seen]:
        with self._changed:
            return list(self._seen)


def connector_config(tmp: Path, **overrides: Any) -> Path:
    """A CLUSTERBRIDGE_CONFIG_DIR: the shipped connector settings with short retry waits, a client rate limit
    far above what loopback needs, and `overrides` ("eccp.timeout": 1) on top."""
    config = fast_config(tmp)
    for name in ("eccp", "kicox"):
        path = config / "connectors" / f"{name}.toml"
        text = re.sub(r"(?m)^rate_limit\s*=.*$", "rate_limit = 1000.0", path.read_text())
        for key, value in overrides.items():
            platform, _, setting = key.partition(".")
            if platform == name:
                text, found = re.subn(rf"(?m)^{setting}\s*=.*$", f"{setting} = {value}", text)
                assert found == 1, f"{key} is not a setting of connectors/{name}.toml"
        path.write_text(text)
    return config


def make_platforms(seed: SeedData, database_url: str, tmp: Path, **overrides: Any) -> Platforms:
    """Platforms for one family of trials: the ledger migrated once, connector settings under `tmp`."""
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()
    work = tmp / "runs"
    work.mkdir(exist_ok=True)
    return Platforms(seed, database_url, connector_config(tmp / "settings", **overrides), work)


# -- both platforms and the service against them ---------------------------------------------------------------


@dataclass
class CliRun:
    """One finished `clusterbridge` process: its exit code, and its result when it printed one (--json)."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def result(self) -> JSON | None:
        try:
            parsed = json.loads(self.stdout)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def direction(self, name: str) -> JSON:
        result = self.result or {}
        return next((d for d in result.get("directions", []) if d["direction"] == name), {})

    def total(self, count: str) -> int:
        result = self.result or {}
        return sum(int(d.get(count, 0)) for d in result.get("directions", []))

    def describe(self) -> str:
        return f"`clusterbridge {' '.join(self.args)}` exited {self.code}: {self.stderr.strip()[-600:]}"


@dataclass
class Platforms:
    """Both simulated platforms for one family of trials on one ledger database. `start` gives a fresh pair of
    simulators (from the seed data) and an empty ledger, so trials never see each other's state."""

    seed: SeedData
    database_url: str
    config_dir: Path
    workdir: Path
    bridge: Bridge | None = None
    tap: RequestTap = field(default_factory=RequestTap)

    def start(self, eccp_faults: FaultSpec = NO_FAULTS, kicox_faults: FaultSpec = NO_FAULTS, *,
              seed: SeedData | None = None) -> Bridge:
        """Fresh simulators (from `seed`, by default the family's seed data) and an empty ledger."""
        self.stop()
        self.tap = RequestTap()
        data = seed or self.seed
        eccp = EccpSimulator(copy.deepcopy(data.eccp), eccp_faults, client_id=CLIENT_ID,
                             client_secret=CLIENT_SECRET, partner_code="kicox", log=self.tap.hook("eccp")).start(0)
        kicox = KicoxSimulator(copy.deepcopy(data.kicox), kicox_faults, service_key=SERVICE_KEY,
                               api_key=API_KEY, log=self.tap.hook("kicox")).start(0)
        reset_ledger(self.database_url)
        values = {"database_url": self.database_url, "eccp_base_url": eccp.url, "eccp_client_id": CLIENT_ID,
                  "kicox_base_url": kicox.url, "config_dir": str(self.config_dir), "log_level": "warning"}
        secrets = {"eccp_client_secret": CLIENT_SECRET, "kicox_service_key": SERVICE_KEY, "kicox_api_key": API_KEY}
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERBRIDGE_")}
        env.update({f"CLUSTERBRIDGE_{k.upper()}": v for k, v in (values | secrets).items()})
        settings = Settings(**values, **{k: SecretStr(v) for k, v in secrets.items()}, _env_file=None)
        self.bridge = Bridge(eccp, kicox, settings, env)
        return self.bridge

    def stop(self) -> None:
        if self.bridge is not None:
            self.bridge.eccp.stop()
            self.bridge.kicox.stop()
            self.bridge = None

    def calm(self) -> None:
        """No more faults on either platform (their state stays)."""
        assert self.bridge is not None
        self.bridge.eccp.set_faults(NO_FAULTS)
        self.bridge.kicox.set_faults(NO_FAULTS)

    def cli(self, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> CliRun:
        assert self.bridge is not None
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "clusterbridge", *args], env=env or self.bridge.env,
                              capture_output=True, text=True, timeout=timeout, check=False)
        return CliRun(args, done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    def spawn(self, *args: str, name: str = "run", env: dict[str, str] | None = None) -> Spawned:
        """A `clusterbridge` process in the background, its output in files (a pipe nobody reads would block)."""
        assert self.bridge is not None
        return Spawned.start(["clusterbridge", *args], env or self.bridge.env, self.workdir / name)


@dataclass
class Spawned:
    """A `clusterbridge` process running in the background."""

    args: list[str]
    process: subprocess.Popen[bytes]
    out: Path
    err: Path
    started: float

    @classmethod
    def start(cls, args: list[str], env: dict[str, str], stem: Path) -> Spawned:
        out, err = stem.with_suffix(".out"), stem.with_suffix(".err")
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=stdout, stderr=stderr)
        return cls(args, process, out, err, time.monotonic())

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float) -> int:
        """Its exit code; a run still going after `timeout` fails the test with where its threads are."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGUSR1)  # the command line dumps every thread's stack on SIGUSR1
            time.sleep(2)
            raise AssertionError(
                f"`{' '.join(self.args)}` still running after {timeout:.0f} s; the end of its stderr, with the"
                f" stacks of its threads:\n{self.stderr()[-12000:]}"
            ) from None

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def end(self) -> None:
        """Make sure it is gone (a test that failed half-way must not leave a process behind)."""
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=30)


def reset_ledger(database_url: str) -> None:
    """Empty every ledger table (the schema and its migration stamp stay)."""
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
    finally:
        engine.dispose()


@contextmanager
def ledger(database_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def wait_for_lock(database_url: str, timeout: float = 15.0) -> float:
    """Seconds until the sync lock is free (a killed process's session may take a moment to end on the
    server); raises AssertionError when it stays held."""
    started = time.monotonic()
    with ledger(database_url) as engine:
        while True:
            try:
                with db.sync_lock(engine):
                    return time.monotonic() - started
            except SyncLocked:
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"the sync lock was still held {timeout:.0f} s after the run ended") from None
                time.sleep(0.05)


# -- what the platforms show ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Census:
    """Mirrors on each platform against the live natives of the other (rule-11 links excepted)."""

    eccp_duplicates: int
    eccp_missing: int
    eccp_unexpected: int
    kicox_duplicates: int
    kicox_missing: int
    kicox_unexpected: int

    @property
    def duplicates(self) -> int:
        return self.eccp_duplicates + self.kicox_duplicates

    @property
    def missing(self) -> int:
        return self.eccp_missing + self.kicox_missing

    @property
    def unexpected(self) -> int:
        return self.eccp_unexpected + self.kicox_unexpected

    def problems(self) -> list[str]:
        return [f"{name.replace('_', ' ')}: {value}" for name, value in vars(self).items() if value]


def census(bridge: Bridge, excused: Collection[str] = ()) -> Census:
    """`excused` external ids are counted neither missing nor unexpected (records a test checks one by one)."""
    kicox_linked, eccp_linked = linked(bridge)
    skip = set(excused)
    on_eccp = Counter(e for r in bridge.eccp_mirrors() if (e := r["attributes"]["field_external_id"]) not in skip)
    want_eccp = set(live_korean(bridge)) - kicox_linked - skip
    on_kicox = Counter(e for f in bridge.kicox_mirrors() if (e := f["extrlId"]) not in skip)
    want_kicox = {f"eccp:{uuid}" for uuid in published_european(bridge)} - {f"eccp:{e}" for e in eccp_linked} - skip
    return Census(
        eccp_duplicates=sum(n - 1 for n in on_eccp.values()),
        eccp_missing=len(want_eccp - set(on_eccp)),
        eccp_unexpected=len(set(on_eccp) - want_eccp),
        kicox_duplicates=sum(n - 1 for n in on_kicox.values()),
        kicox_missing=len(want_kicox - set(on_kicox)),
        kicox_unexpected=len(set(on_kicox) - want_kicox),
    )


def mirrors_by_external_id(bridge: Bridge) -> dict[str, dict[str, tuple[str, JSON]]]:
    """Per direction, each mirror the target shows: external id → (mirror id, content without server keys)."""
    eccp = {r["attributes"]["field_external_id"]: (r["id"], _without(r["attributes"], ECCP_SERVER_KEYS))
            for r in bridge.eccp_mirrors()}
    kicox = {f["extrlId"]: (f["extrlId"], _without(f, KICOX_SERVER_KEYS)) for f in bridge.kicox_mirrors()}
    return {"kr-to-eu": eccp, "eu-to-kr": kicox}


def mirror_contents(bridge: Bridge) -> dict[str, dict[str, JSON]]:
    """Per direction, external id → the mirror's content (what a reader sees, without server keys)."""
    return {d: {ext: content for ext, (_id, content) in shown.items()}
            for d, shown in mirrors_by_external_id(bridge).items()}


def _without(payload: JSON, keys: frozenset[str]) -> JSON:
    return {k: v for k, v in payload.items() if k not in keys}


def ledger_disagreements(bridge: Bridge) -> list[str]:
    """Where the ledger and the platforms disagree: a live link whose mirror is absent, has another id or shows
    another payload; a mirror no live link names; a write intent left behind; a run left running; one profile
    taken as the own profile of two natives (rule 11 pairs one with one)."""
    shown = mirrors_by_external_id(bridge)
    problems: list[str] = []
    with ledger(bridge.settings.database_url) as engine, engine.connect() as conn:
        rows = list(conn.execute(sa.select(links.c.direction, links.c.native_id, links.c.external_id,
                                           links.c.mirror_id, links.c.state, links.c.payload)))
        running = conn.execute(sa.select(sa.func.count()).select_from(sync_runs)
                               .where(sync_runs.c.status == "running")).scalar_one()
        shared = list(conn.execute(
            sa.select(native_matches.c.profile_id, sa.func.count().label("homes"))
            .group_by(native_matches.c.profile_side, native_matches.c.profile_id)
            .having(sa.func.count() > 1)))
    named: dict[str, set[str]] = {d: set() for d in shown}
    for row in rows:
        if row.state in ("creating", "deleting"):
            problems.append(f"{row.direction} {row.native_id}: link left {row.state}")
        if row.state != "live":
            continue
        named[row.direction].add(row.external_id)
        found = shown[row.direction].get(row.external_id)
        if found is None:
            problems.append(f"{row.direction} {row.native_id}: the ledger says live, the target has no mirror")
            continue
        mirror_id, content = found
        if mirror_id != row.mirror_id:
            problems.append(f"{row.direction} {row.native_id}: mirror id {mirror_id} on the target, "
                            f"{row.mirror_id} in the ledger")
        payload = json.loads(row.payload) if row.payload else {}
        differing = sorted(k for k, v in payload.items() if content.get(k) != v)
        if differing:
            problems.append(f"{row.direction} {row.native_id}: the mirror differs from the ledger's payload in "
                            f"{', '.join(differing[:5])}")
    for direction, mirrors in shown.items():
        for external_id in sorted(set(mirrors) - named[direction])[:20]:
            problems.append(f"{direction} {external_id}: a mirror on the target that no live link names")
    if running:
        problems.append(f"{running} sync_runs rows still 'running'")
    problems += [f"profile {row.profile_id} is the own profile of {row.homes} natives" for row in shared]
    return problems


def write_requests(seen: list[Seen]) -> int:
    return sum(1 for s in seen if s.write)


# -- figures --------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one test measured, by name: printed at the end of the session and kept as JSON."""

    test: str
    values: dict[str, Any] = field(default_factory=dict)

    def __setitem__(self, name: str, value: Any) -> None:
        self.values[name] = value

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def line(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.values.items() if not isinstance(v, list | dict))
        return f"{self.test}: {shown}"

    def save(self, folder: Path) -> Path:
        folder.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.test).strip("_")
        path = folder / f"{name}.json"
        path.write_text(json.dumps({"test": self.test, **self.values}, indent=2, default=str, ensure_ascii=False))
        return path
