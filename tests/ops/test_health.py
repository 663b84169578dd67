"""Readiness: a reachable database and no direction failing for longer than the allowed time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clusterbridge.ops.health import Readiness, ReadinessCheck
from clusterbridge.ops.metrics import DirectionStatus

from .fakes import MemoryStatus

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LIMIT = timedelta(minutes=60)


def check(source: MemoryStatus, database_ok: bool = True) -> Readiness:
    return ReadinessCheck(lambda: database_ok, source, LIMIT, clock=lambda: NOW)()


class TestReadiness:
    """Ready unless the database is away or a direction has failed for too long."""

    def test_ready_when_nothing_fails(self) -> None:
        source = MemoryStatus(directions=[DirectionStatus("eccp-to-kicox"), DirectionStatus("kicox-to-eccp")])
        assert check(source) == Readiness(True)
        assert check(source).as_json() == {"ready": True}

    def test_a_short_failure_is_still_ready(self) -> None:
        source = MemoryStatus(directions=[DirectionStatus("eccp-to-kicox", failing_since=NOW - timedelta(minutes=59))])
        assert check(source).ready

    def test_a_long_failure_is_not_ready_and_named(self) -> None:
        source = MemoryStatus(directions=[
            DirectionStatus("eccp-to-kicox", failing_since=NOW - timedelta(minutes=61)),
            DirectionStatus("kicox-to-eccp", failing_since=NOW - timedelta(minutes=5)),
        ])
        result = check(source)
        assert not result.ready
        assert result.reasons == ("eccp-to-kicox failing since 2025-03-01T10:59:00+00:00 (longer than 60 minutes)",)
        assert result.as_json() == {"ready": False, "reasons": list(result.reasons)}

    def test_database_down_is_not_ready_without_reading_the_ledger(self) -> None:
        source = MemoryStatus()
        result = check(source, database_ok=False)
        assert result == Readiness(False, ("database not reachable",))
        assert source.reads == 0

    def test_a_raising_probe_is_not_ready_and_keeps_its_message_out(self) -> None:
        def probe() -> bool:
            raise OSError("connection to postgresql://cb:hunter2@db failed")

        result = ReadinessCheck(probe, MemoryStatus(), LIMIT, clock=lambda: NOW)()
        assert result == Readiness(False, ("database check failed (OSError)",))

    def test_an_unreadable_ledger_is_not_ready(self) -> None:
        result = check(MemoryStatus(broken=RuntimeError("no such table: sync_status")))
        assert result == Readiness(False, ("sync status unreadable (RuntimeError)",))
