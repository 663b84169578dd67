"""One sync run: pull natives, plan against the ledger and the target, guard, write, record.

The run is crash-safe because every write is announced in the ledger before it is sent ("creating",
"deleting") and confirmed after; a run killed anywhere in between is finished by the next one, whose
creates adopt what already exists on the target and whose deletes treat an absent mirror as done.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog

from clusterbridge.abc import Connector, MirrorWrite, RecordProblem
from clusterbridge.config import Settings
from clusterbridge.errors import ConfigurationError, PlatformError, QuotaExhausted
from clusterbridge.mapping import Mapper
from clusterbridge.model import Cluster
from clusterbridge.reconcile.guards import deletion_limit, listing_anomalies, update_limit
from clusterbridge.reconcile.plan import LIVE_STATES, Action, MirrorState, NativeItem, Plan, decide, decide_absent
from clusterbridge.store.ledger import DIRECTIONS, Ledger, now
from clusterbridge.sync.payload import content_hash

log = structlog.get_logger("clusterbridge.sync")

Direction = Literal["eccp-to-kicox", "kicox-to-eccp"]
RunStatus = Literal["success", "partial", "failed", "stopped", "dry-run"]
ROUTES: dict[str, tuple[str, str]] = {"eccp-to-kicox": ("eccp", "kicox"), "kicox-to-eccp": ("kicox", "eccp")}
WRITE_BATCH = 100


@dataclass
class DirectionResult:
    """What one direction of a run did (or, in a dry run, would do)."""

    direction: str
    mode: str
    status: RunStatus = "success"
    plan: Plan | None = None
    pulled: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    held: int = 0
    anomalies: list[str] = field(default_factory=list)
    error: str | None = None
    run_id: int | None = None

    def counts(self) -> dict[str, int]:
        return {"pulled": self.pulled, "created": self.created, "updated": self.updated, "deleted": self.deleted,
                "unchanged": self.unchanged, "failed": self.failed, "held_deletions": self.held}


@dataclass
class RunResult:
    directions: list[DirectionResult]

    @property
    def exit_code(self) -> int:
        """DESIGN.md: 0 in sync, 3 partial (records quarantined, deletions held, quota), 1 failed."""
        statuses = {d.status for d in self.directions}
        if statuses & {"failed", "stopped"}:
            return 1
        if "partial" in statuses:
            return 3
        return 0


@dataclass
class _Pulled:
    """A direction after its pull and plan, before guards and writes."""

    result: DirectionResult
    plan: Plan
    full: bool
    trusted: bool
    live_ids: set[str]
    cursor: datetime | None
    complete: bool
    received: int
    problems: list[tuple[str, RecordProblem]]
    kr_profiles: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    clusters_for_matching: list[Cluster] = field(default_factory=list)


class SyncEngine:
    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        connectors: Mapping[str, Connector],
        mapper: Mapper,
        *,
        stop_requested: Callable[[], bool] = lambda: False,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.connectors = connectors
        self.mapper = mapper
        self.stop_requested = stop_requested

    # -- the run ----------------------------------------------------------------------------------------
    def run(
        self,
        direction: str = "both",
        *,
        full: bool = False,
        dry_run: bool = False,
        trigger: str = "cli",
        allow_mass_update: bool = False,
    ) -> RunResult:
        directions = list(DIRECTIONS) if direction == "both" else [direction]
        for d in directions:
            if d not in ROUTES:
                raise ConfigurationError(f"unknown direction {d!r}: use eccp-to-kicox, kicox-to-eccp or both")

        pulled: dict[str, _Pulled] = {}
        results: list[DirectionResult] = []
        # ECCP first: its Korean profiles are the candidates against which Korean clusters are matched
        for d in directions:
            mode = "full" if full or self._full_due(d) else "incremental"
            res = DirectionResult(direction=d, mode=mode)
            results.append(res)
            if not dry_run:
                res.run_id = self.ledger.start_run(trigger, d, mode, dry_run)
            bound = log.bind(direction=d, mode=mode, run_id=res.run_id)
            bound.info("sync.start", dry_run=dry_run)
            try:
                pulled[d] = self._pull_and_plan(d, res, full=mode == "full", dry_run=dry_run)
            except ConfigurationError:
                self._finish(res, "failed", "configuration error", dry_run)
                raise
            except PlatformError as exc:
                bound.error("sync.failed", error=str(exc))
                self._finish(res, "failed", str(exc), dry_run)

        self._apply_matches(pulled, dry_run)

        for d, p in pulled.items():
            res = p.result
            try:
                self._guard_and_write(d, p, dry_run=dry_run, allow_mass_update=allow_mass_update)
            except ConfigurationError:
                self._finish(res, "failed", "configuration error", dry_run)
                raise
            except PlatformError as exc:
                log.error("sync.failed", direction=d, error=str(exc))
                res.status, res.error = "failed", str(exc)
            self._finish(res, res.status, res.error, dry_run, pulled=p)
        return RunResult(results)

    def _full_due(self, direction: str) -> bool:
        cursor, full_at, _ = self.ledger.cursor(direction)
        if cursor is None or full_at is None:
            return True
        return now() - full_at > timedelta(hours=self.settings.full_reconcile_hours)

    # -- pull and plan ------------------------------------------------------------------------------------
    def _mirror_index(self, target: Connector, target_name: str) -> tuple[dict[str, MirrorState], list[MirrorState]]:
        index: dict[str, MirrorState] = {}
        duplicates: list[MirrorState] = []
        for page in target.iter_mirrors():
            for mirror in page:
                state = MirrorState(mirror.mirror_id, mirror.external_id, content_hash(mirror.payload, target_name))
                if mirror.external_id in index:
                    duplicates.append(state)
                else:
                    index[mirror.external_id] = state
        return index, duplicates

    def _pull_and_plan(self, direction: str, res: DirectionResult, *, full: bool, dry_run: bool) -> _Pulled:
        source_name, target_name = ROUTES[direction]
        source, target = self.connectors[source_name], self.connectors[target_name]
        links = self.ledger.link_states(direction)
        cursor, _, last_full_count = self.ledger.cursor(direction)
        mirrors: dict[str, MirrorState] = {}
        duplicates: list[MirrorState] = []
        if full:
            mirrors, duplicates = self._mirror_index(target, target_name)

        plan = Plan(direction)
        seen: set[str] = set()
        live_ids: set[str] = set()
        problems: list[tuple[str, RecordProblem]] = []
        kr_profiles: dict[str, tuple[str, datetime]] = {}
        korean: list[Cluster] = []
        reported_total: int | None = None
        received = 0
        newest: datetime | None = None
        pin: datetime | None = None  # the cursor may not pass a record that failed
        ended_on_error: str | None = None

        since = None if full else cursor
        pages = source.iter_natives(since)
        try:
            for page in pages:
                if page.reported_total is not None:
                    reported_total = page.reported_total
                received += len(page.records) + len(page.problems)
                for problem in page.problems:
                    problems.append(("pull", problem))
                    pin = min(pin, newest) if pin and newest else (newest or since or pin)
                for record in page.records:
                    item, cluster = self._render(direction, record, problems)
                    if item is None or cluster is None:
                        pin = min(pin, newest) if pin and newest else (newest or since or pin)
                        continue
                    newest = max(newest, item.changed) if newest else item.changed
                    seen.add(item.native_id)
                    if item.live:
                        live_ids.add(item.native_id)
                    if source_name == "eccp" and cluster.country == "KR":
                        kr_profiles[cluster.source_id] = (cluster.model_dump_json(), cluster.source_changed)
                    if source_name == "kicox" and item.live:
                        korean.append(cluster)
                    mirror = mirrors.pop(item.external_id, None) if full else None
                    plan.actions.append(self._slim(decide(item, links.get(item.native_id), mirror, full=full)))
                if self.stop_requested():
                    ended_on_error = "stopped on request before the listing ended"
                    break
        except QuotaExhausted as exc:
            ended_on_error = str(exc)
            res.anomalies.append(f"{exc} — the run resumes from here on a later run")
            log.warning("sync.quota_exhausted", direction=direction, error=str(exc))
        except PlatformError as exc:
            if isinstance(exc, ConfigurationError):
                raise
            ended_on_error = str(exc)
            log.warning("sync.listing_incomplete", direction=direction, error=str(exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

        res.pulled = received
        trusted = True
        if full:
            anomalies = listing_anomalies(received, reported_total, last_full_count,
                                          self.settings.listing_min_ratio, ended_on_error)
            trusted = not anomalies
            res.anomalies.extend(a for a in anomalies if a not in res.anomalies)
        elif ended_on_error and not res.anomalies:
            res.anomalies.append(f"the listing ended early: {ended_on_error}")

        absent = [link for nid, link in links.items() if nid not in seen]
        # a mirror whose native the ledger knows but the listing did not show is handled through its link
        linked_externals = {link.external_id for link in links.values() if link.state in LIVE_STATES}
        orphans = [m for ext, m in mirrors.items() if ext not in linked_externals] + duplicates
        # an untrusted listing still plans its deletions: the guard holds them for an operator
        plan.actions.extend(decide_absent(absent, orphans, full=full, trusted=True))

        new_cursor = newest if pin is None else min(pin, newest or pin)
        res.plan = plan
        counted = ended_on_error is None and (reported_total is None or reported_total == received)
        return _Pulled(result=res, plan=plan, full=full, trusted=trusted, live_ids=live_ids,
                       cursor=new_cursor or cursor, complete=counted, received=received,
                       problems=problems, kr_profiles=kr_profiles, clusters_for_matching=korean)

    @staticmethod
    def _slim(action: Action) -> Action:
        """Drop the payload of actions that will never be written, so a large listing stays small."""
        if action.kind in ("unchanged", "skip", "delete"):
            return Action(action.kind, action.native_id, action.external_id, action.reason,
                          mirror_id=action.mirror_id, payload_hash=action.payload_hash, changed=action.changed,
                          name=action.name)
        return action

    def _render(self, direction: str, record: Any,
                problems: list[tuple[str, RecordProblem]]) -> tuple[NativeItem | None, Cluster | None]:
        source_name, target_name = ROUTES[direction]
        native_id = str(getattr(record, "id", None) or getattr(record, "clstrId", "?"))
        try:
            cluster = self.mapper.from_eccp(record) if source_name == "eccp" else self.mapper.from_kicox(record)
        except (ValueError, KeyError) as exc:
            problems.append(("normalise", RecordProblem(native_id, f"cannot normalise: {exc}",
                                                        raw=record.model_dump(mode="json"))))
            return None, None
        payload: dict[str, Any] | None = None
        digest: str | None = None
        if cluster.live:
            try:
                payload = (self.mapper.to_kicox_mirror(cluster) if target_name == "kicox"
                           else self.mapper.to_eccp_mirror(cluster))
            except ValueError as exc:
                problems.append(("render", RecordProblem(native_id, f"cannot render for {target_name}: {exc}",
                                                         raw=record.model_dump(mode="json"))))
                return None, None
            digest = content_hash(payload, target_name)
        item = NativeItem(native_id=cluster.source_id, external_id=self.mapper.external_id(cluster), live=cluster.live,
                          changed=cluster.source_changed, name=cluster.name_en, payload=payload, payload_hash=digest)
        return item, cluster

    # -- rule 11 ------------------------------------------------------------------------------------------
    def _apply_matches(self, pulled: dict[str, _Pulled], dry_run: bool) -> None:
        """Link Korean clusters that have their own ECCP profile: neither side gets a mirror of them."""
        from_eccp = pulled.get("eccp-to-kicox")
        from_kicox = pulled.get("kicox-to-eccp")
        if from_eccp is not None and not dry_run:
            self.ledger.save_kr_profiles(from_eccp.kr_profiles, replace_all=from_eccp.full and from_eccp.complete)
        if from_kicox is not None:
            profiles = (
                [Cluster.model_validate_json(c) for c, _ in from_eccp.kr_profiles.values()]
                if from_eccp is not None and from_eccp.full
                else [Cluster.model_validate_json(c) for c in self.ledger.kr_profiles()]
            )
            matches = self.mapper.match_natives(from_kicox.clusters_for_matching, profiles)
            if not dry_run:
                scope = None if from_kicox.full else [c.source_id for c in from_kicox.clusters_for_matching]
                self.ledger.save_matches(((m.kicox_id, m.eccp_id, m.score, m.method) for m in matches), scope)
            by_kicox = {m.kicox_id: m for m in matches}
            self._relink(from_kicox.plan, {k: f"ECCP {m.eccp_id} ({m.method}, score {m.score:.2f})"
                                           for k, m in by_kicox.items()})
        if from_eccp is not None:
            stored = {row.eccp_id: row for row in self.ledger.matches()}
            self._relink(from_eccp.plan, {e: f"KICOX {row.kicox_id} ({row.method}, score {row.score:.2f})"
                                          for e, row in stored.items()})

    @staticmethod
    def _relink(plan: Plan, linked: Mapping[str, str]) -> None:
        for i, action in enumerate(plan.actions):
            target = linked.get(action.native_id)
            if target is None or action.kind == "skip":
                continue
            has_mirror = action.kind in ("update", "unchanged", "adopt", "delete") or action.mirror_id is not None
            plan.actions[i] = Action(
                "delete" if has_mirror else "skip", action.native_id, action.external_id,
                f"linked to its own profile {target}", mirror_id=action.mirror_id, name=action.name,
                changed=action.changed, linked_to=target,
            )

    # -- guards and writes --------------------------------------------------------------------------------
    def _guard_and_write(self, direction: str, p: _Pulled, *, dry_run: bool, allow_mass_update: bool) -> None:
        res, plan = p.result, p.plan
        target_name = ROUTES[direction][1]
        target = self.connectors[target_name]
        live = self.ledger.count_live(direction)

        if not dry_run:
            cleared = self.ledger.clear_reappeared(direction, p.live_ids)
            if cleared:
                log.info("deletions.cleared", direction=direction, count=cleared,
                         reason="the natives are live again")
            for stage, problem in p.problems:
                self.ledger.quarantine(direction, stage, problem, res.run_id or 0)
        res.failed = len(p.problems)

        updates = plan.of("update")
        limit = update_limit(live, self.settings.update_budget_count, self.settings.update_budget_share)
        if live and len(updates) > limit and not allow_mass_update:
            message = (f"update budget: this run would update {len(updates)} of {live} mirrors (limit {limit}); "
                       "nothing was written in this direction. If a change is meant to touch every record, "
                       "rerun with --allow-mass-update")
            res.status, res.error = "stopped", message
            res.anomalies.append(message)
            log.warning("sync.update_budget_exceeded", direction=direction, updates=len(updates), limit=limit,
                        mirrors_live=live)
            return

        deletes = plan.of("delete")
        waiting = {d.external_id for d in self.ledger.pending_deletions(direction=direction)}
        hold_all = not p.trusted or len(deletes) > deletion_limit(
            live, self.settings.delete_max_count, self.settings.delete_max_share)
        to_delete: list[Action] = []
        held: list[Action] = []
        for action in deletes:
            (held if hold_all or action.external_id in waiting else to_delete).append(action)
        approved = self.ledger.pending_deletions(direction=direction, states=("approved",))
        if held:
            res.held = len(held)
            log.warning("deletions.held", direction=direction, count=len(held), mirrors_live=live,
                        limit=deletion_limit(live, self.settings.delete_max_count, self.settings.delete_max_share),
                        hint="review with `clusterbridge deletions`, then approve or reject")
        if dry_run:
            res.status = "dry-run"
            return

        for action in held:
            self.ledger.hold_deletion(direction, action.native_id, action.external_id, action.mirror_id,
                                      action.reason, res.run_id or 0)
        for action in plan.actions:
            if action.linked_to is not None and action.kind == "skip":
                self.ledger.mark_linked(direction, action.native_id, action.external_id)

        written_ok: set[str] = set()
        written_ok.update(a.native_id for a in plan.of("unchanged"))
        res.unchanged = len(plan.of("unchanged"))
        for action in plan.of("adopt"):
            assert action.payload is not None
            assert action.payload_hash is not None
            self.ledger.mark_written(direction, action.native_id, action.external_id, action.mirror_id,
                                     action.payload, action.payload_hash, action.changed)
            written_ok.add(action.native_id)
            res.unchanged += 1

        writes = plan.of("create") + updates
        for batch in _chunks(writes, WRITE_BATCH):
            if self.stop_requested():
                res.anomalies.append("stopped on request; the rest follows on the next run")
                break
            self._write_batch(direction, target, batch, res, written_ok)

        for action in to_delete:
            if self.stop_requested():
                break
            self._delete(direction, target_name, target, action)
            res.deleted += 1
        for deletion in approved:
            self._delete(direction, target_name, target, Action("delete", deletion.native_id, deletion.external_id,
                                                                deletion.reason, mirror_id=deletion.mirror_id))
            self.ledger.decide_deletion(deletion.id, "done")
            res.deleted += 1

        self.ledger.clear_errors(direction, written_ok)
        # a complete full listing (every page, the count the platform reported) becomes the baseline the
        # next one is compared with; deletions it did not justify are already held for an operator
        full_count = p.received if p.full and p.complete else None
        if p.cursor is not None or full_count is not None:
            self.ledger.set_cursor(direction, p.cursor, full_count)

        if res.failed or res.held or res.anomalies:
            res.status = "partial"

    def _write_batch(self, direction: str, target: Connector, batch: Sequence[Action], res: DirectionResult,
                     written_ok: set[str]) -> None:
        writes: list[MirrorWrite] = []
        for action in batch:
            assert action.payload is not None
            if action.kind == "create":
                self.ledger.mark_intent(direction, action.native_id, action.external_id, "creating")
                writes.append(MirrorWrite(action.external_id, dict(action.payload)))
            else:
                previous = None if action.repair else self.ledger.link_payload(direction, action.native_id)
                writes.append(MirrorWrite(action.external_id, dict(action.payload), action.mirror_id, previous))
        results = target.write(writes)
        by_external = {r.external_id: r for r in results}
        for action in batch:
            result = by_external.get(action.external_id)
            if result is None or result.problem is not None or result.action == "failed":
                problem = (result.problem if result and result.problem else
                           RecordProblem(action.native_id, "the target returned no result for this record"))
                problem = RecordProblem(action.native_id, problem.reason, problem.field, problem.raw, problem.retryable)
                self.ledger.quarantine(direction, "write", problem, res.run_id or 0)
                res.failed += 1
                log.warning("record.quarantined", direction=direction, native_id=action.native_id,
                            name=action.name, reason=problem.reason, field=problem.field)
                continue
            assert action.payload_hash is not None
            self.ledger.mark_written(direction, action.native_id, action.external_id,
                                     result.mirror_id or action.mirror_id, action.payload, action.payload_hash,
                                     action.changed)
            written_ok.add(action.native_id)
            if action.kind == "create" and result.action in ("created", "adopted"):
                res.created += 1
            elif result.action == "unchanged":
                res.unchanged += 1
            else:
                res.updated += 1

    def _delete(self, direction: str, target_name: str, target: Connector, action: Action) -> None:
        ref = action.mirror_id if target_name == "eccp" else action.external_id
        if action.native_id:
            self.ledger.mark_intent(direction, action.native_id, action.external_id, "deleting", action.mirror_id)
        if ref:
            target.delete(ref)
        elif target_name == "eccp":
            found = target.find_mirror(action.external_id)
            if found is not None:
                target.delete(found.mirror_id)
        self.ledger.mark_deleted(direction, action.native_id, action.external_id)
        log.info("mirror.deleted", direction=direction, native_id=action.native_id,
                 external_id=action.external_id, reason=action.reason)

    # -- recording ----------------------------------------------------------------------------------------
    def _finish(self, res: DirectionResult, status: RunStatus, error: str | None, dry_run: bool,
                pulled: _Pulled | None = None) -> None:
        res.status = status
        res.error = error
        level = "info" if status in ("success", "dry-run") else "warning"
        getattr(log, level)("sync.finished", direction=res.direction, status=status, **res.counts(),
                            anomalies=len(res.anomalies), error=error)
        if dry_run or res.run_id is None:
            return
        self.ledger.finish_run(res.run_id, status, res.counts(), res.anomalies, error)
        cursor = self.ledger.cursor(res.direction)[0]
        self.ledger.update_status(res.direction, res.run_id, status, error or ("; ".join(res.anomalies) or None),
                                  cursor, budget_stopped=status == "stopped")

    # -- operator decisions -------------------------------------------------------------------------------
    def execute_approved(self) -> int:
        """Carry out approved deletions now (the operator's `deletions approve`)."""
        done = 0
        for deletion in self.ledger.pending_deletions(states=("approved",)):
            target_name = ROUTES[deletion.direction][1]
            self._delete(deletion.direction, target_name, self.connectors[target_name],
                         Action("delete", deletion.native_id, deletion.external_id, deletion.reason,
                                mirror_id=deletion.mirror_id))
            self.ledger.decide_deletion(deletion.id, "done")
            done += 1
        for d in DIRECTIONS:
            self.ledger.refresh_status_counts(d)
        return done


def _chunks(items: Sequence[Action], size: int) -> Iterator[Sequence[Action]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def plan_summary(res: DirectionResult) -> list[dict[str, Any]]:
    """The plan as rows a person or a script can read (used by --dry-run)."""
    rows: list[dict[str, Any]] = []
    if res.plan is None:
        return rows
    for action in res.plan.actions:
        if action.kind in ("unchanged",):
            continue
        rows.append({"action": action.kind, "native_id": action.native_id, "external_id": action.external_id,
                     "name": action.name, "reason": action.reason})
    return rows


def dumps(rows: Any) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2, default=str)
