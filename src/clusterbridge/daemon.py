"""The scheduled daemon: a sync every interval until SIGTERM/SIGINT, then a clean stop after the batch."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from types import FrameType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from clusterbridge.config import Settings
from clusterbridge.errors import ClusterbridgeError, ConfigurationError, SyncLocked
from clusterbridge.store import db

log = structlog.get_logger("clusterbridge.daemon")


def run_daemon(settings: Settings) -> None:
    """Block until a signal asks to stop. A run in progress finishes its current batch first; the next run
    picks up whatever it left, because every write is recorded in the ledger before it is sent."""
    from clusterbridge.runtime import open_engine

    stop = threading.Event()
    fatal: list[ConfigurationError] = []
    database = db.make_engine(settings.database_url)

    with open_engine(settings, stop_requested=stop.is_set, database=database) as engine:

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
                log.warning("daemon.run_skipped", reason=str(exc))
            except ConfigurationError as exc:
                log.error("daemon.configuration_error", error=str(exc))
                fatal.append(exc)
                stop.set()
            except ClusterbridgeError as exc:
                log.error("daemon.run_failed", error=str(exc))
            except Exception as exc:  # a bug or an outage: logged once, the next tick tries again
                log.exception("daemon.run_crashed", error=f"{type(exc).__name__}: {exc}")

        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(job, "interval", minutes=settings.sync_interval_minutes, id="sync",
                          next_run_time=datetime.now(UTC), max_instances=1, coalesce=True)

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("daemon.stopping", signal=signal.Signals(signum).name,
                     note="finishing the current batch first")
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        log.info("daemon.started", interval_minutes=settings.sync_interval_minutes,
                 full_reconcile_hours=settings.full_reconcile_hours)
        scheduler.start()
        while not stop.wait(1.0):
            pass
        scheduler.shutdown(wait=True)
        log.info("daemon.stopped")
    database.dispose()
    if fatal:
        raise fatal[0]
