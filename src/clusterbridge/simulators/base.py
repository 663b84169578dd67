"""Shared plumbing of the platform simulators: a loopback HTTP server, fault injection, rate limiting,
latency, request statistics and the admin routes every simulator has.

A simulator subclass supplies only its platform's routes (`_api`, `_admin`) and the shape of its 429/503
answers; everything that makes a platform unreliable lives here, once.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, ClassVar, Literal, Self
from urllib.parse import parse_qsl, unquote, urlsplit

JSON = dict[str, Any]
Clock = Callable[[], float]

LOOPBACK = "127.0.0.1"
# Bodies above this are not read at all (the connection is closed); platform limits are checked by the
# simulators themselves, below it.
MAX_READ_BODY = 16 * 1024 * 1024

# Probabilistic faults, in the order one uniform draw is matched against their cumulative probabilities:
# at most one fault a request, and the same seed gives the same sequence for the same requests. Kinds added
# later go at the end, so that a spec without them draws exactly as it did before.
FAULT_ORDER: tuple[str, ...] = ("error503", "reset", "slow", "truncate", "garble", "gateway", "xml", "error429",
                                "gateway99")
BASE_FAULTS: frozenset[str] = frozenset({"error503", "reset", "slow", "truncate", "garble", "error429"})
# Faults after which a write may or may not have been applied: the client cannot tell which.
_AMBIGUOUS = frozenset({"reset", "slow", "truncate"})


def _probability(raw: str) -> float:
    return float(raw)


def _optional_rate(raw: str) -> float | None:
    value = float(raw)
    return None if value == 0 else value


def _optional_int(raw: str) -> int | None:
    return None if raw.lower() in {"none", "null", ""} else int(raw)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "latency": float,
    "rate_limit": _optional_rate,
    "error503": _probability,
    "reset": _probability,
    "slow": _probability,
    "slow_delay": float,
    "truncate": _probability,
    "garble": _probability,
    "retry_after": int,
    "seed": _optional_int,
    "gateway": _probability,
    "xml": _probability,
    "quota": _optional_int,
    "error429": _probability,
    "gateway99": _probability,
}


@dataclass(frozen=True)
class FaultSpec:
    """What goes wrong, and how often: probabilities are per API request, drawn from `seed`.

    `latency` seconds are added to every API response; `rate_limit` caps requests a second (429 with
    Retry-After above it); `error429` answers 429 at random, whatever the pace (a platform throttling for
    reasons of its own); `slow` answers after `slow_delay` seconds; `retry_after` is the Retry-After of a 503
    or a random 429. `gateway` (codes 01/02/04/05), `gateway99` (code 99, UNKNOWN_ERROR), `xml` and `quota`
    are habits of the KICOX read service only.

    Faults hit the platform API only, never /_admin. ECCP's /oauth/token gets latency, the rate limit and
    error503 (deployments take it down too) but no reset/slow/truncate/garble. After reset, slow or truncate,
    a write was applied or not at random (even odds): the client cannot tell which.
    """

    latency: float = 0.0
    rate_limit: float | None = None
    error503: float = 0.0
    reset: float = 0.0
    slow: float = 0.0
    slow_delay: float = 3.0
    truncate: float = 0.0
    garble: float = 0.0
    retry_after: int = 1
    seed: int | None = None
    gateway: float = 0.0
    xml: float = 0.0
    quota: int | None = None
    error429: float = 0.0
    gateway99: float = 0.0

    def __post_init__(self) -> None:
        for name in FAULT_ORDER:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {name}={value} is not a probability between 0 and 1")
        if sum(getattr(self, name) for name in FAULT_ORDER) > 1.0 + 1e-9:
            raise ValueError("fault probabilities add up to more than 1")
        if self.latency < 0 or self.slow_delay < 0 or self.retry_after < 0:
            raise ValueError("latency, slow_delay and retry_after must not be negative")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be positive (or 0 for none)")
        if self.quota is not None and self.quota < 0:
            raise ValueError("quota must not be negative")

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """`"latency=0.02,rate_limit=10,error503=0.1,seed=42"` → FaultSpec; an empty spec means no faults."""
        values: dict[str, Any] = {}
        for raw_part in (spec or "").split(","):
            part = raw_part.strip()
            if not part:
                continue
            key, sep, raw = (s.strip() for s in part.partition("="))
            if not sep or not raw:
                raise ValueError(f"fault spec item {part!r} is not key=value")
            parser = _PARSERS.get(key)
            if parser is None:
                raise ValueError(f"unknown fault key {key!r}; known: {', '.join(_PARSERS)}")
            try:
                values[key] = parser(raw)
            except ValueError:
                raise ValueError(f"fault spec {key}={raw!r} is not a number") from None
        return cls(**values)

    def __str__(self) -> str:
        """The spec string that parses back to this spec (only the keys that differ from the defaults)."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                parts.append(f"{f.name}={value:g}" if isinstance(value, float) else f"{f.name}={value}")
        return ",".join(parts)

    def non_default(self) -> set[str]:
        return {f.name for f in fields(self) if getattr(self, f.name) != f.default}


@dataclass(frozen=True)
class Request:
    """One HTTP request as a simulator sees it; `path` and `raw_query` are still percent-encoded."""

    method: str
    path: str
    raw_query: str
    headers: Message
    body: bytes

    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    def query(self) -> dict[str, str]:
        """Decoded query parameters; the first of repeated names wins."""
        result: dict[str, str] = {}
        for key, value in self.query_pairs():
            result.setdefault(key, value)
        return result

    def segments(self) -> list[str]:
        """Path segments, each decoded once (so an id holding an encoded '/' stays one segment)."""
        return [unquote(s) for s in self.path.strip("/").split("/") if s]

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.body.decode("utf-8"))


Delivery = Literal["normal", "reset", "truncate"]


@dataclass
class Response:
    """What a route answers; `delivery` lets a fault break the answer on the wire."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delivery: Delivery = "normal"

    @classmethod
    def json(
        cls,
        status: int,
        payload: Any,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, content_type, dict(headers or {}))

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status)


class AdminError(Exception):
    """A bad admin request: answered as {"error": message} with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def admin_body(request: Request) -> JSON:
    """The admin request's JSON object body ({} when empty)."""
    if not request.body.strip():
        return {}
    try:
        body = request.json()
    except ValueError:
        raise AdminError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise AdminError(400, "the body must be a JSON object")
    return body


def load_default_seed(platform: str) -> JSON:
    """The sample data shipped in `simulators/data/<platform>.json`; an empty platform when it is missing."""
    source = resources.files("clusterbridge.simulators").joinpath("data", f"{platform}.json")
    if not source.is_file():
        return {}
    data: JSON = json.loads(source.read_text(encoding="utf-8"))
    return data


class Simulator(ABC):
    """A platform simulator: state in memory behind a real HTTP server on 127.0.0.1.

    Thread-safe: requests are served on threads, and tests read the state in-process at the same time.
    """

    platform: ClassVar[str]
    default_port: ClassVar[int]
    # FaultSpec keys this simulator understands; setting any other to a non-default value is an error.
    fault_keys: ClassVar[frozenset[str]] = frozenset(
        {"latency", "rate_limit", "slow_delay", "retry_after", "seed", *BASE_FAULTS}
    )

    def __init__(
        self,
        faults: FaultSpec | None = None,
        *,
        clock: Clock | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._clock: Clock = clock or time.time
        self._log = log
        self._fault_lock = threading.Lock()
        self._faults = FaultSpec()
        self._rng = random.Random()
        self._window: deque[float] = deque()
        self._stats_lock = threading.Lock()
        self._requests = 0
        self._writes = 0
        self._writes_applied = 0
        self._by_status: Counter[str] = Counter()
        self._fault_counts: Counter[str] = Counter()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.set_faults(faults or FaultSpec())

    # -- life cycle ------------------------------------------------------------------------------------

    def start(self, port: int = 0) -> Self:
        """Serve on 127.0.0.1:`port` (0 picks a free one) from a background thread."""
        if self._server is not None:
            raise RuntimeError(f"the {self.platform} simulator is already running at {self.url}")
        try:
            server = _Server((LOOPBACK, port), self)
        except OSError as exc:
            raise OSError(
                exc.errno, f"the {self.platform} simulator cannot listen on {LOOPBACK}:{port}: {exc.strerror}"
            ) from exc
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.platform}-simulator",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop every open connection; the state stays readable."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.drop_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"the {self.platform} simulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8081 (no trailing slash)."""
        return f"http://{LOOPBACK}:{self.port}"

    def now(self) -> float:
        return self._clock()

    # -- faults and stats ----------------------------------------------------------------------------

    @property
    def faults(self) -> FaultSpec:
        return self._faults

    def set_faults(self, spec: FaultSpec) -> None:
        """Replace the faults (and restart the random sequence from the spec's seed)."""
        foreign = spec.non_default() - self.fault_keys
        if foreign:
            raise ValueError(f"not a fault of the {self.platform} simulator: {', '.join(sorted(foreign))}")
        with self._fault_lock:
            self._faults = spec
            self._rng = random.Random(spec.seed)
            self._window.clear()

    def stats(self) -> JSON:
        """API requests served (admin calls are not counted), by status and by injected fault."""
        with self._stats_lock:
            return {
                "requests": self._requests,
                "by_status": dict(sorted(self._by_status.items())),
                "faults": dict(sorted(self._fault_counts.items())),
                "writes": self._writes,
                "writes_applied": self._writes_applied,
            }

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._requests = self._writes = self._writes_applied = 0
            self._by_status.clear()
            self._fault_counts.clear()

    # -- what a platform supplies ----------------------------------------------------------------------

    @abstractmethod
    def _api(self, request: Request) -> Response:
        """Answer one platform request (no faults here: they are applied around it)."""

    @abstractmethod
    def _admin(self, request: Request, parts: list[str]) -> Response:
        """Answer an admin request below /_admin (`parts` are the segments after it)."""

    @abstractmethod
    def _too_many(self, request: Request, retry_after: int) -> Response:
        """The platform's 429."""

    @abstractmethod
    def _unavailable(self, request: Request, retry_after: int) -> Response:
        """The platform's 503."""

    def _is_write(self, request: Request) -> bool:
        return request.method in {"POST", "PUT", "PATCH", "DELETE"}

    def _fault_scope(self, request: Request) -> frozenset[str]:
        """The probabilistic faults that may hit this request."""
        return BASE_FAULTS

    def _extra_fault(self, kind: str, request: Request) -> Response:
        """A platform-specific fault kind (beyond BASE_FAULTS); by default the request is served as is."""
        return self._call(request, self._is_write(request))

    # -- the request pipeline ------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Entry point of the HTTP handler: admin routes bypass faults and stats."""
        if request.path == "/_admin" or request.path.startswith("/_admin/"):
            return self._handle_admin(request)
        response = self._handle_api(request)
        label = "reset" if response.delivery == "reset" else str(response.status)
        with self._stats_lock:
            self._requests += 1
            self._by_status[label] += 1
        if self._log is not None:
            # never the query string: it carries the KICOX service key
            self._log(f"{request.method} {request.path} {label}")
        return response

    def _handle_api(self, request: Request) -> Response:
        faults = self._faults
        write = self._is_write(request)
        if write:
            with self._stats_lock:
                self._writes += 1
        if faults.latency:
            time.sleep(faults.latency)
        wait = self._rate_check(faults)
        if wait is not None:
            self._count_fault("rate_limit")
            return self._too_many(request, wait)
        kind, applied = self._draw(request, faults, write)
        if kind is None:
            return self._call(request, write)
        self._count_fault(kind)
        if kind == "error503":
            return self._unavailable(request, faults.retry_after)
        if kind == "error429":
            return self._too_many(request, faults.retry_after)
        if kind == "reset":
            if applied:
                self._call(request, write)
            return Response(0, delivery="reset")
        if kind == "slow":
            time.sleep(faults.slow_delay)
            return self._call(request, write) if applied else Response(0, delivery="reset")
        if kind == "truncate":
            response = self._call(request, write) if applied else self._unavailable(request, faults.retry_after)
            response.delivery = "truncate"
            return response
        if kind == "garble":
            return self._garble(self._call(request, write))
        return self._extra_fault(kind, request)

    def _call(self, request: Request, write: bool) -> Response:
        if write:
            with self._stats_lock:
                self._writes_applied += 1
        try:
            return self._api(request)
        except Exception:  # a simulator bug must answer 500, not hang the client
            traceback.print_exc(file=sys.stderr)
            return Response.json(500, {"error": "simulator failure"})

    def _rate_check(self, faults: FaultSpec) -> int | None:
        """Sliding one-second window: the seconds to wait when over the limit, else None."""
        if faults.rate_limit is None:
            return None
        now = time.monotonic()
        with self._fault_lock:
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= faults.rate_limit:
                return max(1, math.ceil(self._window[0] + 1.0 - now))
            self._window.append(now)
        return None

    def _draw(self, request: Request, faults: FaultSpec, write: bool) -> tuple[str | None, bool]:
        scope = self._fault_scope(request)
        with self._fault_lock:
            draw = self._rng.random()
            kind: str | None = None
            cumulative = 0.0
            for name in FAULT_ORDER:
                cumulative += getattr(faults, name)
                if draw < cumulative:
                    kind = name
                    break
            if kind not in scope:
                return None, True
            # a non-idempotent write may or may not have been applied before the failure
            applied = self._rng.random() < 0.5 if write and kind in _AMBIGUOUS else True
            return kind, applied

    def random_choice(self, options: tuple[str, ...]) -> str:
        """A pick from the fault sequence (so that it, too, follows the seed)."""
        with self._fault_lock:
            return self._rng.choice(options)

    def _garble(self, response: Response) -> Response:
        with self._fault_lock:
            junk = self._rng.randbytes(12)
        body = response.body[: len(response.body) // 2] + junk
        return Response(200, body, response.content_type or "application/octet-stream")

    def _count_fault(self, kind: str) -> None:
        with self._stats_lock:
            self._fault_counts[kind] += 1

    def _handle_admin(self, request: Request) -> Response:
        parts = request.segments()[1:]
        try:
            match (request.method, parts):
                case ("GET", ["faults"]):
                    return Response.json(200, {"spec": str(self.faults)})
                case ("POST", ["faults"]):
                    spec = admin_body(request).get("spec") or ""
                    if not isinstance(spec, str):
                        raise AdminError(400, "spec must be a string")
                    try:
                        self.set_faults(FaultSpec.parse(spec))
                    except ValueError as exc:
                        raise AdminError(400, str(exc)) from None
                    return Response.json(200, {"spec": str(self.faults)})
                case ("GET", ["stats"]):
                    return Response.json(200, self.stats())
                case ("POST", ["reset_stats"]):
                    self.reset_stats()
                    return Response.json(200, self.stats())
            return self._admin(request, parts)
        except AdminError as exc:
            return Response.json(exc.status, {"error": exc.message})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the simulator logs through its own `log` callable, without query strings."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._write(Response.json(413, {"error": "request body too large"}), "POST")
            return
        target = self.path
        if not target.startswith("/"):  # absolute-form request target
            split = urlsplit(target)
            target = split.path + (f"?{split.query}" if split.query else "")
        path, _, raw_query = target.partition("?")
        request = Request(self.command, path or "/", raw_query, self.headers, body)
        self._write(self.server.simulator.handle(request), self.command)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_READ_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_READ_BODY:
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, response: Response, method: str) -> None:
        if response.delivery == "reset":
            self._reset()
            return
        body = response.body
        declared = len(body)
        if response.delivery == "truncate":
            # promise more than is sent, then close: the client sees an incomplete body
            declared = len(body) + max(64, len(body) // 2)
            body = body[: len(body) // 2]
            self.close_connection = True
        self.send_response(response.status, HTTPStatus(response.status).phrase)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(declared))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and method != "HEAD":
            with contextlib.suppress(OSError):
                self.wfile.write(body)

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST, so the client sees 'connection reset'."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.rfile.close()
            self.connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn); a loopback simulator has no need to
        socketserver.TCPServer.server_bind(self)
        self.server_name = LOOPBACK
        self.server_port = int(self.server_address[1])

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def drop_connections(self) -> None:
        """Shut every open keep-alive connection, so a stopped simulator answers nothing more."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
