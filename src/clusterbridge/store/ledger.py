"""The ledger: what clusterbridge wrote where, what each side holds, run history, quarantine, the deletion
queue, and the scratch space of a run in progress.

Every method commits its own transaction, so whatever is recorded survives a crash the instant after. Methods
that the engine calls per record take whole batches, so a batch of records costs one transaction and a few
statements, not several per record.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from clusterbridge.abc import RecordProblem
from clusterbridge.reconcile.plan import LIVE_STATES, LinkState, MirrorState
from clusterbridge.store import db
from clusterbridge.store.tables import (
    cursors,
    links,
    native_matches,
    natives,
    partner_suggestions,
    pending_deletions,
    record_errors,
    run_mirrors,
    run_plan,
    run_tokens,
    service_state,
    sync_runs,
    sync_status,
    unranked_suggestions,
)

CHUNK = 500  # ids per IN (…) clause: far under SQLite's bound-parameter limit
STREAM_ROWS = 1000  # rows fetched at a time where a query reads a whole table
OUTCOME_COLUMNS = ("created", "updated", "unchanged", "deleted", "linked", "skipped", "quarantined")
COUNT_COLUMNS = ("pulled", "retried", "vanished", *OUTCOME_COLUMNS, "failed", "held_deletions")


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (the column type already guarantees it; kept for callers)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def canonical_json(payload: Any) -> str:
    """JSON that hashes the same for the same content, and always encodes: lone surrogates (valid JSON, never
    valid UTF-8) are written as escapes instead of crashing the write."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(payload, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return text


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _insert(conn: sa.Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the connection's dialect, which can say what a conflict on the table's key does."""
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


def _place(conn: sa.Connection, mine: sa.ColumnElement[Any], other: sa.ColumnElement[Any],
           score: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A pair's rank among the pairs of its cluster (`mine`): best score first, then the partner's id compared
    as code points (Python's order, SQLite's BINARY), whatever PostgreSQL's own collation."""
    partner = other.collate("C") if conn.dialect.name == "postgresql" else other
    return sa.func.row_number().over(partition_by=mine, order_by=(score.desc(), partner))


def _rank(conn: sa.Connection, base: sa.ColumnElement[bool], mine: sa.Column[Any], other: sa.Column[Any],
          rank: sa.Column[Any], ids: set[str]) -> None:
    """Rank the stored suggestions of these clusters (`mine`) again: best score first, then the partner's id.
    Only rows whose rank changes are written."""
    c = partner_suggestions.c
    for part in _chunks(sorted(ids)):
        where = base & mine.in_(part)
        place = _place(conn, mine, other, c.score)
        ranks = sa.select(mine.label("mine"), other.label("other"), place.label("place")).where(where).subquery()
        conn.execute(partner_suggestions.update().where(
            where, mine == ranks.c.mine, other == ranks.c.other, rank != ranks.c.place).values(
            {rank.name: ranks.c.place}))


def _insert_ranked(conn: sa.Connection, first_side: str, second_side: str,
                   rows: Iterable[Mapping[str, Any]]) -> int:
    """Write a whole recompute's pairs, given in any order, ranked, and say how many: spilled to a temporary
    table a batch at a time (a pair given again is the same row: the first is kept), then ranked into
    partner_suggestions by one INSERT … SELECT (each row written once more, in the database, where ranking the
    written rows in place would rewrite every one of them)."""
    t = unranked_suggestions
    t.drop(conn, checkfirst=True)  # what an earlier transaction on this connection left, if it ever could
    t.create(conn)
    names = [column.name for column in t.columns]
    spill = _insert(conn, t).on_conflict_do_nothing()
    pending = iter(rows)
    while batch := list(islice(pending, STREAM_ROWS)):
        conn.execute(spill, [{name: r[name] for name in names} for r in batch])
    u = t.c
    ranked = sa.select(
        sa.literal(first_side), u.first_id, sa.literal(second_side), u.second_id, u.score,
        _place(conn, u.first_id, u.second_id, u.score), _place(conn, u.second_id, u.first_id, u.score),
        u.reasons_en, u.reasons_ko, u.computed_at)
    conn.execute(partner_suggestions.insert().from_select(
        ["first_side", "first_id", "second_side", "second_id", "score", "rank_first", "rank_second", "reasons_en",
         "reasons_ko", "computed_at"], ranked))
    stored = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
    t.drop(conn)
    return int(stored)


@dataclass(frozen=True)
class PendingDeletion:
    id: int
    direction: str
    native_id: str
    external_id: str
    mirror_id: str | None
    reason: str
    state: str
    held_at: datetime
    name: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class PlanRow:
    """One record a run handles, as spilled to the ledger's scratch table."""

    item: str
    seq: int
    origin: str  # pulled | retried | vanished | orphan
    kind: str
    native_id: str
    external_id: str
    reason: str
    mirror_id: str | None = None
    name: str | None = None
    country: str | None = None
    payload: str | None = None
    payload_hash: str | None = None
    changed: datetime | None = None
    repair: bool = False
    held: bool = False
    translation_pending: bool = False
    withheld: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class QuarantinedRecord:
    native_id: str
    stage: str
    raw: str | None


@dataclass(frozen=True)
class NativeSnapshot:
    side: str
    native_id: str
    name: str
    country: str
    live: bool
    changed: datetime
    snapshot: str
    snapshot_hash: str


class _Statistics:
    """Keeps PostgreSQL's planner statistics of the tables a run fills in step with their growth.

    PostgreSQL picks a plan by its statistics of each table; autovacuum refreshes them some time after a table
    changed much (a minute's nap at the default settings, then the table's turn). A first sync fills its
    tables from empty well within that time, and without statistics the planner takes a look-up of 500 ids by
    primary key for a scan of a nearly empty index followed by a filter: 11 ms instead of well under 1, measured
    on `natives` and `run_plan` in a first sync of 10,000 a side. So when a table has taken more rows through
    this ledger than half of what its statistics last counted (and at least MIN_ROWS), its statistics are
    refreshed in the transaction that wrote them: `ANALYZE (SKIP_LOCKED)` of the columns its keys and indexes
    cover (what the ledger's queries filter and sort on), which skips a table another session is analysing
    already. Only a table's owner may analyse it: for another user the server skips it with a warning, and the
    statistics wait for autovacuum as before. SQLite plans look-ups by key without statistics: nothing to do
    there."""

    MIN_ROWS = 500

    def __init__(self, engine: Engine) -> None:
        self._on = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()  # both directions write at once
        self._counted: dict[str, float] = {}  # rows the statistics counted when last refreshed
        self._taken: dict[str, int] = {}  # rows written since

    def took(self, conn: sa.Connection, table: sa.Table, rows: int) -> None:
        """`conn` wrote `rows` rows into `table` (and has not committed them yet)."""
        if not self._on:
            return
        if table.name not in self._counted:
            counted = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
                                   {"name": table.name}).scalar()
            self._counted.setdefault(table.name, max(float(counted or 0), 0.0))  # -1: never analysed
        with self._lock:
            taken = self._taken.get(table.name, 0) + rows
            due = taken >= max(self.MIN_ROWS, self._counted[table.name] / 2)
            self._taken[table.name] = 0 if due else taken
            if due:
                self._counted[table.name] += taken
        if due:
            self.refresh(conn, table)

    @staticmethod
    def refresh(conn: sa.Connection, table: sa.Table) -> None:
        keyed: list[Iterable[sa.Column[Any]]] = [table.primary_key.columns]
        keyed += [index.columns for index in table.indexes]
        keyed += [c.columns for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
        columns = dict.fromkeys(column.name for group in keyed for column in group)
        preparer = conn.dialect.identifier_preparer
        listed = ", ".join(preparer.quote(name) for name in columns)
        conn.execute(sa.text(f"ANALYZE (SKIP_LOCKED) {preparer.format_table(table)} ({listed})"))


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reads = db.for_reading(engine)  # the same pool; on PostgreSQL without BEGIN and ROLLBACK
        self._statistics = _Statistics(engine)

    # -- dialect helpers --------------------------------------------------------------------------------
    def _upsert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                keys: Sequence[str], update: Sequence[str]) -> None:
        """INSERT … ON CONFLICT (keys) DO UPDATE SET update-columns, for a batch of rows in one statement."""
        if not rows:
            return
        insert = _insert(conn, table)
        statement = insert.on_conflict_do_update(
            index_elements=list(keys), set_={c: getattr(insert.excluded, c) for c in update}
        )
        conn.execute(statement, list(rows))
        self._statistics.took(conn, table, len(rows))

    # -- links ----------------------------------------------------------------------------------------
    def link_states(self, direction: str, native_ids: Iterable[str]) -> dict[str, LinkState]:
        """The links of the given natives (ids, state, hash; never payloads)."""
        ids = list(dict.fromkeys(native_ids))
        out: dict[str, LinkState] = {}
        c = links.c
        with self.reads.connect() as conn:
            for part in _chunks(ids):
                q = sa.select(c.native_id, c.external_id, c.mirror_id, c.state, c.payload_hash,
                              c.translation_pending).where(c.direction == direction, c.native_id.in_(part))
                for r in conn.execute(q):
                    out[r.native_id] = LinkState(r.native_id, r.external_id, r.mirror_id, r.state, r.payload_hash,
                                                 bool(r.translation_pending))
        return out

    def link_payloads(self, direction: str, native_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(dict.fromkeys(native_ids))
        out: dict[str, dict[str, Any]] = {}
        with self.reads.connect() as conn:
            for part in _chunks(ids):
                q = sa.select(links.c.native_id, links.c.payload).where(
                    links.c.direction == direction, links.c.native_id.in_(part), links.c.payload.is_not(None))
                out.update({r.native_id: json.loads(r.payload) for r in conn.execute(q)})
        return out

    def _write_links(self, conn: sa.Connection, direction: str, rows: Sequence[Mapping[str, Any]],
                     columns: Sequence[str]) -> None:
        stamp = now()
        full = [{"direction": direction, "created_at": stamp, "updated_at": stamp, **row} for row in rows]
        self._upsert(conn, links, full, ("direction", "native_id"), (*columns, "updated_at"))

    def mark_intents(self, direction: str, intents: Sequence[tuple[str, str, str, str | None]]) -> None:
        """Record writes before they are sent — (native id, external id, "creating"|"deleting", mirror id) —
        the crash-safety half of a write."""
        if not intents:
            return
        existing = self.link_states(direction, [i[0] for i in intents])
        rows = []
        for native_id, external_id, state, mirror_id in intents:
            known = existing.get(native_id)
            rows.append({"native_id": native_id, "external_id": external_id, "state": state,
                         "mirror_id": mirror_id or (known.mirror_id if known else None),
                         "payload_hash": known.payload_hash if known else None})
        with self.engine.begin() as conn:
            self._write_links(conn, direction, rows, ("external_id", "state", "mirror_id"))

    def mark_written(self, direction: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Confirm writes: each row has native_id, external_id, mirror_id, payload (JSON text), payload_hash,
        native_changed, translation_pending, withheld."""
        if not rows:
            return
        with self.engine.begin() as conn:
            self._mark_written(conn, direction, rows)

    def confirm_writes(self, direction: str, written: Sequence[Mapping[str, Any]],
                       refused: Sequence[tuple[str, RecordProblem]], run_id: int) -> None:
        """What one write call's answer says, in one transaction: the rows written (as `mark_written` takes
        them; their quarantine entries cleared) and the records refused (quarantined, as `quarantine`)."""
        if not written and not refused:
            return
        with self.engine.begin() as conn:
            self._mark_written(conn, direction, written)
            self._clear_errors(conn, direction, [row["native_id"] for row in written])
            self._quarantine(conn, direction, refused, run_id)

    def _mark_written(self, conn: sa.Connection, direction: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        stamp = now()
        full = [{"state": "live", "written_at": stamp, **row} for row in rows]
        self._write_links(conn, direction, full, ("external_id", "mirror_id", "state", "payload_hash", "payload",
                                                  "native_changed", "written_at", "translation_pending", "withheld"))

    def mark_deleted(self, direction: str, native_id: str, external_id: str) -> None:
        if not native_id:
            return
        with self.engine.begin() as conn:
            self._write_links(conn, direction, [{
                "native_id": native_id, "external_id": external_id, "state": "deleted", "payload_hash": None,
                "payload": None, "written_at": now(), "translation_pending": False}],
                ("external_id", "state", "payload_hash", "payload", "written_at", "translation_pending"))

    def mark_linked(self, direction: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Rule 11: these natives (native id, external id) have their own profile on the target: no mirror."""
        rows = [{"native_id": n, "external_id": e, "state": "linked", "mirror_id": None, "payload_hash": None,
                 "payload": None, "translation_pending": False} for n, e in pairs]
        with self.engine.begin() as conn:
            self._write_links(conn, direction, rows, ("external_id", "state", "mirror_id", "payload_hash", "payload",
                                                      "translation_pending"))

    def count_live(self, direction: str) -> int:
        q = sa.select(sa.func.count()).select_from(links).where(
            links.c.direction == direction, links.c.state.in_(tuple(LIVE_STATES)))
        with self.reads.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def pending_translation_ids(self, direction: str) -> list[str]:
        q = sa.select(links.c.native_id).where(links.c.direction == direction, links.c.translation_pending,
                                               links.c.state == "live")
        with self.reads.connect() as conn:
            return list(conn.execute(q).scalars())

    def iter_links(self, direction: str | None = None) -> Iterator[sa.Row[Any]]:
        q = sa.select(links).order_by(links.c.direction, links.c.native_id)
        if direction:
            q = q.where(links.c.direction == direction)
        with self.reads.connect() as conn:
            yield from conn.execute(q)

    # -- cursors --------------------------------------------------------------------------------------
    def cursor(self, direction: str) -> tuple[datetime | None, datetime | None, int | None]:
        """(incremental cursor, time of the last complete full listing, its record count)."""
        q = sa.select(cursors).where(cursors.c.direction == direction)
        with self.reads.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return None, None, None
        return row.value, row.full_listing_at, row.last_full_count

    def set_cursor(self, direction: str, value: datetime | None, full_count: int | None = None,
                   full_at: datetime | None = None) -> None:
        stamp = now()
        row: dict[str, Any] = {"direction": direction, "value": value, "updated_at": stamp,
                               "full_listing_at": None, "last_full_count": None}
        update = ["value", "updated_at"]
        if full_count is not None:
            row.update(full_listing_at=full_at or stamp, last_full_count=full_count)
            update += ["full_listing_at", "last_full_count"]
        with self.engine.begin() as conn:
            self._upsert(conn, cursors, [row], ("direction",), update)

    # -- runs and status ------------------------------------------------------------------------------
    def close_dead_runs(self, reason: str) -> int:
        """Close runs left 'running' by a process that is gone; call only while holding the sync lock, which
        proves no other sync is alive."""
        with self.engine.begin() as conn:
            closed = conn.execute(sync_runs.update().where(sync_runs.c.status == "running").values(
                status="interrupted", finished_at=now(), error=reason)).rowcount
            conn.execute(sync_status.update().values(run_in_progress=False, current_run_id=None))
        return int(closed or 0)

    def start_run(self, trigger: str, direction: str, mode: str, dry_run: bool) -> int:
        stamp = now()
        with self.engine.begin() as conn:
            result = conn.execute(sync_runs.insert().values(
                trigger=trigger, direction=direction, mode=mode, dry_run=dry_run, started_at=stamp, status="running",
                pid=os.getpid(), **dict.fromkeys(COUNT_COLUMNS, 0)))
            key = result.inserted_primary_key
            assert key is not None  # an INSERT into a table with an integer key always gives one
            run_id = int(key[0])
            row = {"direction": direction, "run_in_progress": True, "current_run_id": run_id, "updated_at": stamp,
                   "mirrors_live": 0, "records_failing": 0, "pending_deletions": 0, "records_behind": 0,
                   "budget_stopped": False}
            self._upsert(conn, sync_status, [row], ("direction",), ("run_in_progress", "current_run_id",
                                                                     "updated_at"))
        return run_id

    def run_progress(self, run_id: int, counts: Mapping[str, int]) -> None:
        """Counters of a run in progress, as its batches commit (so `status` tells the truth mid-run)."""
        with self.engine.begin() as conn:
            conn.execute(sync_runs.update().where(sync_runs.c.id == run_id).values(
                **{k: v for k, v in counts.items() if k in COUNT_COLUMNS}))

    def finish_run(self, run_id: int, status: str, counts: Mapping[str, int], anomalies: Sequence[str],
                   error: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sync_runs.update().where(sync_runs.c.id == run_id).values(
                finished_at=now(), status=status, error=error,
                anomalies=json.dumps(list(anomalies), ensure_ascii=False) if anomalies else None,
                **{k: v for k, v in counts.items() if k in COUNT_COLUMNS}))

    def run(self, run_id: int) -> sa.Row[Any] | None:
        with self.reads.connect() as conn:
            return conn.execute(sa.select(sync_runs).where(sync_runs.c.id == run_id)).first()

    def runs(self, limit: int = 20) -> list[sa.Row[Any]]:
        q = sa.select(sync_runs).order_by(sync_runs.c.id.desc()).limit(limit)
        with self.reads.connect() as conn:
            return list(conn.execute(q))

    def update_status(self, direction: str, *, run_id: int, status: str, started_at: datetime, error: str | None,
                      budget_stopped: bool, fresh: bool) -> None:
        """The dashboard row of a direction after a run. `fresh`: the run completed the direction without
        leaving records behind, so the other side showed everything as of `started_at`."""
        stamp = now()
        failing = self.count_errors(direction)
        pending = len(self.pending_deletions(direction=direction))
        with self.reads.connect() as conn:
            previous = conn.execute(sa.select(sync_status).where(sync_status.c.direction == direction)).first()
        last_success = stamp if status == "success" else (previous.last_success_at if previous else None)
        fresh_as_of = started_at if fresh else (previous.fresh_as_of if previous else None)
        freshness = (stamp - fresh_as_of).total_seconds() if fresh_as_of else None
        row = {"direction": direction, "last_run_id": run_id, "last_run_at": started_at, "last_status": status,
               "last_success_at": last_success, "last_error": error, "cursor": self.cursor(direction)[0],
               "mirrors_live": self.count_live(direction), "records_failing": failing, "pending_deletions": pending,
               "records_behind": failing + pending, "budget_stopped": budget_stopped, "fresh_as_of": fresh_as_of,
               "freshness_seconds": freshness, "lag_seconds": freshness, "run_in_progress": False,
               "current_run_id": None, "updated_at": stamp}
        with self.engine.begin() as conn:
            self._upsert(conn, sync_status, [row], ("direction",), [k for k in row if k != "direction"])

    def refresh_status_counts(self, direction: str) -> None:
        """Recount the queue-dependent columns (after an operator decision outside a run)."""
        failing = self.count_errors(direction)
        pending = len(self.pending_deletions(direction=direction))
        with self.engine.begin() as conn:
            conn.execute(sync_status.update().where(sync_status.c.direction == direction).values(
                pending_deletions=pending, records_failing=failing, records_behind=failing + pending,
                mirrors_live=self.count_live(direction), updated_at=now()))

    # -- what metrics and readiness read (clusterbridge.ops.metrics.StatusSource) ----------------------
    def run_counts(self) -> list[tuple[str, str, int]]:
        """(direction, status, runs) over the finished runs."""
        c = sync_runs.c
        q = (sa.select(c.direction, c.status, sa.func.count()).where(c.status != "running", sa.not_(c.dry_run))
             .group_by(c.direction, c.status))
        with self.reads.connect() as conn:
            return [(r[0], r[1], int(r[2])) for r in conn.execute(q)]

    def record_counts(self) -> list[tuple[str, str, int]]:
        """(direction, outcome, records) summed over the finished runs."""
        c = sync_runs.c
        q = sa.select(c.direction, *(sa.func.coalesce(sa.func.sum(getattr(c, o)), 0) for o in OUTCOME_COLUMNS)).where(
            c.status != "running", sa.not_(c.dry_run)).group_by(c.direction)
        with self.reads.connect() as conn:
            return [(r[0], outcome, int(r[i + 1]))
                    for r in conn.execute(q) for i, outcome in enumerate(OUTCOME_COLUMNS)]

    def direction_status(self) -> list[Any]:
        """Each direction now: last success, freshness, failing since, backlog, whether a run is in progress."""
        from clusterbridge.ops.metrics import DirectionStatus

        c = sync_runs.c
        out = []
        with self.reads.connect() as conn:
            for row in conn.execute(sa.select(sync_status).order_by(sync_status.c.direction)):
                last_ok = conn.execute(sa.select(sa.func.max(c.id)).where(
                    c.direction == row.direction, c.status.not_in(("failed", "running")), sa.not_(c.dry_run))).scalar()
                failing = sa.select(sa.func.min(c.started_at)).where(
                    c.direction == row.direction, c.status == "failed", sa.not_(c.dry_run))
                if last_ok is not None:
                    failing = failing.where(c.id > last_ok)
                out.append(DirectionStatus(
                    direction=row.direction, last_success_at=row.last_success_at, fresh_since=row.fresh_as_of,
                    failing_since=conn.execute(failing).scalar(), quarantined=row.records_failing,
                    held_deletions=row.pending_deletions, mirrors_live=row.mirrors_live,
                    running=bool(row.run_in_progress)))
        return out

    def status_rows(self) -> list[sa.Row[Any]]:
        with self.reads.connect() as conn:
            return list(conn.execute(sa.select(sync_status).order_by(sync_status.c.direction)))

    # -- quarantine -----------------------------------------------------------------------------------
    def quarantine(self, direction: str, entries: Sequence[tuple[str, RecordProblem]], run_id: int) -> None:
        """Store or refresh quarantined records — (stage, problem) with problem.source_id set — in one go."""
        if not entries:
            return
        with self.engine.begin() as conn:
            self._quarantine(conn, direction, entries, run_id)

    def _quarantine(self, conn: sa.Connection, direction: str, entries: Sequence[tuple[str, RecordProblem]],
                    run_id: int) -> None:
        if not entries:
            return
        stamp = now()
        ids = [p.source_id for _, p in entries if p.source_id]
        attempts: dict[str, int] = {}
        for part in _chunks(ids):
            q = sa.select(record_errors.c.native_id, record_errors.c.attempts).where(
                record_errors.c.direction == direction, record_errors.c.native_id.in_(part))
            attempts.update({r.native_id: r.attempts for r in conn.execute(q)})
        rows: dict[str, dict[str, Any]] = {}
        for stage, problem in entries:
            if not problem.source_id:
                continue
            rows[problem.source_id] = {
                "direction": direction, "native_id": problem.source_id, "stage": stage,
                "reason": problem.reason[:2000], "field": (problem.field or None) and problem.field[:120],
                "raw": canonical_json(problem.raw) if problem.raw is not None else None,
                "retryable": problem.retryable, "attempts": attempts.get(problem.source_id, 0) + 1,
                "first_seen": stamp, "last_seen": stamp, "last_run_id": run_id,
            }
        self._upsert(conn, record_errors, list(rows.values()), ("direction", "native_id"),
                     ("stage", "reason", "field", "raw", "retryable", "attempts", "last_seen", "last_run_id"))

    def clear_errors(self, direction: str, native_ids: Iterable[str]) -> None:
        ids = list(native_ids)
        if not ids:
            return
        with self.engine.begin() as conn:
            self._clear_errors(conn, direction, ids)

    @staticmethod
    def _clear_errors(conn: sa.Connection, direction: str, ids: Sequence[str]) -> None:
        for part in _chunks(list(ids)):
            conn.execute(record_errors.delete().where(record_errors.c.direction == direction,
                                                      record_errors.c.native_id.in_(part)))

    def errors(self, direction: str | None = None) -> list[sa.Row[Any]]:
        q = sa.select(record_errors).order_by(record_errors.c.direction, record_errors.c.native_id)
        if direction:
            q = q.where(record_errors.c.direction == direction)
        with self.reads.connect() as conn:
            return list(conn.execute(q))

    def count_errors(self, direction: str) -> int:
        q = sa.select(sa.func.count()).select_from(record_errors).where(record_errors.c.direction == direction)
        with self.reads.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def quarantined(self, direction: str) -> list[QuarantinedRecord]:
        """What a run retries by id: every quarantined record of the direction, with its raw form."""
        q = sa.select(record_errors.c.native_id, record_errors.c.stage, record_errors.c.raw).where(
            record_errors.c.direction == direction).order_by(record_errors.c.native_id)
        with self.reads.connect() as conn:
            return [QuarantinedRecord(r.native_id, r.stage, r.raw) for r in conn.execute(q)]

    # -- deletion queue -------------------------------------------------------------------------------
    def hold_deletions(self, direction: str, held: Sequence[Mapping[str, Any]], run_id: int) -> None:
        """Queue deletions for an operator (each: native_id, external_id, mirror_id, reason, name, country);
        one already waiting or decided stays as it is."""
        if not held:
            return
        with self.engine.begin() as conn:
            known: set[str] = set()
            for part in _chunks([h["external_id"] for h in held]):
                q = sa.select(pending_deletions.c.external_id).where(
                    pending_deletions.c.direction == direction, pending_deletions.c.external_id.in_(part),
                    pending_deletions.c.state.in_(("pending", "approved", "rejected")))
                known.update(conn.execute(q).scalars())
            rows = [{"direction": direction, "state": "pending", "run_id": run_id, "held_at": now(), **h}
                    for h in held if h["external_id"] not in known]
            if rows:
                conn.execute(pending_deletions.insert(), rows)
                self._statistics.took(conn, pending_deletions, len(rows))

    def pending_deletions(self, direction: str | None = None, states: tuple[str, ...] = ("pending",),
                          ids: Iterable[int] | None = None) -> list[PendingDeletion]:
        q = sa.select(pending_deletions).where(pending_deletions.c.state.in_(states)).order_by(pending_deletions.c.id)
        if direction:
            q = q.where(pending_deletions.c.direction == direction)
        if ids is not None:
            q = q.where(pending_deletions.c.id.in_(list(ids)))
        with self.reads.connect() as conn:
            return [PendingDeletion(r.id, r.direction, r.native_id, r.external_id, r.mirror_id, r.reason, r.state,
                                    r.held_at, r.name, r.country) for r in conn.execute(q)]

    def decided_externals(self, direction: str, state: str) -> set[str]:
        """External ids whose deletion an operator decided (`rejected`: keep the mirror)."""
        q = sa.select(pending_deletions.c.external_id).where(pending_deletions.c.direction == direction,
                                                              pending_deletions.c.state == state)
        with self.reads.connect() as conn:
            return set(conn.execute(q).scalars())

    def decide_deletion(self, deletion_id: int, state: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(pending_deletions.update().where(pending_deletions.c.id == deletion_id)
                         .values(state=state, decided_at=now()))

    def clear_reappeared(self, direction: str, native_ids: Iterable[str]) -> int:
        """Held or rejected deletions whose native is live again clear themselves."""
        ids = list(native_ids)
        cleared = 0
        with self.engine.begin() as conn:
            for part in _chunks(ids):
                cleared += conn.execute(pending_deletions.update().where(
                    pending_deletions.c.direction == direction,
                    pending_deletions.c.state.in_(("pending", "rejected")),
                    pending_deletions.c.native_id.in_(part),
                ).values(state="cleared", decided_at=now())).rowcount or 0
        return cleared

    # -- natives (what each side holds) ----------------------------------------------------------------
    def save_natives(self, snapshots: Sequence[NativeSnapshot]) -> None:
        """Store the clusters a run pulled; a new or changed snapshot waits for its partner suggestions."""
        if not snapshots:
            return
        stamp = now()
        by_side: dict[str, list[NativeSnapshot]] = {}
        for snap in snapshots:
            by_side.setdefault(snap.side, []).append(snap)
        with self.engine.begin() as conn:
            for side, snaps in by_side.items():
                before: dict[str, tuple[str, bool, datetime | None]] = {}
                for part in _chunks([s.native_id for s in snaps]):
                    q = sa.select(natives.c.native_id, natives.c.snapshot_hash, natives.c.live,
                                  natives.c.withdrawn_at).where(natives.c.side == side, natives.c.native_id.in_(part))
                    before.update({r.native_id: (r.snapshot_hash, r.live, r.withdrawn_at) for r in conn.execute(q)})
                rows = []
                for s in snaps:
                    old = before.get(s.native_id)
                    if old is not None and old[0] == s.snapshot_hash:
                        continue
                    withdrawn = None if s.live else (old[2] if old is not None and not old[1] and old[2] else stamp)
                    rows.append({"side": side, "native_id": s.native_id, "name": s.name, "country": s.country,
                                 "live": s.live, "changed": s.changed, "snapshot": s.snapshot,
                                 "snapshot_hash": s.snapshot_hash, "first_seen": stamp, "updated_at": stamp,
                                 "withdrawn_at": withdrawn, "suggestions_stale": True})
                self._upsert(conn, natives, rows, ("side", "native_id"),
                             ("name", "country", "live", "changed", "snapshot", "snapshot_hash", "updated_at",
                              "withdrawn_at", "suggestions_stale"))

    def mark_natives_gone(self, side: str, native_ids: Iterable[str]) -> None:
        """Natives a trusted full listing no longer holds: kept for reports, marked withdrawn."""
        stamp = now()
        with self.engine.begin() as conn:
            for part in _chunks(list(native_ids)):
                conn.execute(natives.update().where(natives.c.side == side, natives.c.native_id.in_(part),
                                                    natives.c.live).values(live=False, withdrawn_at=stamp,
                                                                           updated_at=stamp, suggestions_stale=True))

    def stale_suggestions(self, limit: int) -> set[tuple[str, str]] | None:
        """(side, id) of the natives whose partner suggestions wait to be recomputed (changed by a run that ended
        before it recomputed them); None when there are more than `limit`."""
        q = sa.select(natives.c.side, natives.c.native_id).where(natives.c.suggestions_stale.is_(True)).limit(
            limit + 1)
        with self.reads.connect() as conn:
            found = {(str(side), str(native_id)) for side, native_id in conn.execute(q)}
        return None if len(found) > limit else found

    def suggestions_recomputed(self, changed: Iterable[tuple[str, str]] | None) -> None:
        """The suggestions of these natives (every one: None) are current again."""
        c = natives.c
        with self.engine.begin() as conn:
            if changed is None:
                conn.execute(natives.update().where(c.suggestions_stale.is_(True)).values(suggestions_stale=False))
                return
            by_side: dict[str, list[str]] = {}
            for side, native_id in changed:
                by_side.setdefault(side, []).append(native_id)
            for side, ids in by_side.items():
                for part in _chunks(sorted(ids)):
                    conn.execute(natives.update().where(c.side == side, c.native_id.in_(part),
                                                        c.suggestions_stale.is_(True)).values(suggestions_stale=False))

    def native_snapshots(self, side: str, native_ids: Iterable[str]) -> dict[str, str]:
        """Stored cluster JSON by id."""
        out: dict[str, str] = {}
        with self.reads.connect() as conn:
            for part in _chunks(list(dict.fromkeys(native_ids))):
                q = sa.select(natives.c.native_id, natives.c.snapshot).where(natives.c.side == side,
                                                                             natives.c.native_id.in_(part))
                out.update({r.native_id: r.snapshot for r in conn.execute(q)})
        return out

    def natives_in(self, side: str, countries: Sequence[str]) -> list[sa.Row[Any]]:
        """Stored natives of a side located in the given countries (rule 11's candidates)."""
        if not countries:
            return []
        q = sa.select(natives).where(natives.c.side == side, natives.c.country.in_(list(countries)))
        with self.reads.connect() as conn:
            return list(conn.execute(q))

    def iter_natives(self, side: str | None = None, live: bool | None = None) -> Iterator[sa.Row[Any]]:
        q = sa.select(natives).order_by(natives.c.side, natives.c.native_id)
        if side is not None:
            q = q.where(natives.c.side == side)
        if live is not None:
            q = q.where(natives.c.live.is_(live))
        # streamed: a server-side cursor on PostgreSQL (it lives in a transaction), never every row at once
        with self.engine.connect() as conn:
            yield from conn.execution_options(yield_per=STREAM_ROWS).execute(q)

    # -- rule 11 --------------------------------------------------------------------------------------
    def save_matches(self, home_side: str, profile_side: str, matches: Iterable[tuple[str, str, float, str]],
                     scope: Iterable[str] | None) -> None:
        """Record rule-11 matches (home id, profile id, score, method) for the home natives in `scope` (every
        one when None), replacing what was known of them."""
        stamp = now()
        rows = [{"home_side": home_side, "home_id": h, "profile_side": profile_side, "profile_id": p, "score": s,
                 "method": m, "matched_at": stamp} for h, p, s, m in matches]
        with self.engine.begin() as conn:
            where = native_matches.c.home_side == home_side
            if scope is None:
                conn.execute(native_matches.delete().where(where))
            else:
                for part in _chunks(list(scope)):
                    conn.execute(native_matches.delete().where(where, native_matches.c.home_id.in_(part)))
            if rows:
                conn.execute(native_matches.insert(), rows)
                self._statistics.took(conn, native_matches, len(rows))

    def matches(self, home_side: str | None = None) -> list[sa.Row[Any]]:
        q = sa.select(native_matches).order_by(native_matches.c.home_side, native_matches.c.home_id)
        if home_side is not None:
            q = q.where(native_matches.c.home_side == home_side)
        with self.reads.connect() as conn:
            return list(conn.execute(q))

    # -- partner suggestions --------------------------------------------------------------------------
    def replace_suggestions(self, first_side: str, second_side: str, rows: Iterable[Mapping[str, Any]],
                            scope: tuple[set[str], set[str]] | None) -> int:
        """Store suggested pairs (made as they are written, a batch at a time) and say how many are stored;
        `scope` (ids of each side whose suggestions were recomputed) limits what is replaced, None replaces
        everything. Ranks are the database's to set: once the rows are written, every cluster of a whole
        replacement, and after a scoped one every cluster that lost or gained a pair, is ranked among all its
        stored pairs. So the rows may come in any order and with any rank, and nobody holds a listing's pairs to
        rank them; a whole replacement's rows may also name a pair twice (the same row: one is stored), so that
        nobody holds the pairs already given to leave it out."""
        c = partner_suggestions.c
        with self.engine.begin() as conn:
            base = (c.first_side == first_side) & (c.second_side == second_side)
            if scope is None:
                conn.execute(partner_suggestions.delete().where(base))
                return _insert_ranked(conn, first_side, second_side, rows)
            touched: tuple[set[str], set[str]] = (set(), set())
            for mine, other, ids, side in ((c.first_id, c.second_id, scope[0], 0),
                                           (c.second_id, c.first_id, scope[1], 1)):
                touched[side].update(ids)
                for part in _chunks(sorted(ids)):
                    # the partners of the pairs going lose one: their ranks move too
                    touched[1 - side].update(conn.execute(sa.select(other).where(base, mine.in_(part))).scalars())
                    conn.execute(partner_suggestions.delete().where(base, mine.in_(part)))
            pending = iter(rows)
            stored = 0
            while batch := list(islice(pending, STREAM_ROWS)):
                self._upsert(conn, partner_suggestions, batch, ("first_side", "first_id", "second_side", "second_id"),
                             ("score", "rank_first", "rank_second", "reasons_en", "reasons_ko", "computed_at"))
                touched[0].update(r["first_id"] for r in batch)
                touched[1].update(r["second_id"] for r in batch)
                stored += len(batch)
            _rank(conn, base, c.first_id, c.second_id, c.rank_first, touched[0])
            _rank(conn, base, c.second_id, c.first_id, c.rank_second, touched[1])
            return stored

    def suggestion_scores(self, first_side: str, second_side: str) -> Iterator[tuple[str, str, float]]:
        """Every stored pair as (first id, second id, score), streamed: what ranking needs, without the reasons."""
        c = partner_suggestions.c
        q = sa.select(c.first_id, c.second_id, c.score).where(c.first_side == first_side,
                                                              c.second_side == second_side)
        with self.engine.connect() as conn:  # a server-side cursor on PostgreSQL lives in a transaction
            for first_id, second_id, score in conn.execution_options(yield_per=STREAM_ROWS).execute(q):
                yield str(first_id), str(second_id), float(score)

    def has_suggestions(self, first_side: str, second_side: str) -> bool:
        c = partner_suggestions.c
        q = sa.select(c.first_id).where(c.first_side == first_side, c.second_side == second_side).limit(1)
        with self.reads.connect() as conn:
            return conn.execute(q).first() is not None

    def suggestions(self, first_side: str, second_side: str) -> list[sa.Row[Any]]:
        c = partner_suggestions.c
        q = sa.select(partner_suggestions).where(c.first_side == first_side, c.second_side == second_side).order_by(
            c.score.desc(), c.first_id, c.second_id)
        with self.reads.connect() as conn:
            return list(conn.execute(q))

    # -- remembered decisions --------------------------------------------------------------------------
    def state(self, key: str) -> str | None:
        with self.reads.connect() as conn:
            value = conn.execute(sa.select(service_state.c.value).where(service_state.c.key == key)).scalar()
        return None if value is None else str(value)

    def set_state(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            self._upsert(conn, service_state, [{"key": key, "value": value, "updated_at": now()}], ("key",),
                         ("value", "updated_at"))

    def native_ids(self, side: str, *, live: bool = True) -> list[str]:
        q = sa.select(natives.c.native_id).where(natives.c.side == side, natives.c.live.is_(live))
        with self.reads.connect() as conn:
            return list(conn.execute(q.order_by(natives.c.native_id)).scalars())

    # -- a run's scratch space ------------------------------------------------------------------------
    def new_token(self, dry_run: bool) -> str:
        token = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(run_tokens.insert().values(run_token=token, pid=os.getpid(), dry_run=dry_run,
                                                    started_at=now()))
        return token

    def drop_token(self, token: str) -> None:
        with self.engine.begin() as conn:
            for table in (run_plan, run_mirrors, run_tokens):
                conn.execute(table.delete().where(table.c.run_token == token))

    def drop_dead_tokens(self, keep: str, dry_run_age: timedelta = timedelta(hours=12)) -> None:
        """Scratch rows of runs that died: every other real run (the caller holds the sync lock), and dry runs
        older than `dry_run_age` (they take no lock, so a young one may still be working)."""
        with self.reads.connect() as conn:
            rows = list(conn.execute(sa.select(run_tokens)))
        for row in rows:
            if row.run_token != keep and (not row.dry_run or row.started_at < now() - dry_run_age):
                self.drop_token(row.run_token)

    def stage_mirrors(self, token: str, direction: str, mirrors: Sequence[MirrorState]) -> None:
        if not mirrors:
            return
        rows = [{"run_token": token, "direction": direction, "mirror_id": m.mirror_id, "external_id": m.external_id,
                 "content_hash": m.content_hash, "claimed": False} for m in mirrors]
        with self.engine.begin() as conn:
            self._upsert(conn, run_mirrors, rows, ("run_token", "direction", "mirror_id"),
                         ("external_id", "content_hash"))

    def staged_mirrors(self, token: str, direction: str, external_ids: Iterable[str]) -> dict[str, MirrorState]:
        """The first listed mirror (lowest mirror id) of each external id; further copies stay orphans."""
        out: dict[str, MirrorState] = {}
        c = run_mirrors.c
        with self.reads.connect() as conn:
            for part in _chunks(list(dict.fromkeys(external_ids))):
                q = sa.select(c.mirror_id, c.external_id, c.content_hash).where(
                    c.run_token == token, c.direction == direction, c.external_id.in_(part)).order_by(c.mirror_id)
                for r in conn.execute(q):
                    out.setdefault(r.external_id, MirrorState(r.mirror_id, r.external_id, r.content_hash))
        return out

    def claim_mirrors(self, token: str, direction: str, mirror_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(mirror_ids))
        with self.engine.begin() as conn:
            for part in _chunks(ids):
                conn.execute(run_mirrors.update().where(
                    run_mirrors.c.run_token == token, run_mirrors.c.direction == direction,
                    run_mirrors.c.mirror_id.in_(part)).values(claimed=True))

    def claim_linked_mirrors(self, token: str, direction: str) -> None:
        """Claim the first mirror of every external id the ledger links to a native (those are handled
        through their link, never as orphans)."""
        live = sa.select(links.c.external_id).where(links.c.direction == direction,
                                                    links.c.state.in_(tuple(LIVE_STATES)))
        c = run_mirrors.c
        first = (sa.select(c.external_id, sa.func.min(c.mirror_id).label("mirror_id"))
                 .where(c.run_token == token, c.direction == direction, c.external_id.in_(live))
                 .group_by(c.external_id))
        with self.reads.connect() as conn:
            ids = [r.mirror_id for r in conn.execute(first)]
        self.claim_mirrors(token, direction, ids)

    def orphan_mirrors(self, token: str, direction: str) -> list[MirrorState]:
        c = run_mirrors.c
        q = sa.select(c.mirror_id, c.external_id, c.content_hash).where(
            c.run_token == token, c.direction == direction, sa.not_(c.claimed)).order_by(c.mirror_id)
        with self.reads.connect() as conn:
            return [MirrorState(r.mirror_id, r.external_id, r.content_hash) for r in conn.execute(q)]

    def put_plan(self, token: str, direction: str, rows: Sequence[PlanRow]) -> None:
        """Spill planned actions (a record handled twice in one run keeps its latest action)."""
        if not rows:
            return
        latest = {r.item: r for r in rows}  # one statement may not touch a row twice
        values = [{"run_token": token, "direction": direction, **r.__dict__} for r in latest.values()]
        update = [k for k in PlanRow.__dataclass_fields__ if k != "item"]
        with self.engine.begin() as conn:
            self._upsert(conn, run_plan, values, ("run_token", "direction", "item"), update)

    def planned_items(self, token: str, direction: str,
                      items: Iterable[str]) -> dict[str, tuple[datetime | None, str | None]]:
        """Items among `items` the run already planned, with the change time and payload hash planned."""
        out: dict[str, tuple[datetime | None, str | None]] = {}
        c = run_plan.c
        with self.reads.connect() as conn:
            for part in _chunks(list(dict.fromkeys(items))):
                q = sa.select(c.item, c.changed, c.payload_hash).where(c.run_token == token,
                                                                       c.direction == direction, c.item.in_(part))
                out.update({r.item: (r.changed, r.payload_hash) for r in conn.execute(q)})
        return out

    def plan_rows(self, token: str, direction: str, kinds: Sequence[str] | None = None, *,
                  held: bool | None = None, batch: int = 500) -> Iterator[list[PlanRow]]:
        """Planned rows in the order they were planned, a batch at a time (never the whole plan in memory)."""
        c = run_plan.c
        last = -1
        fields = [getattr(c, name) for name in PlanRow.__dataclass_fields__]
        while True:
            q = sa.select(*fields).where(c.run_token == token, c.direction == direction, c.seq > last)
            if kinds is not None:
                q = q.where(c.kind.in_(list(kinds)))
            if held is not None:
                q = q.where(c.held.is_(held))
            with self.reads.connect() as conn:
                rows = [PlanRow(**r._mapping) for r in conn.execute(q.order_by(c.seq).limit(batch))]
            if not rows:
                return
            yield rows
            last = rows[-1].seq

    def plan_counts(self, token: str, direction: str) -> dict[tuple[str, bool, str], int]:
        """(kind, held, origin) → count."""
        c = run_plan.c
        q = (sa.select(c.kind, c.held, c.origin, sa.func.count()).where(c.run_token == token,
                                                                       c.direction == direction)
             .group_by(c.kind, c.held, c.origin))
        with self.reads.connect() as conn:
            return {(r[0], bool(r[1]), r[2]): int(r[3]) for r in conn.execute(q)}

    def plan_items_of(self, token: str, direction: str) -> set[str]:
        """Native ids the run handled in a direction (for the ones it did not: vanished, retried)."""
        c = run_plan.c
        q = sa.select(c.native_id).where(c.run_token == token, c.direction == direction, c.native_id != "")
        with self.reads.connect() as conn:
            return set(conn.execute(q).scalars())

    def vanished_links(self, token: str, direction: str,
                       states: Iterable[str] = LIVE_STATES) -> list[LinkState]:
        """Links (in `states`) of natives the run did not handle: a full listing no longer shows them."""
        planned = sa.select(run_plan.c.native_id).where(run_plan.c.run_token == token,
                                                        run_plan.c.direction == direction)
        c = links.c
        q = sa.select(c.native_id, c.external_id, c.mirror_id, c.state, c.payload_hash).where(
            c.direction == direction, c.state.in_(tuple(states)), c.native_id.not_in(planned)
        ).order_by(c.native_id)
        with self.reads.connect() as conn:
            return [LinkState(r.native_id, r.external_id, r.mirror_id, r.state, r.payload_hash)
                    for r in conn.execute(q)]

    def mark_plan(self, token: str, direction: str, changes: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Update planned rows (item, {column: value}) — held flags, outcomes."""
        if not changes:
            return
        c = run_plan.c
        with self.engine.begin() as conn:
            for item, values in changes:
                conn.execute(run_plan.update().where(c.run_token == token, c.direction == direction,
                                                     c.item == item).values(**values))
