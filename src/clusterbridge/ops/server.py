"""The daemon's operator endpoints, `/healthz`, `/readyz` and `/metrics`, served from a background thread.

The standard library's threading HTTP server is enough: three read-only routes, polled every few seconds by
an orchestrator and a Prometheus server. A scrape never blocks a sync, and a sync never blocks a probe.
"""

from __future__ import annotations

import errno
import json
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast

import structlog
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from clusterbridge.errors import ConfigurationError
from clusterbridge.ops.health import Readiness

log = structlog.get_logger(__name__)


class OpsServer:
    """Serves the endpoints on `host`:`port` (port 0 picks a free one; `port` tells which) until `stop()`.

    `alive()` says whether the scheduler still runs (`/healthz`), `ready()` whether the replica may take
    work (`/readyz`); `registry` is what `/metrics` renders. A callable that raises counts as a "no".
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        registry: Collector,
        alive: Callable[[], bool],
        ready: Callable[[], Readiness],
    ) -> None:
        self.host = host
        self._requested_port = port
        self._routes = _Routes(registry, alive, ready)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port bound (the requested one until `start()`)."""
        return self._server.server_address[1] if self._server is not None else self._requested_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind and serve; a busy or unknown address is a ConfigurationError that names host and port."""
        if self._server is not None:
            raise RuntimeError("the endpoints are already being served")
        try:
            server = _Server((self.host, self._requested_port), _Handler, self._routes)
        except OSError as exc:
            where = f"{self.host}:{self._requested_port}"
            why = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
            raise ConfigurationError(
                f"cannot serve /healthz, /readyz and /metrics on {where}: {why} "
                "(check CLUSTERBRIDGE_HTTP_HOST and CLUSTERBRIDGE_HTTP_PORT)"
            ) from exc
        self._server = server
        # a short poll keeps stop() quick; ten idle wake-ups a second cost nothing
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="ops-endpoints", daemon=True
        )
        self._thread.start()
        log.info("ops.endpoints_started", url=self.url)

    def stop(self) -> None:
        """Stop serving and release the port; harmless when not started."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = self._thread = None
        log.info("ops.endpoints_stopped")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _Routes:
    """What each path answers: (status, content type, body)."""

    def __init__(self, registry: Collector, alive: Callable[[], bool], ready: Callable[[], Readiness]) -> None:
        self.registry = registry
        self.alive = alive
        self.ready = ready

    def answer(self, path: str, accept: str) -> tuple[HTTPStatus, str, bytes]:
        if path == "/healthz":
            alive = _asks(self.alive, "healthz")
            return _json(HTTPStatus.OK if alive else HTTPStatus.SERVICE_UNAVAILABLE, {"alive": alive})
        if path == "/readyz":
            try:
                readiness = self.ready()
            except Exception as exc:  # a broken check must answer "not ready", never a dropped connection
                log.warning("ops.readiness_failed", error=f"{type(exc).__name__}: {exc}")
                readiness = Readiness(False, (f"readiness check failed ({type(exc).__name__})",))
            status = HTTPStatus.OK if readiness.ready else HTTPStatus.SERVICE_UNAVAILABLE
            return _json(status, readiness.as_json())
        if path == "/metrics":
            # Prometheus asks for the format it prefers; a plain client gets the text format 0.0.4
            encoder, content_type = choose_encoder(accept)
            return HTTPStatus.OK, content_type, encoder(self.registry)
        return _json(HTTPStatus.NOT_FOUND, {"error": "not found", "paths": ["/healthz", "/readyz", "/metrics"]})


def _asks(probe: Callable[[], bool], name: str) -> bool:
    try:
        return bool(probe())
    except Exception as exc:  # a probe that cannot answer says "no"
        log.warning("ops.probe_failed", probe=name, error=f"{type(exc).__name__}: {exc}")
        return False


def _json(status: HTTPStatus, body: dict[str, Any]) -> tuple[HTTPStatus, str, bytes]:
    return status, "application/json", json.dumps(body).encode() + b"\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], routes: _Routes) -> None:
        self.routes = routes
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    server_version = "clusterbridge"
    # a client that stalls does not hold a thread for long
    timeout = 10

    def do_GET(self) -> None:
        routes = cast(_Server, self.server).routes
        try:
            status, content_type, body = routes.answer(self.path.split("?", 1)[0], self.headers.get("Accept", ""))
        except Exception as exc:  # a failing collector gives a 500 the scraper reports, not a lost thread
            log.error("ops.endpoint_failed", path=self.path, exc_info=exc)
            status, content_type, body = HTTPStatus.INTERNAL_SERVER_ERROR, "text/plain", b"internal error\n"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # access lines go through structlog (so JSON mode stays JSON), at debug: probes come every few seconds
        log.debug("ops.request", client=self.client_address[0], line=format % args)
