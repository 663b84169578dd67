"""Readiness: the database answers and no direction has been failing for too long.

A direction that fails now and then is normal (a platform is away for a while); one that has failed for
longer than the allowed time needs a person, so the replica stops calling itself ready.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from clusterbridge.ops.metrics import StatusSource, utc_now

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Readiness:
    """The answer of `/readyz`: ready, or the reasons why not (one short sentence each)."""

    ready: bool
    reasons: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"ready": True} if self.ready else {"ready": False, "reasons": list(self.reasons)}


class ReadinessCheck:
    """Callable that judges readiness from `database_ok()` and the ledger's `failing_since` per direction.

    Neither a failing probe nor an unreadable ledger raises: each becomes a reason. Exception messages stay
    out of the reasons (a database error may name the server and user); the log line has the detail.
    """

    def __init__(
        self,
        database_ok: Callable[[], bool],
        source: StatusSource,
        max_failing: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database_ok = database_ok
        self._source = source
        self._max_failing = max_failing
        self._clock = clock

    def __call__(self) -> Readiness:
        try:
            database_ok = self._database_ok()
        except Exception as exc:  # any failure of the probe means the database is not usable now
            log.warning("readiness.database_check_failed", error=f"{type(exc).__name__}: {exc}")
            return Readiness(False, (f"database check failed ({type(exc).__name__})",))
        if not database_ok:
            return Readiness(False, ("database not reachable",))
        try:
            statuses = list(self._source.direction_status())
        except Exception as exc:  # same: an unreadable ledger is a reason, not a crash of the endpoint
            log.warning("readiness.ledger_unreadable", error=f"{type(exc).__name__}: {exc}")
            return Readiness(False, (f"sync status unreadable ({type(exc).__name__})",))
        now = self._clock()
        reasons = tuple(
            f"{s.direction} failing since {s.failing_since.isoformat()} "
            f"(longer than {_minutes(self._max_failing)} minutes)"
            for s in sorted(statuses, key=lambda s: s.direction)
            if s.failing_since is not None and now - s.failing_since > self._max_failing
        )
        return Readiness(not reasons, reasons)


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:g}"
