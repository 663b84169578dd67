"""The ledger: what clusterbridge wrote where, run history, quarantine and the deletion queue.

Every method commits its own short transaction, so whatever is recorded survives a crash the instant after.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clusterbridge.abc import RecordProblem
from clusterbridge.reconcile.plan import LinkState
from clusterbridge.store.tables import (
    cursors,
    eccp_kr_profiles,
    links,
    native_matches,
    pending_deletions,
    record_errors,
    sync_runs,
    sync_status,
)

DIRECTIONS = ("eccp-to-kicox", "kicox-to-eccp")


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; they were written as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def canonical_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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


class Ledger:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- links ----------------------------------------------------------------------------------------
    def link_states(self, direction: str) -> dict[str, LinkState]:
        """Every link of a direction, without payloads (kept small: ids, state, hash)."""
        q = sa.select(links.c.native_id, links.c.external_id, links.c.mirror_id, links.c.state,
                      links.c.payload_hash).where(links.c.direction == direction)
        with self.engine.connect() as conn:
            return {r.native_id: LinkState(r.native_id, r.external_id, r.mirror_id, r.state, r.payload_hash)
                    for r in conn.execute(q)}

    def link_payload(self, direction: str, native_id: str) -> dict[str, Any] | None:
        q = sa.select(links.c.payload).where(links.c.direction == direction, links.c.native_id == native_id)
        with self.engine.connect() as conn:
            text = conn.execute(q).scalar()
        return json.loads(text) if text else None

    def _upsert_link(self, direction: str, native_id: str, values: dict[str, Any]) -> None:
        stamp = now()
        with self.engine.begin() as conn:
            updated = conn.execute(
                links.update().where(links.c.direction == direction, links.c.native_id == native_id)
                .values(updated_at=stamp, **values)
            ).rowcount
            if not updated:
                conn.execute(links.insert().values(direction=direction, native_id=native_id, created_at=stamp,
                                                   updated_at=stamp, **values))

    def mark_intent(self, direction: str, native_id: str, external_id: str, state: str,
                    mirror_id: str | None = None) -> None:
        """Record a write before it is sent ("creating" or "deleting"): the crash-safety half of a write."""
        values: dict[str, Any] = {"external_id": external_id, "state": state}
        if mirror_id is not None:
            values["mirror_id"] = mirror_id
        self._upsert_link(direction, native_id, values)

    def mark_written(self, direction: str, native_id: str, external_id: str, mirror_id: str | None,
                     payload: Any, payload_hash: str, native_changed: datetime | None) -> None:
        self._upsert_link(direction, native_id, {
            "external_id": external_id, "mirror_id": mirror_id, "state": "live", "payload_hash": payload_hash,
            "payload": canonical_json(payload), "native_changed": native_changed, "written_at": now(),
        })

    def mark_deleted(self, direction: str, native_id: str, external_id: str) -> None:
        if not native_id:
            return
        self._upsert_link(direction, native_id, {"external_id": external_id, "state": "deleted",
                                                 "payload_hash": None, "payload": None, "written_at": now()})

    def mark_linked(self, direction: str, native_id: str, external_id: str) -> None:
        self._upsert_link(direction, native_id, {"external_id": external_id, "state": "linked",
                                                 "mirror_id": None, "payload_hash": None, "payload": None})

    def count_live(self, direction: str) -> int:
        q = sa.select(sa.func.count()).select_from(links).where(
            links.c.direction == direction, links.c.state.in_(("live", "creating", "deleting")))
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def iter_links(self, direction: str | None = None) -> Iterator[sa.Row[Any]]:
        q = sa.select(links).order_by(links.c.direction, links.c.native_id)
        if direction:
            q = q.where(links.c.direction == direction)
        with self.engine.connect() as conn:
            yield from conn.execute(q)

    # -- cursors --------------------------------------------------------------------------------------
    def cursor(self, direction: str) -> tuple[datetime | None, datetime | None, int | None]:
        """(incremental cursor, time of the last complete full listing, its record count)."""
        q = sa.select(cursors).where(cursors.c.direction == direction)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return None, None, None
        return as_utc(row.value), as_utc(row.full_listing_at), row.last_full_count

    def set_cursor(self, direction: str, value: datetime | None, full_count: int | None = None) -> None:
        stamp = now()
        values: dict[str, Any] = {"value": value, "updated_at": stamp}
        if full_count is not None:
            values.update(full_listing_at=stamp, last_full_count=full_count)
        with self.engine.begin() as conn:
            if not conn.execute(cursors.update().where(cursors.c.direction == direction).values(**values)).rowcount:
                conn.execute(cursors.insert().values(direction=direction, **values))

    # -- runs and status ------------------------------------------------------------------------------
    def start_run(self, trigger: str, direction: str, mode: str, dry_run: bool) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(sync_runs.insert().values(
                trigger=trigger, direction=direction, mode=mode, dry_run=dry_run, started_at=now(), status="running",
                pulled=0, created=0, updated=0, deleted=0, unchanged=0, failed=0, held_deletions=0))
            return int(result.inserted_primary_key[0])

    def finish_run(self, run_id: int, status: str, counts: dict[str, int], anomalies: list[str],
                   error: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sync_runs.update().where(sync_runs.c.id == run_id).values(
                finished_at=now(), status=status, anomalies=json.dumps(anomalies, ensure_ascii=False) if anomalies
                else None, error=error, **counts))

    def runs(self, limit: int = 20) -> list[sa.Row[Any]]:
        q = sa.select(sync_runs).order_by(sync_runs.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return list(conn.execute(q))

    def update_status(self, direction: str, run_id: int, status: str, error: str | None,
                      cursor: datetime | None, budget_stopped: bool) -> None:
        stamp = now()
        failing = self.count_errors(direction)
        pending = len(self.pending_deletions(direction=direction))
        live = self.count_live(direction)
        with self.engine.connect() as conn:
            previous = conn.execute(sa.select(sync_status).where(sync_status.c.direction == direction)).first()
        last_success = stamp if status == "success" else (as_utc(previous.last_success_at) if previous else None)
        lag = (stamp - cursor).total_seconds() if cursor else None
        values = {"last_run_id": run_id, "last_run_at": stamp, "last_status": status, "last_success_at": last_success,
                  "last_error": error, "cursor": cursor, "mirrors_live": live, "records_failing": failing,
                  "pending_deletions": pending, "budget_stopped": budget_stopped, "lag_seconds": lag,
                  "updated_at": stamp}
        with self.engine.begin() as conn:
            if previous is None:
                conn.execute(sync_status.insert().values(direction=direction, **values))
            else:
                conn.execute(sync_status.update().where(sync_status.c.direction == direction).values(**values))

    def refresh_status_counts(self, direction: str) -> None:
        """Recount the queue-dependent columns after an operator decision outside a run."""
        with self.engine.begin() as conn:
            conn.execute(sync_status.update().where(sync_status.c.direction == direction).values(
                pending_deletions=len(self.pending_deletions(direction=direction)),
                mirrors_live=self.count_live(direction), updated_at=now()))

    def status_rows(self) -> list[sa.Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(sync_status).order_by(sync_status.c.direction)))

    # -- quarantine -----------------------------------------------------------------------------------
    def quarantine(self, direction: str, stage: str, problem: RecordProblem, run_id: int) -> None:
        stamp = now()
        raw = canonical_json(problem.raw) if problem.raw is not None else None
        with self.engine.begin() as conn:
            existing = conn.execute(sa.select(record_errors.c.id, record_errors.c.attempts).where(
                record_errors.c.direction == direction, record_errors.c.native_id == problem.source_id)).first()
            values = {"stage": stage, "reason": problem.reason, "field": problem.field, "raw": raw,
                      "retryable": problem.retryable, "last_seen": stamp, "last_run_id": run_id}
            if existing:
                conn.execute(record_errors.update().where(record_errors.c.id == existing.id)
                             .values(attempts=existing.attempts + 1, **values))
            else:
                conn.execute(record_errors.insert().values(direction=direction, native_id=problem.source_id,
                                                           first_seen=stamp, attempts=1, **values))

    def clear_errors(self, direction: str, native_ids: Iterable[str]) -> None:
        ids = list(native_ids)
        for start in range(0, len(ids), 500):
            with self.engine.begin() as conn:
                conn.execute(record_errors.delete().where(record_errors.c.direction == direction,
                                                          record_errors.c.native_id.in_(ids[start:start + 500])))

    def errors(self, direction: str | None = None) -> list[sa.Row[Any]]:
        q = sa.select(record_errors).order_by(record_errors.c.direction, record_errors.c.native_id)
        if direction:
            q = q.where(record_errors.c.direction == direction)
        with self.engine.connect() as conn:
            return list(conn.execute(q))

    def count_errors(self, direction: str) -> int:
        q = sa.select(sa.func.count()).select_from(record_errors).where(record_errors.c.direction == direction)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def error_ids(self, direction: str) -> set[str]:
        q = sa.select(record_errors.c.native_id).where(record_errors.c.direction == direction)
        with self.engine.connect() as conn:
            return set(conn.execute(q).scalars())

    # -- deletion queue -------------------------------------------------------------------------------
    def hold_deletion(self, direction: str, native_id: str, external_id: str, mirror_id: str | None,
                      reason: str, run_id: int) -> bool:
        """Queue a deletion for an operator; False when it is already waiting."""
        with self.engine.begin() as conn:
            exists = conn.execute(sa.select(pending_deletions.c.id).where(
                pending_deletions.c.direction == direction, pending_deletions.c.external_id == external_id,
                pending_deletions.c.state.in_(("pending", "approved")))).first()
            if exists:
                return False
            conn.execute(pending_deletions.insert().values(
                direction=direction, native_id=native_id, external_id=external_id, mirror_id=mirror_id,
                reason=reason, state="pending", run_id=run_id, held_at=now()))
            return True

    def pending_deletions(self, direction: str | None = None, states: tuple[str, ...] = ("pending",),
                          ids: Iterable[int] | None = None) -> list[PendingDeletion]:
        q = sa.select(pending_deletions).where(pending_deletions.c.state.in_(states)).order_by(pending_deletions.c.id)
        if direction:
            q = q.where(pending_deletions.c.direction == direction)
        if ids is not None:
            q = q.where(pending_deletions.c.id.in_(list(ids)))
        with self.engine.connect() as conn:
            return [PendingDeletion(r.id, r.direction, r.native_id, r.external_id, r.mirror_id, r.reason, r.state,
                                    as_utc(r.held_at) or now()) for r in conn.execute(q)]

    def decide_deletion(self, deletion_id: int, state: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(pending_deletions.update().where(pending_deletions.c.id == deletion_id)
                         .values(state=state, decided_at=now()))

    def clear_reappeared(self, direction: str, native_ids: Iterable[str]) -> int:
        """Pending deletions whose native is live again clear themselves."""
        ids = list(native_ids)
        cleared = 0
        for start in range(0, len(ids), 500):
            with self.engine.begin() as conn:
                cleared += conn.execute(pending_deletions.update().where(
                    pending_deletions.c.direction == direction, pending_deletions.c.state == "pending",
                    pending_deletions.c.native_id.in_(ids[start:start + 500]),
                ).values(state="cleared", decided_at=now())).rowcount
        return cleared

    # -- rule 11 --------------------------------------------------------------------------------------
    def save_kr_profiles(self, profiles: dict[str, tuple[str, datetime]], replace_all: bool) -> None:
        """ECCP native profiles in Korea (id → (cluster JSON, changed)), the candidates for rule 11."""
        with self.engine.begin() as conn:
            if replace_all:
                conn.execute(eccp_kr_profiles.delete())
            elif profiles:
                conn.execute(eccp_kr_profiles.delete().where(eccp_kr_profiles.c.eccp_id.in_(list(profiles))))
            for eccp_id, (cluster_json, changed) in profiles.items():
                conn.execute(eccp_kr_profiles.insert().values(eccp_id=eccp_id, cluster=cluster_json, changed=changed))

    def kr_profiles(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(eccp_kr_profiles.c.cluster)).scalars())

    def save_matches(self, matches: Iterable[tuple[str, str, float, str]], scope: Iterable[str] | None) -> None:
        """Record rule-11 matches (kicox id, eccp id, score, method) for the Korean clusters in `scope`
        (every one when None), replacing what was known of them."""
        stamp = now()
        with self.engine.begin() as conn:
            if scope is None:
                conn.execute(native_matches.delete())
            else:
                ids = list(scope)
                for start in range(0, len(ids), 500):
                    conn.execute(native_matches.delete().where(native_matches.c.kicox_id.in_(ids[start:start + 500])))
            for kicox_id, eccp_id, score, method in matches:
                conn.execute(native_matches.insert().values(kicox_id=kicox_id, eccp_id=eccp_id, score=score,
                                                            method=method, matched_at=stamp))

    def matches(self) -> list[sa.Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(native_matches).order_by(native_matches.c.kicox_id)))
