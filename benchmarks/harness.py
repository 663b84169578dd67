"""What the benchmarks share: simulators that record every API request they serve, the environment of a
`clusterbridge` process pointed at them, a timed CLI run with its own peak memory, the bare-client replay
that is the wire's reference, and the rows of the result table.

Every figure is a ratio against a reference measured in the same run on the same machine: the machines are
shared and noisy, so absolute seconds say little on their own.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from clusterbridge.config import Settings, default_dir
from clusterbridge.simulators import EccpSimulator, FaultSpec, KicoxSimulator
from clusterbridge.simulators.base import Request, Response
from clusterbridge.simulators.generate import generate_eccp, generate_kicox

HERE = Path(__file__).resolve().parent
CLIENT_ID, CLIENT_SECRET, SERVICE_KEY, API_KEY = "bench", "bench-secret", "bench/Key+==", "bench-api"
# the PostgreSQL server the benchmarks create their own databases on (and drop them afterwards); any database
# of it will do for the connection that creates them
POSTGRES_SERVER = (os.environ.get("CLUSTERBRIDGE_BENCH_POSTGRES_URL")
                   or os.environ.get("CLUSTERBRIDGE_TEST_POSTGRES_URL")
                   or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# request headers the bare client sends again; the rest (host, length, user agent …) are its own
REPLAYED_HEADERS = ("accept", "authorization", "content-type", "x-api-key")
# client requests per second for the throughput figures: far above anything loopback reaches, so the client's
# own pace never waits (the figures measure the pipeline, not the shipped limits of 8 and 4 a second)
LIFTED_RATE = 100_000.0


# -- the result table --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the result table: `met` is None when the figure has no goal or was not measured."""

    figure: str
    measured: str
    goal: str
    met: bool | None

    def markdown(self) -> str:
        verdict = {True: "yes", False: "**no**", None: "–"}[self.met]
        return f"| {self.figure} | {self.measured} | {self.goal} | {verdict} |"


def table(rows: Iterable[Row]) -> str:
    lines = ["| figure | measured | goal | met? |", "|---|---|---|---|"]
    lines += [row.markdown() for row in rows]
    return "\n".join(lines)


def ratio_row(figure: str, measured: float, reference: float, goal: float, detail: str) -> Row:
    """A 'measured / reference ≤ goal' row; `detail` says what the two seconds are."""
    value = measured / reference if reference > 0 else float("inf")
    return Row(figure, f"{value:.2f}× ({detail})", f"≤ {goal:g}×", value <= goal)


def say(message: str) -> None:
    """Progress on stderr (the figures and the table go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- simulators that record what they serve ------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One API request a simulator served, with the status it answered ("reset" when it dropped the line)."""

    at: float
    method: str
    path: str
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: str

    @property
    def is_write(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH", "DELETE"} and self.path != "/oauth/token"

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "query": self.raw_query, "headers": dict(self.headers),
                "body": self.body.decode("utf-8", "surrogateescape"), "status": self.status}


class _Recording:
    """Mixed into a simulator: keeps every API request it serves (admin routes are not recorded)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.calls: list[Call] = []
        self._calls_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def handle(self, request: Request) -> Response:
        response: Response = super().handle(request)  # type: ignore[misc]
        if not request.path.startswith("/_admin"):
            headers = tuple((k.lower(), v) for k, v in request.headers.items() if k.lower() in REPLAYED_HEADERS)
            status = "reset" if response.delivery == "reset" else str(response.status)
            call = Call(time.monotonic(), request.method, request.path, request.raw_query, headers, request.body,
                        status)
            with self._calls_lock:
                self.calls.append(call)
        return response

    def take_calls(self) -> list[Call]:
        """The calls recorded since the last take."""
        with self._calls_lock:
            calls, self.calls = self.calls, []
        return calls


class RecordingEccp(_Recording, EccpSimulator):
    """The ECCP simulator with two indexes, so that its cost a request stays flat as N grows: the wire reference
    must measure the wire, not the simulator's scans. Shipped, it finds a mirror by walking every record (each
    create of a first sync walks them all: quadratic in N) and filters and sorts every record for each listing
    page. Here a mirror is found by (origin, external id), and a listing page is served from the records of the
    filtered origin changed at or after the page's `changed` bound, in that order (a superset of what matches,
    which the simulator's own listing then filters, sorts, counts and pages exactly as before). Any change the
    indexes do not follow themselves (an edit, a delete, anything through /_admin) rebuilds them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._by_key: dict[tuple[Any, Any], list[Any]] = {}
        self._by_origin: dict[Any, list[Any]] = {}
        self._indexed = False
        super().__init__(*args, **kwargs)

    @staticmethod
    def _order(record: Any) -> tuple[int, int]:
        return record.changed, record.nid

    def _index(self, record: Any) -> None:
        key = (record.origin, record.attributes.get("field_external_id"))
        self._by_key.setdefault(key, []).append(record)
        bisect.insort(self._by_origin.setdefault(record.origin, []), record, key=self._order)

    def _ensure_index(self) -> bool:
        """Build the indexes if they are stale; False when a record's origin or id cannot be a key."""
        if not self._indexed:
            self._by_key, self._by_origin = {}, {}
            try:
                for record in self._records.values():
                    self._index(record)
            except TypeError:
                return False
            self._indexed = True
        return True

    def _stale(self) -> None:
        self._indexed = False

    def load(self, seed: Mapping[str, Any]) -> None:
        super().load(seed)
        self._stale()

    def _new_record(self, attributes: dict[str, Any], uuid: str | None = None) -> Any:
        with self._lock:
            record = super()._new_record(attributes, uuid)
            if self._indexed:
                try:
                    self._index(record)
                except TypeError:
                    self._stale()
            return record

    def _find_mirror(self, origin: Any, external_id: Any) -> Any:
        with self._lock:
            try:
                if self._ensure_index():
                    for record in self._by_key.get((origin, external_id), []):
                        if record.id in self._records and record.origin == origin and \
                                record.attributes.get("field_external_id") == external_id:
                            return record
                    return None
            except TypeError:
                pass
            return super()._find_mirror(origin, external_id)

    def _get(self, uuid: str) -> Any:
        with self._lock:  # never while a listing has swapped the records for its candidates
            return super()._get(uuid)

    def _patch(self, request: Request, uuid: str) -> Response:
        try:
            return super()._patch(request, uuid)
        finally:
            self._stale()

    def _delete(self, uuid: str) -> Response:
        try:
            return super()._delete(uuid)
        finally:
            self._stale()

    def _admin(self, request: Request, parts: list[str]) -> Response:
        try:
            return super()._admin(request, parts)
        finally:
            self._stale()

    def _candidates(self, request: Request) -> list[Any] | None:
        """The records a listing can show, in (changed, nid) order; None when the query is not one indexed."""
        groups: dict[str, dict[str, str]] = {}
        for key, value in request.query_pairs():
            if key.startswith("filter["):
                label, _, rest = key[len("filter["):].partition("]")
                groups.setdefault(label, {})[rest.rstrip("]") if rest else ""] = value
        origin: str | None = None
        since: int | None = None
        for label, parts in groups.items():
            bound: str | None
            if "[condition][path" in parts:
                path = parts.get("[condition][path", "")
                operator = parts.get("[condition][operator", "=")
                bound = parts.get("[condition][value")
            else:
                path, operator, bound = label, parts.get("[operator", "="), parts.get("", parts.get("[value"))
            if path == "field_origin" and operator == "=" and bound is not None:
                origin = bound
            elif path == "changed" and operator in {">=", ">"} and bound is not None and bound.lstrip("-").isdigit():
                since = int(bound)
        if origin is None or not self._ensure_index():
            return None
        rows = self._by_origin.get(origin, [])
        if since is not None:
            rows = rows[bisect.bisect_left(rows, (since, -(2**62)), key=self._order):]
        return rows

    def _list(self, request: Request) -> Response:
        with self._lock:
            touching = self._listing.touch_after_page is not None
            candidates = self._candidates(request)
            if candidates is None:
                response = super()._list(request)
            else:
                everything = self._records
                self._records = {record.id: record for record in candidates}
                try:
                    response = super()._list(request)
                finally:
                    self._records = everything
            if touching:
                self._stale()
            return response


class RecordingKicox(_Recording, KicoxSimulator):
    pass


@dataclass(frozen=True)
class Seeds:
    """Seed documents of both simulators, built once and loaded into as many simulators as a benchmark needs."""

    eccp: dict[str, Any]
    kicox: dict[str, Any]

    @classmethod
    def synthetic(cls, eccp_count: int, kicox_count: int | None = None) -> Seeds:
        kicox_count = eccp_count if kicox_count is None else kicox_count
        return cls({"data": list(generate_eccp(eccp_count))}, {"clusters": list(generate_kicox(kicox_count))})


@dataclass
class Platforms:
    """Both simulators, running, and the environment of a clusterbridge process that syncs them."""

    eccp: RecordingEccp
    kicox: RecordingKicox
    config_dir: Path | None

    def env(self, database: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERBRIDGE_")}
        env.update(CLUSTERBRIDGE_DATABASE_URL=database, CLUSTERBRIDGE_ECCP_BASE_URL=self.eccp.url,
                   CLUSTERBRIDGE_ECCP_CLIENT_ID=CLIENT_ID, CLUSTERBRIDGE_ECCP_CLIENT_SECRET=CLIENT_SECRET,
                   CLUSTERBRIDGE_KICOX_BASE_URL=self.kicox.url, CLUSTERBRIDGE_KICOX_SERVICE_KEY=SERVICE_KEY,
                   CLUSTERBRIDGE_KICOX_API_KEY=API_KEY, CLUSTERBRIDGE_LOG_LEVEL="warning")
        if self.config_dir is not None:
            env["CLUSTERBRIDGE_CONFIG_DIR"] = str(self.config_dir)
        return env

    def take_calls(self) -> dict[str, list[Call]]:
        return {"eccp": self.eccp.take_calls(), "kicox": self.kicox.take_calls()}

    def reset_stats(self) -> None:
        self.eccp.reset_stats()
        self.kicox.reset_stats()
        self.take_calls()


def write_config(folder: Path, rate: float) -> Path:
    """A CLUSTERBRIDGE_CONFIG_DIR whose connectors/eccp.toml and kicox.toml raise the client rate limit."""
    connectors = folder / "connectors"
    connectors.mkdir(parents=True, exist_ok=True)
    for name in ("eccp", "kicox"):
        text = (default_dir("connectors") / f"{name}.toml").read_text(encoding="utf-8")
        (connectors / f"{name}.toml").write_text(re.sub(r"(?m)^rate_limit\s*=.*$", f"rate_limit = {rate}", text),
                                                 encoding="utf-8")
    return folder


@contextmanager
def platforms(seeds: Seeds, config_dir: Path | None, eccp_faults: FaultSpec | None = None,
              kicox_faults: FaultSpec | None = None) -> Iterator[Platforms]:
    """Fresh simulators loaded with `seeds`, serving until the block ends."""
    eccp = RecordingEccp(seeds.eccp, eccp_faults, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                         partner_code="kicox").start(0)
    try:
        kicox = RecordingKicox(seeds.kicox, kicox_faults, service_key=SERVICE_KEY, api_key=API_KEY).start(0)
        try:
            yield Platforms(eccp, kicox, config_dir)
        finally:
            kicox.stop()
    finally:
        eccp.stop()


# -- ledgers -------------------------------------------------------------------------------------------------


@contextmanager
def sqlite_ledger(folder: Path, name: str) -> Iterator[str]:
    path = folder / f"{name}.db"
    yield f"sqlite:///{path}"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def postgres_ledger(name: str) -> Iterator[str]:
    """A database of its own on the PostgreSQL server, dropped afterwards (never the tests' `test`)."""
    admin = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    database = f"bench_{name}_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
        yield sa.make_url(POSTGRES_SERVER).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def postgres_available() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    engine = sa.create_engine(POSTGRES_SERVER)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return f"PostgreSQL at {POSTGRES_SERVER} unreachable: {str(exc.orig).strip().splitlines()[0]}"
    finally:
        engine.dispose()
    return None


# -- timed processes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One process: wall seconds (start-up included), its own peak RSS in MiB, exit code and output."""

    seconds: float
    rss_mib: float
    code: int
    stdout: str
    stderr: str

    def check(self, what: str, allowed: Sequence[int] = (0,)) -> Run:
        if self.code not in allowed:
            raise RuntimeError(f"{what} exited {self.code}:\n{self.stdout[-3000:]}\n{self.stderr[-3000:]}")
        return self


# Linux counts the high-water RSS of the process that spawned a child into the child's own ru_maxrss (exec takes
# it from the memory it replaces), so a child of this process, which holds the simulators and their records,
# would report this process's size. The child is started by this small launcher instead, which reports the
# child's wall time and rusage as one JSON line on its stdout, after the child's own output (sent to files).
_LAUNCHER = """
import json, os, sys, time
out, err = (os.open(path, os.O_WRONLY) for path in sys.argv[1:3])
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[3], sys.argv[3:], os.environ, file_actions=[
    (os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, err, 2)])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"seconds": time.perf_counter() - started, "rss_kib": usage.ru_maxrss,
                  "code": os.waitstatus_to_exitcode(status)}))
"""


def run_process(argv: Sequence[str], env: Mapping[str, str] | None = None) -> Run:
    """Run `argv` to its end: its wall time (start-up included) and its own peak RSS, measured by a launcher a
    few MiB in size (see `_LAUNCHER`), so neither this process nor other runs of the benchmark count in it."""
    with tempfile.TemporaryDirectory(prefix="cb-run-") as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        out.touch()
        err.touch()
        launched = subprocess.run([sys.executable, "-c", _LAUNCHER, str(out), str(err), *argv],
                                  env=dict(env) if env is not None else None, capture_output=True, text=True,
                                  check=False)
        if launched.returncode != 0:
            raise RuntimeError(f"the launcher of {argv[0]} failed: {launched.stderr[-2000:]}")
        measured = json.loads(launched.stdout.strip().splitlines()[-1])
        return Run(float(measured["seconds"]), int(measured["rss_kib"]) / 1024, int(measured["code"]),
                   out.read_text("utf-8", "replace"), err.read_text("utf-8", "replace"))


def clusterbridge(env: Mapping[str, str], *args: str) -> Run:
    return run_process([sys.executable, "-m", "clusterbridge", *args], env)


def sync(env: Mapping[str, str], *args: str) -> Run:
    """`clusterbridge sync ARGS`; exit 0 (in sync) and 3 (partial: some records quarantined) both count."""
    return clusterbridge(env, "sync", *args).check(f"clusterbridge sync {' '.join(args)}", (0, 3))


def settings_for(env: Mapping[str, str]) -> Settings:
    """The Settings a clusterbridge process started with `env` would read, made in this process."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return Settings(_env_file=None)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def upgrade(env: Mapping[str, str]) -> None:
    clusterbridge(env, "db", "upgrade").check("clusterbridge db upgrade")


@dataclass(frozen=True)
class World:
    """What most benchmarks start from: the simulators serving their seeds, a migrated ledger, and the
    environment of a `clusterbridge` process that uses both (its config folder beside the ledger)."""

    folder: Path
    sims: Platforms
    database: str  # the ledger's URL
    env: dict[str, str]


@contextmanager
def world(seeds: Seeds, name: str, database: str = "sqlite", rate: float = LIFTED_RATE) -> Iterator[World]:
    """A temporary folder with a copy of the connectors' settings at client rate limit `rate`, a migrated
    ledger (`database`: "sqlite", a file in the folder, or "postgres", a database of its own) and fresh
    simulators loaded with `seeds`; all of it gone when the block ends."""
    with tempfile.TemporaryDirectory(prefix="cb-bench-") as tmp_name:
        folder = Path(tmp_name)
        config = write_config(folder / "config", rate)
        ledger = postgres_ledger(name) if database == "postgres" else sqlite_ledger(folder, name)
        with ledger as url, platforms(seeds, config) as sims:
            env = sims.env(url)
            upgrade(env)
            yield World(folder, sims, url, env)


# -- the bare client ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    """What the bare client did: wall seconds of its process, requests sent, and how many answers differed
    from the recorded ones (a replay is only a reference when that is 0)."""

    seconds: float
    requests: int
    mismatches: int
    statuses: dict[str, int] = field(default_factory=dict)


def replay(calls: Mapping[str, Sequence[Call]], eccp_url: str, kicox_url: str, folder: Path,
           only_reads: bool = False) -> Replay:
    """Send the recorded requests again, in their recorded order, with `bare_client.py` (httpx and nothing
    else) as a process of its own, so that its start-up counts as the sync's does."""
    script = folder / f"replay-{time.monotonic_ns()}.json"
    merged = sorted(((c, platform) for platform, cs in calls.items() for c in cs), key=lambda pair: pair[0].at)
    requests = [{**call.as_json(), "platform": platform} for call, platform in merged
                if not (only_reads and call.is_write)]
    script.write_text(json.dumps({"eccp": eccp_url, "kicox": kicox_url, "requests": requests}), encoding="utf-8")
    try:
        run = run_process([sys.executable, str(HERE / "bare_client.py"), str(script)]).check("bare client")
    finally:
        script.unlink(missing_ok=True)
    summary = json.loads(run.stdout)
    return Replay(run.seconds, summary["requests"], summary["mismatches"], summary["statuses"])


def count_calls(calls: Mapping[str, Sequence[Call]]) -> tuple[int, int]:
    """(requests, writes) of recorded calls, token requests included in the requests."""
    everything = [c for cs in calls.values() for c in cs]
    return len(everything), sum(c.is_write for c in everything)


def statuses(calls: Iterable[Call]) -> Counter[str]:
    return Counter(c.status for c in calls)
