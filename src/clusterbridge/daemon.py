"""The scheduled daemon: a sync every interval until SIGTERM/SIGINT, then a clean stop after the batch in flight.

It serves `/healthz`, `/readyz` and `/metrics` on CLUSTERBRIDGE_HTTP_HOST:CLUSTERBRIDGE_HTTP_PORT while it runs.
A run that fails for any reason other than configuration (a platform away, the database down, a bug) is logged
once, closed as failed, and tried again at the next tick; readiness turns 503 when a direction keeps failing.
Only a configuration error stops the daemon (exit 2): no retry mends it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from clusterbridge.config import Settings
from clusterbridge.errors import ClusterbridgeError, ConfigurationError, SyncLocked
from clusterbridge.ops.health import ReadinessCheck
from clusterbridge.ops.http_metrics import HttpMetrics
from clusterbridge.ops.metrics import ledger_registry
from clusterbridge.ops.progress import LogProgress
from clusterbridge.ops.server import OpsServer
from clusterbridge.stopping import StopRequest
from clusterbridge.store import db
from clusterbridge.store.ledger import Ledger

log = structlog.get_logger("clusterbridge.daemon")
# how often, at most, a long run writes a progress line
PROGRESS_INTERVAL = 30.0


def run_daemon(settings: Settings) -> None:
    """Block until a signal asks to stop. A run in progress finishes its batch in flight first; the next run
    picks up whatever it left, because every write is recorded in the ledger before it is sent."""
    from clusterbridge.runtime import open_engine

    stop = StopRequest()
    fatal: list[ConfigurationError] = []
    database = db.make_engine(settings.database_url)
    ledger = Ledger(database)
    registry = ledger_registry(ledger)
    metrics = HttpMetrics(registry)

    def database_ok() -> bool:
        with database.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True

    try:
        with open_engine(settings, stop_requested=stop.is_set, database=database, observer=metrics,
                         progress=LogProgress(PROGRESS_INTERVAL)) as engine:

            def job() -> None:
                try:
                    with db.sync_lock(database) as lock:
                        engine.lock = lock
                        try:
                            result = engine.run("both", trigger="daemon")
                        finally:
                            engine.lock = None
                    log.info("daemon.run_finished", exit_code=result.exit_code,
                             statuses={d.direction: d.status for d in result.directions})
                except SyncLocked as exc:
                    log.info("daemon.run_skipped", reason=str(exc))
                except ConfigurationError as exc:
                    log.error("daemon.configuration_error", error=str(exc))
                    fatal.append(exc)
                    stop.set()
                except ClusterbridgeError as exc:
                    log.error("daemon.run_failed", error=str(exc), note="tried again at the next tick")
                except Exception as exc:  # a bug or an outage: logged once, the next tick tries again
                    log.exception("daemon.run_crashed", error=f"{type(exc).__name__}: {exc}",
                                  note="tried again at the next tick")

            scheduler = BackgroundScheduler(timezone=UTC)
            scheduler.add_job(job, "interval", minutes=settings.sync_interval_minutes, id="sync",
                              next_run_time=datetime.now(UTC), max_instances=1, coalesce=True)
            ready = ReadinessCheck(database_ok, ledger, timedelta(minutes=settings.ready_max_failing_minutes))
            server = OpsServer(settings.http_host, settings.http_port, registry=registry,
                               alive=lambda: bool(scheduler.running), ready=ready)

            with stop.on_signals("daemon.stopping", "finishing the batch in flight first", level=logging.INFO):
                server.start()
                try:
                    log.info("daemon.started", interval_minutes=settings.sync_interval_minutes,
                             full_reconcile_hours=settings.full_reconcile_hours, endpoints=server.url)
                    scheduler.start()
                    while not stop.wait(0.5):
                        pass
                    scheduler.shutdown(wait=True)
                finally:
                    server.stop()
            log.info("daemon.stopped")
    finally:
        database.dispose()
    if fatal:
        raise fatal[0]
