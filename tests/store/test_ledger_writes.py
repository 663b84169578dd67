"""A write call's answer is recorded in one transaction, in a real ledger (SQLite and PostgreSQL): what was
written goes live and leaves the quarantine, what was refused is quarantined, and a failure part-way records
none of it (the next run looks again, as after a crash)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from clusterbridge.abc import RecordProblem
from clusterbridge.store import db
from clusterbridge.store.ledger import Ledger

DIRECTION = "eu-to-kr"


@pytest.fixture
def ledger(engine_factory: Callable[[], sa.Engine]) -> Ledger:
    engine = engine_factory()
    db.upgrade(engine)
    found = Ledger(engine)
    found.mark_intents(DIRECTION, [("a", "eccp:a", "creating", None), ("b", "eccp:b", "creating", None)])
    found.quarantine(DIRECTION, [("write", RecordProblem("a", "refused the last time"))], run_id=1)
    return found


def written(native_id: str) -> dict[str, Any]:
    return {"native_id": native_id, "external_id": f"eccp:{native_id}", "mirror_id": f"m-{native_id}",
            "payload": "{}", "payload_hash": "h", "native_changed": datetime(2026, 1, 1, tzinfo=UTC),
            "translation_pending": False, "withheld": None}


def test_written_rows_go_live_and_leave_the_quarantine_refused_ones_are_quarantined(ledger: Ledger) -> None:
    ledger.confirm_writes(DIRECTION, [written("a")], [("write", RecordProblem("b", "too long"))], run_id=2)
    states = ledger.link_states(DIRECTION, ["a", "b"])
    assert (states["a"].state, states["a"].mirror_id) == ("live", "m-a")
    assert states["b"].state == "creating"  # its intent stands: the next run looks before sending it again
    errors = {e.native_id: e for e in ledger.errors(DIRECTION)}
    assert set(errors) == {"b"}
    assert (errors["b"].reason, errors["b"].attempts, errors["b"].last_run_id) == ("too long", 1, 2)


def test_a_failure_part_way_records_nothing_of_the_answer(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("the database went away"))

    monkeypatch.setattr(Ledger, "_quarantine", broken)
    with pytest.raises(sa.exc.OperationalError):
        ledger.confirm_writes(DIRECTION, [written("a")], [("write", RecordProblem("b", "too long"))], run_id=2)
    assert ledger.link_states(DIRECTION, ["a"])["a"].state == "creating"
    assert [e.native_id for e in ledger.errors(DIRECTION)] == ["a"]
