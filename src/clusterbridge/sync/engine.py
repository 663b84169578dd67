"""One sync run: pull → normalise → render for the other side → reconcile → guard → write → ledger.

A run goes through every direction it was asked for in two phases:
1. **pull and plan**: the source's listing is read page by page; each native is normalised by its connector,
   rendered for the readers of the other side, shaped into the target's payload and hashed, and the one action
   that brings the target in line is spilled to the ledger's scratch table (nothing of the listing is held in
   memory). Natives that may be one cluster's two profiles (rule 11) wait until both sides were read.
2. **finish, guard and write**: the rule-11 pairs are settled, quarantined and pending records are retried by
   id, natives gone from a full listing and orphan mirrors are planned for deletion, the guard rails hold what
   an operator must see, and the plan is carried out in batches.
A dry run goes through the same code up to the guards, and writes nothing anywhere.

The run is crash-safe because every create and deletion is recorded in the ledger before it is sent and
confirmed after; a run killed anywhere in between is finished by the next one, whose creates adopt what
already exists on the target and whose deletes treat an absent mirror as done. The cursor only advances after
a direction's writes all went out; records that fail are retried by id, so they never hold the cursor back.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

import structlog

from clusterbridge.abc import Connector, MirrorWrite, NativeRecord, RecordProblem, Translator, WriteResult
from clusterbridge.config import Settings
from clusterbridge.errors import ConfigurationError, LockLost, PlatformError, QuotaExhausted, RecordRefused
from clusterbridge.mapping.linkage import Match, Pair, ProfileIndex, candidate_pairs, settle_pairs
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster
from clusterbridge.ops.progress import DirectionProgress, Progress, SilentProgress
from clusterbridge.partners.service import PublishedPartners, Suggestions
from clusterbridge.reconcile.guards import deletion_limit, listing_anomalies, update_limit
from clusterbridge.reconcile.plan import (
    TRANSLATED,
    Action,
    LinkState,
    MirrorState,
    NativeItem,
    decide,
    decide_orphan,
    decide_unreadable,
    decide_vanished,
)
from clusterbridge.render import Renderer
from clusterbridge.sides import Bridge, Direction
from clusterbridge.store.ledger import Ledger, NativeSnapshot, PlanRow, QuarantinedRecord, canonical_json, now
from clusterbridge.sync.payload import content_hash
from clusterbridge.sync.prefetch import Prefetched
from clusterbridge.sync.result import DirectionResult, RunResult, RunStatus

log = structlog.get_logger("clusterbridge.sync")

# a source change time further ahead than this is impossible: the record is quarantined, not believed
FUTURE_TOLERANCE = timedelta(days=1)
LINKED = "linked to its own profile"
PUBLISHED_STATE = "partners_published"
RETRY_CHUNK = 500  # records retried by id per batch
PROGRESS_SECONDS = 1.0  # a run's counters in sync_runs are brought up to date at most this often while it writes
DEFERRED_CHUNK = 500  # deferred natives read back from the ledger and planned per batch
CONTEST_ROUNDS = 8  # how far a partial run follows stored rule-11 matches its pulled natives contest
PLAN_KINDS = {"create": "created", "update": "updated", "adopt": "unchanged", "unchanged": "unchanged",
              "skip": "skipped", "link": "linked", "quarantine": "quarantined", "delete": "deleted"}


class TranslatorSource(Protocol):
    """The configured translation: `offline` when none is set; `for_run` gives one run's translator (a dry
    run's never calls a paid provider)."""

    @property
    def offline(self) -> bool: ...

    def for_run(self, *, dry_run: bool) -> Translator: ...


class LockCheck(Protocol):
    def check(self) -> None: ...


@dataclass
class _Run:
    """What one run shares across its directions."""

    token: str
    started: datetime
    dry_run: bool
    renderer: Renderer
    # rule 11: natives that may be the own profile of another side's cluster, by '<side>:<id>'
    candidates: dict[str, Cluster] = field(default_factory=dict)
    # profiles whose state this run saw (their home natives are planned again)
    seen_profiles: set[str] = field(default_factory=set)
    matches: dict[str, Match] = field(default_factory=dict)
    # natives (side:id) whose rule-11 link this run's settling changed: planned again though not pulled
    relinked: set[str] = field(default_factory=set)
    preview_limit: int = 0
    # natives whose published partners moved (the natives whose suggestions wait are flagged in the ledger)
    moved: set[tuple[str, str]] = field(default_factory=set)
    published: PublishedPartners | None = None
    rerender: bool = False  # render every native again (how mirrors show partners changed)


@dataclass
class _DirectionRun:
    """The state of one direction through both phases of a run."""

    direction: Direction
    result: DirectionResult
    source: Connector
    target: Connector
    full: bool
    cursor: datetime | None
    last_full_count: int | None
    seq: int = 0
    newest: datetime | None = None
    reported_total: int | None = None
    unidentified: int = 0
    ended_on_error: str | None = None
    changed_during: int = 0
    trusted: bool = True
    # natives whose planning waits for rule 11 to be settled: the cluster in a dry run, None in a real run (the
    # pull stored its snapshot, read back a chunk at a time), so a listing is never held in memory
    deferred: dict[str, Cluster | None] = field(default_factory=dict)
    home_pulled: set[str] = field(default_factory=set)
    profiles: ProfileIndex | None = None  # the other side's rule-11 candidates, as this direction sees them
    progress: DirectionProgress | None = None
    failed: bool = False
    done: bool = False  # the direction went through every phase
    attempted: int = 0  # planned writes and deletions sent (the rest of an interrupted run ends as skipped)

    @property
    def name(self) -> str:
        return self.direction.name

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def end(self, status: RunStatus, error: str) -> None:
        self.failed = True
        self.result.status = status
        self.result.error = error


class SyncEngine:
    """Runs syncs between the two sides of a bridge. Everything it talks to is injected."""

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        bridge: Bridge,
        connectors: Mapping[str, Connector],
        vocabulary: Vocabulary,
        translation: TranslatorSource,
        *,
        stop_requested: Callable[[], bool] = lambda: False,
        lock: LockCheck | None = None,
        progress: Progress | None = None,
        suggestions: Suggestions | None = None,
        publish: bool = False,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.bridge = bridge
        self.connectors = connectors
        self.vocabulary = vocabulary
        self.translation = translation
        self.stop_requested = stop_requested
        self.lock = lock
        self.progress: Progress = progress or SilentProgress()
        self.suggestions = suggestions
        self.publish = publish and suggestions is not None

    # -- the run ----------------------------------------------------------------------------------------
    def run(self, direction: str = "both", *, full: bool = False, dry_run: bool = False, trigger: str = "cli",
            allow_mass_update: bool = False, preview_limit: int = 0) -> RunResult:
        """One run. A dry run keeps up to `preview_limit` planned actions per direction in its result (0: all)."""
        wanted = self.bridge.select(direction)
        token = self.ledger.new_token(dry_run)
        if not dry_run:
            closed = self.ledger.close_dead_runs("the process running it ended before the run finished")
            if closed:
                log.warning("sync.runs_closed", count=closed, status="interrupted",
                            reason="left running by a process that is gone")
            self.ledger.drop_dead_tokens(keep=token)
        renderer = Renderer(self.vocabulary, self.translation.for_run(dry_run=dry_run),
                            translating=not self.translation.offline)
        run = _Run(token, now(), dry_run, renderer, preview_limit=preview_limit)
        if self.publish and self.suggestions is not None:
            run.published = self.suggestions.published()
        published = "on" if self.publish else "off"
        # mirrors were last rendered with partners shown (or not): a change of the setting renders every one again
        run.rerender = self.ledger.state(PUBLISHED_STATE) not in (None, published) or (
            self.publish and self.ledger.state(PUBLISHED_STATE) is None)
        runs: list[_DirectionRun] = []
        try:
            for d in wanted:
                runs.append(self._begin(d, full=full, dry_run=dry_run, trigger=trigger))
            self._load_candidates(run)
            for r in runs:
                self._guarded(r, partial(self._pull, run, r))
            self._settle_matches(run, runs)
            if self.publish:  # the mirrors show partners: they must be current before the mirrors are planned
                self._refresh_suggestions(run)
            for r in runs:
                if not r.failed:
                    self._guarded(r, partial(self._finish_plan, run, r))
            self._each_direction([r for r in runs if not r.failed],
                                 lambda r: self._guarded(r, partial(self._guard_and_write, run, r, allow_mass_update)))
            for r in runs:
                r.done = True
            if not self.publish:  # only the table needs them: after the writes, off their critical path
                self._refresh_suggestions(run)
        finally:
            for r in runs:
                if not r.done and not r.failed:
                    r.end("failed", "not finished: the run ended on an error in another direction")
                self._close(run, r)
            self.ledger.drop_token(token)
        if not dry_run and len(runs) == len(self.bridge.directions) and not any(r.failed for r in runs):
            self.ledger.set_state(PUBLISHED_STATE, published)
        return RunResult([r.result for r in runs])

    @staticmethod
    def _each_direction(runs: Sequence[_DirectionRun], step: Callable[[_DirectionRun], None]) -> None:
        """The directions' writes, at once: each writes to a platform of its own (through its own connector and
        rate limit) and to its own rows of the ledger, so neither waits for the other's answers. An error that
        ends the whole run (a lost lock, bad configuration) is raised once both have stopped."""
        if len(runs) < 2:
            for r in runs:
                step(r)
            return
        with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="direction") as pool:
            futures = [pool.submit(step, r) for r in runs]
        for future in futures:
            future.result()

    def _begin(self, d: Direction, *, full: bool, dry_run: bool, trigger: str) -> _DirectionRun:
        cursor, full_at, last_count = self.ledger.cursor(d.name)
        due = cursor is None or full_at is None or now() - full_at > timedelta(hours=self.settings.full_reconcile_hours)
        mode = "full" if full or due else "incremental"
        result = DirectionResult(direction=d.name, mode=mode, dry_run=dry_run)
        if not dry_run:
            result.run_id = self.ledger.start_run(trigger, d.name, mode, dry_run)
        log.info("sync.start", direction=d.name, mode=mode, dry_run=dry_run, run_id=result.run_id)
        return _DirectionRun(d, result, self.connectors[d.source.name], self.connectors[d.target.name],
                             full=mode == "full", cursor=cursor, last_full_count=last_count)

    def _guarded(self, r: _DirectionRun, step: Callable[[], None]) -> None:
        """Run one phase of a direction; whatever goes wrong ends that direction with the reason, never the
        process. A configuration error or a lost lock still ends the whole run: nothing else can work."""
        try:
            step()
        except ConfigurationError as exc:
            r.end("failed", f"configuration error: {exc}")
            raise
        except LockLost as exc:
            r.end("interrupted", str(exc))
            raise
        except PlatformError as exc:
            log.error("sync.failed", direction=r.name, error=str(exc))
            r.end("failed", str(exc))
        except Exception as exc:  # any other failure is a bug: recorded; the other direction still runs
            log.exception("sync.internal_error", direction=r.name, error=f"{type(exc).__name__}: {exc}")
            r.end("failed", f"internal error: {type(exc).__name__}: {exc}")

    def _stopping(self) -> bool:
        if self.lock is not None:
            self.lock.check()
        return self.stop_requested()

    # -- phase 1: pull and plan -------------------------------------------------------------------------
    def _load_candidates(self, run: _Run) -> None:
        """Rule 11's candidates as stored: the natives located in another side's home countries. A pull of
        their side in this run replaces each one it sees."""
        for d in self.bridge.directions:
            if d.target.home_countries:
                for row in self.ledger.natives_in(d.source.name, d.target.home_countries):
                    run.candidates[f"{d.source.name}:{row.native_id}"] = Cluster.model_validate_json(row.snapshot)

    def _pull(self, run: _Run, r: _DirectionRun) -> None:
        d, res = r.direction, r.result
        if r.full:
            self._scan_mirrors(run, r)
        r.progress = self.progress.direction(d.name)
        r.progress.phase("full listing" if r.full else "changes")
        # the next page is on the wire while this one is planned
        pages = Prefetched(r.source.iter_natives(None if r.full else r.cursor), name=f"pull-{d.name}")
        try:
            for page in pages:
                if page.reported_total is not None and r.reported_total is None:
                    r.reported_total = page.reported_total
                    r.progress.set_total(page.reported_total)
                self._plan_page(run, r, page.records, page.problems)
                r.progress.advance(len(page.records) + len(page.problems))
                if self._stopping():
                    r.ended_on_error = "stopped on request before the listing ended"
                    r.end("interrupted", "stopped on request before the listing ended; nothing of it was written")
                    return
        except QuotaExhausted as exc:
            r.ended_on_error = str(exc)
            res.anomalies.append(f"{exc} — the run resumes from here on a later run")
            log.warning("sync.quota_exhausted", direction=d.name, error=str(exc))
        except PlatformError as exc:
            r.ended_on_error = str(exc)
            if not res.counts["pulled"]:
                raise  # the platform could not be read at all: the direction fails with the error
            log.warning("sync.listing_incomplete", direction=d.name, error=str(exc))
        finally:
            pages.close()
        if r.ended_on_error and not r.full and not res.anomalies:
            res.anomalies.append(f"the listing ended early: {r.ended_on_error}")
        if r.full:
            anomalies = listing_anomalies(res.counts["pulled"], r.reported_total, r.last_full_count,
                                          self.settings.listing_min_ratio, r.ended_on_error,
                                          changed_during=r.changed_during, unidentified=r.unidentified)
            r.trusted = not anomalies
            res.anomalies.extend(a for a in anomalies if a not in res.anomalies)

    def _scan_mirrors(self, run: _Run, r: _DirectionRun) -> None:
        """Spill the target's full mirror listing to the ledger (for drift, repairs and orphans)."""
        keys = r.target.server_keys
        for page in r.target.iter_mirrors():
            self.ledger.stage_mirrors(run.token, r.name, [
                MirrorState(m.mirror_id, m.external_id, content_hash(m.payload, keys)) for m in page if m.mirror_id])

    def _plan_page(self, run: _Run, r: _DirectionRun, records: Sequence[NativeRecord],
                   problems: Sequence[RecordProblem]) -> None:
        d, res = r.direction, r.result
        horizon = run.started + FUTURE_TOLERANCE
        ids = [x.native_id for x in records] + [p.source_id for p in problems if p.source_id]
        links = self.ledger.link_states(d.name, ids)
        before = self.ledger.planned_items(run.token, d.name, ids)
        mirrors = self._staged(run, r, ids)
        rows: list[PlanRow] = []
        snapshots: list[NativeSnapshot] = []
        live_ids: list[str] = []
        for problem in problems:
            if problem.source_id is None or problem.source_id not in before:
                res.counts["pulled"] += 1
            rows.append(self._unreadable(r, "pull", problem, links))
        for record in records:
            native_id = record.native_id
            seen = before.get(native_id)
            if seen is not None and seen[0] is not None and record.changed <= seen[0]:
                continue  # the listing gave this version already (it was edited while the listing paged)
            if seen is None:
                res.counts["pulled"] += 1
            if record.changed > horizon:
                rows.append(self._unreadable(r, "pull", RecordProblem(
                    native_id, f"its change time {record.changed.isoformat()} lies in the future: not believed",
                    "changed", _raw(record.wire)), links))
                continue
            r.newest = max(r.newest, record.changed) if r.newest else record.changed
            if record.changed >= run.started - timedelta(seconds=1):
                r.changed_during += 1
            try:
                cluster = r.source.normalise(record)
                if cluster.source_id != native_id:
                    raise ValueError(f"id: the record says {cluster.source_id!r}, the listing {native_id!r}")
            except ValueError as exc:
                rows.append(self._unreadable(r, "normalise", RecordProblem(
                    native_id, f"cannot read: {exc}", _field(exc), _raw(record.wire)), links))
                continue
            except Exception as exc:  # a bug, or a record no rule foresaw: this record only
                log.exception("record.internal_error", direction=d.name, native_id=native_id)
                rows.append(self._unreadable(r, "normalise", RecordProblem(
                    native_id, f"internal error: {type(exc).__name__}: {exc}", None, _raw(record.wire)), links))
                continue
            snapshots.append(_snapshot(cluster))
            if cluster.live:
                live_ids.append(native_id)
            if cluster.country in d.target.home_countries:
                # perhaps the own profile of a cluster native to the target side (rule 11): settled later
                key = f"{d.source.name}:{native_id}"
                run.candidates[key] = cluster
                run.seen_profiles.add(key)
                r.deferred[native_id] = cluster if run.dry_run else None
                continue
            if d.source.home_countries:
                if not r.full:  # a full listing scores every home native: no need to remember which
                    r.home_pulled.add(native_id)
                if cluster.country in d.source.home_countries and self._has_candidates(run, r, cluster):
                    r.deferred[native_id] = cluster if run.dry_run else None
                    continue
            rows.append(self._plan_native(run, r, cluster, links.get(native_id), "pulled", mirrors=mirrors))
        self._put(run, r, rows)
        if not run.dry_run:
            self.ledger.save_natives(snapshots)
            if live_ids:
                cleared = self.ledger.clear_reappeared(d.name, live_ids)
                if cleared:
                    log.info("deletions.cleared", direction=d.name, count=cleared, reason="the natives are live again")

    def _deferred(self, r: _DirectionRun, native_ids: Sequence[str] | None = None) -> Iterator[Cluster]:
        """The deferred natives (all of them, in id order, or `native_ids`), as this run pulled them."""
        ordered = sorted(r.deferred) if native_ids is None else native_ids
        for start in range(0, len(ordered), DEFERRED_CHUNK):
            part = ordered[start:start + DEFERRED_CHUNK]
            stored = self.ledger.native_snapshots(r.direction.source.name,
                                                  [i for i in part if r.deferred[i] is None])
            for native_id in part:
                held = r.deferred[native_id]
                if held is not None:
                    yield held
                elif native_id in stored:
                    yield Cluster.model_validate_json(stored[native_id])
                else:  # the pull stores a native before deferring it: the ledger lost a row under us
                    raise RuntimeError(f"{r.direction.source.name} native {native_id!r} was deferred, "
                                       "but the ledger holds no snapshot of it")

    def _staged(self, run: _Run, r: _DirectionRun, native_ids: Sequence[str]) -> dict[str, MirrorState]:
        """What the target's full listing showed for these natives (nothing on an incremental run)."""
        if not r.full:
            return {}
        return self.ledger.staged_mirrors(run.token, r.name, [r.source.external_id(n) for n in native_ids])

    def _put(self, run: _Run, r: _DirectionRun, rows: Sequence[PlanRow]) -> None:
        self.ledger.put_plan(run.token, r.name, rows)
        if r.full:
            self.ledger.claim_mirrors(run.token, r.name, [x.mirror_id for x in rows if x.mirror_id])

    def _has_candidates(self, run: _Run, r: _DirectionRun, cluster: Cluster) -> bool:
        if r.profiles is None:
            prefix = f"{r.direction.target.name}:"
            r.profiles = ProfileIndex([c for k, c in run.candidates.items() if k.startswith(prefix)],
                                      self.vocabulary.data.links)
        return bool(r.profiles.ids or r.profiles.forced) and bool(r.profiles.pairs(cluster))

    def _unreadable(self, r: _DirectionRun, stage: str, problem: RecordProblem,
                    links: Mapping[str, LinkState]) -> PlanRow:
        """A record that could not be read or rendered: quarantined with its reason, its mirror kept (a record
        the service cannot read is not a record that is gone)."""
        native_id = problem.source_id
        if native_id is None:
            r.unidentified += 1
            native_id = "unidentified:" + hashlib.sha256(canonical_json(problem.raw).encode()).hexdigest()[:16]
        link = links.get(native_id)
        where = f" (field {problem.field})" if problem.field else ""
        action = decide_unreadable(native_id, r.source.external_id(native_id), link,
                                   f"{stage}: {problem.reason}{where}")
        kept = link is not None and link.has_mirror
        if kept:
            r.result.kept += 1
        log.warning("record.quarantined", direction=r.name, native_id=native_id, stage=stage, reason=problem.reason,
                    field=problem.field, mirror_kept=kept)
        info = canonical_json({"stage": stage, "field": problem.field, "raw": problem.raw,
                               "retryable": problem.retryable})
        return PlanRow(item=native_id, seq=r.next_seq(), origin="pulled", kind=action.kind, native_id=native_id,
                       external_id=action.external_id, reason=action.reason, mirror_id=action.mirror_id, payload=info)

    def _plan_native(self, run: _Run, r: _DirectionRun, cluster: Cluster, link: LinkState | None, origin: str,
                     linked_to: str | None = None, mirrors: Mapping[str, MirrorState] | None = None) -> PlanRow:
        """Render one native for the target's readers and decide its action; a record that cannot be rendered
        is quarantined."""
        links = {cluster.source_id: link} if link else {}
        try:
            item, withheld, pending, payload = self._render(run, r, cluster)
        except ValueError as exc:
            row = self._unreadable(r, "render", RecordProblem(
                cluster.source_id, f"cannot show on the {r.direction.target.name} side: {exc}", _field(exc)), links)
            return replace(row, origin=origin)
        except Exception as exc:  # a bug, or a record no rule foresaw: this record only
            log.exception("record.internal_error", direction=r.name, native_id=cluster.source_id)
            row = self._unreadable(r, "render", RecordProblem(
                cluster.source_id, f"internal error: {type(exc).__name__}: {exc}"), links)
            return replace(row, origin=origin)
        if mirrors is None:
            mirrors = self._staged(run, r, [cluster.source_id])
        action = decide(item, link, mirrors.get(item.external_id), full=r.full, linked_to=linked_to)
        written = payload if action.kind in ("create", "update", "adopt") else None
        return _row(action, r.next_seq(), origin, written, withheld, pending)

    def _render(self, run: _Run, r: _DirectionRun, cluster: Cluster) -> tuple[NativeItem, str | None, bool,
                                                                              str | None]:
        """The native as the target would show it: (item, withheld counts JSON, translation pending, payload)."""
        external_id = r.source.external_id(cluster.source_id)
        payload: dict[str, Any] | None = None
        digest: str | None = None
        withheld: str | None = None
        pending = False
        if cluster.live:
            extra = run.published.section(cluster, r.direction.target) if run.published is not None else ()
            rendering = run.renderer.render(cluster, r.direction.target, external_id, extra)
            payload = r.target.shape(rendering.record)
            digest = content_hash(payload, r.target.server_keys)
            pending = rendering.record.translation_pending
            if rendering.withheld.total():
                withheld = canonical_json(rendering.withheld.as_dict())
        item = NativeItem(native_id=cluster.source_id, external_id=external_id, live=cluster.live,
                          changed=cluster.source_changed, name=cluster.name_en, country=cluster.country,
                          payload=payload, payload_hash=digest)
        return item, withheld, pending, canonical_json(payload) if payload is not None else None

    # -- rule 11 ----------------------------------------------------------------------------------------
    def _settle_matches(self, run: _Run, runs: Sequence[_DirectionRun]) -> None:
        """Settle which native of a home side has its own profile on the other side, once both were read.

        A complete, trusted full listing settles every pair afresh. A run that saw part of a side (an incremental run, a
        listing that ended early) scores the home natives it pulled, together with every stored home native
        that holds a profile those could take or that this run pulled: the same contest a full run would hold
        for those profiles, so no profile goes to two natives. The stored matches stand for the rest. Natives
        whose link this settling changed, on either side, are planned again though not pulled (a direction
        that read its whole listing has planned them already)."""
        for d in self.bridge.directions:
            if not d.source.home_countries:
                continue
            r = next((x for x in runs if x.direction == d), None)
            profiles = [c for k, c in run.candidates.items() if k.startswith(f"{d.target.name}:")]
            stored = {x.home_id: Match(x.home_id, x.profile_id, x.score, x.method)
                      for x in self.ledger.matches(d.source.name)}
            # a full listing that is whole and trusted (an empty or shrunken one settles nothing afresh)
            complete = r is not None and r.full and r.trusted and r.ended_on_error is None and not r.failed
            if r is None or r.failed:
                scope: set[str] = set()
                fresh: list[Match] = []
            elif complete:
                scope = set(stored) | set(r.deferred)
                fresh = settle_pairs(candidate_pairs(self._deferred(r), profiles, self.vocabulary.data.links))
            else:  # part of a side was seen: settle what it touches, keep the stored matches of the rest
                scope, fresh = self._contest(run, r, profiles, stored)
            taken = {m.profile_id for m in fresh}
            kept = [m for h, m in stored.items() if h not in scope and m.profile_id not in taken]
            if not run.dry_run and r is not None and not r.failed:
                self.ledger.save_matches(d.source.name, d.target.name,
                                         [(m.home_id, m.profile_id, m.score, m.method) for m in fresh],
                                         None if complete else scope)
            after = {m.home_id: m for m in fresh + kept}
            for m in after.values():
                run.matches[f"{d.source.name}:{m.home_id}"] = m
                run.matches[f"{d.target.name}:{m.profile_id}"] = m
            # even after a complete listing of this side: the other side's run may have been partial
            old_links = {h: m.profile_id for h, m in stored.items()}
            new_links = {h: m.profile_id for h, m in after.items()}
            run.relinked |= {f"{d.source.name}:{h}" for h in old_links.keys() | new_links.keys()
                             if old_links.get(h) != new_links.get(h)}
            run.relinked |= {f"{d.target.name}:{p}" for p in set(old_links.values()) ^ set(new_links.values())}

    def _contest(self, run: _Run, r: _DirectionRun, profiles: Sequence[Cluster],
                 stored: Mapping[str, Match]) -> tuple[set[str], list[Match]]:
        """The pairs a partial run settles: its pulled home natives, and (until no more join) the stored home
        natives holding a profile one of those could take or that this run pulled. Returns the home natives
        settled and their matches."""
        d = r.direction
        index = ProfileIndex(profiles, self.vocabulary.data.links)
        scope = r.home_pulled | set(r.deferred)
        pairs = [pair for home in self._deferred(r) for pair in index.pairs(home)]
        contested = {k.split(":", 1)[1] for k in run.seen_profiles if k.startswith(f"{d.target.name}:")}
        for _ in range(CONTEST_ROUNDS):
            contested |= {p.profile_id for p in pairs}
            joining = sorted(h for h, m in stored.items() if m.profile_id in contested and h not in scope)
            if not joining:
                break
            scope |= set(joining)
            snapshots = self.ledger.native_snapshots(d.source.name, joining)
            for home_id in joining:
                snapshot = snapshots.get(home_id)
                if snapshot is None:  # nothing to score it from: its stored match competes as it stands
                    m = stored[home_id]
                    pairs.append(Pair(m.home_id, m.profile_id, m.score, m.score, m.method))
                else:
                    pairs.extend(index.pairs(Cluster.model_validate_json(snapshot)))
        return scope, settle_pairs(pairs)

    def _linked_to(self, run: _Run, d: Direction, cluster: Cluster) -> str | None:
        """The target's own profile of this native, when rule 11 links them. A home native is linked while its
        profile is live (so it never goes unseen on the target); a profile is never mirrored back while it is
        some home native's own profile, whatever that native's state."""
        match = run.matches.get(f"{d.source.name}:{cluster.source_id}")
        if match is None:
            return None
        how = f"({match.method}, score {match.score:.2f})"
        if d.source.home_countries and match.home_id == cluster.source_id:
            profile = run.candidates.get(f"{d.target.name}:{match.profile_id}")
            if profile is None or not profile.live:
                return None
            return f"{LINKED} {d.target.name}:{match.profile_id} {how}"
        return f"{LINKED} {d.target.name}:{match.home_id} {how}"

    # -- partner suggestions -----------------------------------------------------------------------------
    def _refresh_suggestions(self, run: _Run) -> None:
        """Keep the suggestions current with what this run pulled (a real run only: a dry run changes nothing),
        and note the natives whose published partners moved: their mirrors are planned again."""
        if self.suggestions is None or run.dry_run:
            return
        try:
            # the offline translator holds no translation: the suggestions are not told of one
            translator = None if self.translation.offline else self.translation.for_run(dry_run=True)
            moved = self.suggestions.refresh(translator, moves=run.published is not None)
        except Exception as exc:  # suggestions are an extra: never a reason for the sync itself to fail
            log.exception("partners.refresh_failed", error=f"{type(exc).__name__}: {exc}")
            return
        if run.published is not None and self.suggestions is not None:
            run.published.update(self.suggestions.published())
            run.moved = moved

    # -- phase 2: finish the plan -----------------------------------------------------------------------
    def _finish_plan(self, run: _Run, r: _DirectionRun) -> None:
        d = r.direction
        ordered = sorted(r.deferred)
        for start in range(0, len(ordered), DEFERRED_CHUNK):
            ids = ordered[start:start + DEFERRED_CHUNK]
            links = self.ledger.link_states(d.name, ids)
            mirrors = self._staged(run, r, ids)
            self._put(run, r, [self._plan_native(run, r, cluster, links.get(cluster.source_id), "pulled",
                                                 self._linked_to(run, d, cluster), mirrors)
                               for cluster in self._deferred(r, ids)])
        r.deferred.clear()
        self._retry_by_id(run, r)
        vanished: list[PlanRow] = []
        if r.full:
            self.ledger.claim_linked_mirrors(run.token, d.name)
        # an incremental run only finishes interrupted deletions; an untrusted listing's deletions are held later
        states = ("live", "creating", "deleting") if r.full else ("deleting",)
        for link in self.ledger.vanished_links(run.token, d.name, states):
            action = decide_vanished(link, full=r.full, trusted=True)
            if action is not None:
                vanished.append(_row(action, r.next_seq(), "vanished", None, None, False))
        if r.full:
            for mirror in self.ledger.orphan_mirrors(run.token, d.name):
                action = decide_orphan(mirror, full=True, trusted=True)
                if action is not None:
                    row = _row(action, r.next_seq(), "orphan", None, None, False)
                    vanished.append(replace(row, item=f"mirror:{mirror.mirror_id}"))
        r.result.counts["vanished"] += len(vanished)
        self.ledger.put_plan(run.token, d.name, vanished)
        if r.full and r.trusted and not run.dry_run:
            gone = [x.native_id for x in vanished if x.origin == "vanished"]
            self.ledger.mark_natives_gone(d.source.name, gone)

    def _retry_by_id(self, run: _Run, r: _DirectionRun) -> None:
        """Records the listing did not bring but that need another look: quarantined ones (on every run until
        they pass), ones whose translation is pending, and home natives whose rule-11 profile changed."""
        d = r.direction
        planned = self.ledger.plan_items_of(run.token, d.name)
        quarantined = {q.native_id: q for q in self.ledger.quarantined(d.name)
                       if q.native_id not in planned and not q.native_id.startswith("unidentified:")}
        wanted = set(quarantined)
        if not self.translation.offline:
            wanted |= set(self.ledger.pending_translation_ids(d.name)) - planned
        moved = {native_id for side, native_id in run.moved if side == d.source.name}
        if run.rerender:
            moved |= set(self.ledger.native_ids(d.source.name))
        wanted |= moved - planned
        self._replan(run, r, moved & planned)
        if d.source.home_countries:
            for key in run.seen_profiles:
                match = run.matches.get(key)
                if key.startswith(f"{d.target.name}:") and match is not None and match.home_id not in planned:
                    wanted.add(match.home_id)
        prefix = f"{d.source.name}:"
        wanted |= {k.removeprefix(prefix) for k in run.relinked if k.startswith(prefix)} - planned
        if not wanted:
            return
        ordered = sorted(wanted)
        for start in range(0, len(ordered), RETRY_CHUNK):  # never every snapshot in memory at once
            self._retry_chunk(run, r, ordered[start:start + RETRY_CHUNK], quarantined)

    def _retry_chunk(self, run: _Run, r: _DirectionRun, ordered: list[str],
                     quarantined: Mapping[str, QuarantinedRecord]) -> None:
        d = r.direction
        snapshots = self.ledger.native_snapshots(d.source.name, ordered)
        links = self.ledger.link_states(d.name, ordered)
        mirrors = self._staged(run, r, ordered)
        rows: list[PlanRow] = []
        for native_id in ordered:
            quarantine = quarantined.get(native_id)
            try:
                cluster = self._retry_cluster(r, native_id, quarantine, snapshots.get(native_id))
            except ValueError as exc:
                stage = quarantine.stage if quarantine else "normalise"
                row = self._unreadable(r, stage, RecordProblem(native_id, f"still cannot read: {exc}", _field(exc),
                                                               _stored_raw(quarantine)), links)
                rows.append(replace(row, origin="retried"))
                r.result.counts["retried"] += 1
                continue
            if cluster is None:
                continue  # nothing to retry from: the next listing that holds it brings it
            r.result.counts["retried"] += 1
            rows.append(self._plan_native(run, r, cluster, links.get(native_id), "retried",
                                          self._linked_to(run, d, cluster), mirrors))
        self._put(run, r, rows)

    def _replan(self, run: _Run, r: _DirectionRun, native_ids: set[str]) -> None:
        """Plan again natives this run already planned, whose rendering changed since (their partners moved):
        the new action replaces the old, and the record is still counted once."""
        if not native_ids:
            return
        d = r.direction
        everything = sorted(native_ids)
        for start in range(0, len(everything), RETRY_CHUNK):
            ordered = everything[start:start + RETRY_CHUNK]
            snapshots = self.ledger.native_snapshots(d.source.name, ordered)
            links = self.ledger.link_states(d.name, ordered)
            mirrors = self._staged(run, r, ordered)
            rows = [self._plan_native(run, r, cluster, links.get(nid), "pulled", self._linked_to(run, d, cluster),
                                      mirrors)
                    for nid in ordered if (snap := snapshots.get(nid)) is not None
                    for cluster in (Cluster.model_validate_json(snap),) if cluster.live]
            self._put(run, r, rows)

    def _retry_cluster(self, r: _DirectionRun, native_id: str, quarantine: QuarantinedRecord | None,
                       snapshot: str | None) -> Cluster | None:
        """The best material to retry a record from: the raw record for one that could not be read, the stored
        snapshot otherwise."""
        if quarantine is not None and quarantine.stage in ("pull", "normalise"):
            raw = _stored_raw(quarantine)
            if raw is None:
                return None
            return r.source.normalise(NativeRecord(native_id, now(), raw))
        return Cluster.model_validate_json(snapshot) if snapshot is not None else None

    # -- guards and writes ------------------------------------------------------------------------------
    def _guard_and_write(self, run: _Run, r: _DirectionRun, allow_mass_update: bool) -> None:
        d, res = r.direction, r.result
        live = self.ledger.count_live(d.name)
        # a translation that arrives after the provider was away is our own rendering catching up, not a change
        # at the source: it does not count against the update budget
        updates = sum(1 for batch in self.ledger.plan_rows(run.token, d.name, ("update",)) for x in batch
                      if x.reason != TRANSLATED)
        limit = update_limit(live, self.settings.update_budget_count, self.settings.update_budget_share)
        if live and updates > limit and not allow_mass_update:
            message = (f"update budget: this run would update {updates} of {live} mirrors (limit {limit}); "
                       "nothing was written in this direction. If a change is meant to touch every record, "
                       "rerun with --allow-mass-update")
            res.anomalies.append(message)
            res.budget_stopped = True
            log.warning("sync.update_budget_exceeded", direction=d.name, updates=updates, limit=limit,
                        mirrors_live=live)
            self._count_plan(run, r)
            r.end("stopped", message)
            return
        held = self._hold_deletions(run, r, live)
        self._count_plan(run, r)
        if run.dry_run:
            self._keep_preview(run, r)
            return
        if held:
            self.ledger.hold_deletions(d.name, held, res.run_id or 0)
        self._write(run, r)

    def _hold_deletions(self, run: _Run, r: _DirectionRun, live: int) -> list[dict[str, Any]]:
        """The deletion guards: a rejected deletion is kept (skipped) until the native reappears or an operator
        resets it; the deletions of an untrusted listing, or more than the threshold, wait for an operator.
        Returns the deletions to queue."""
        d = r.direction
        rejected = self.ledger.decided_externals(d.name, "rejected")
        waiting = {p.external_id for p in self.ledger.pending_deletions(direction=d.name)}
        deletes = [x for batch in self.ledger.plan_rows(run.token, d.name, ("delete",)) for x in batch
                   if not x.reason.startswith(LINKED)]
        changes: list[tuple[str, dict[str, Any]]] = []
        active: list[PlanRow] = []
        for row in deletes:
            if row.external_id in rejected:
                changes.append((row.item, {"kind": "skip", "reason": "an operator rejected this deletion (undo it "
                                                                     "with `clusterbridge deletions reset ID`)"}))
            else:
                active.append(row)
        allowed = deletion_limit(live, self.settings.delete_max_count, self.settings.delete_max_share)
        hold_all = not r.trusted or len(active) > allowed
        held: list[dict[str, Any]] = []
        for row in active:
            if hold_all or row.external_id in waiting:
                changes.append((row.item, {"held": True}))
                held.append({"native_id": row.native_id, "external_id": row.external_id, "mirror_id": row.mirror_id,
                             "reason": row.reason, "name": row.name, "country": row.country})
        self.ledger.mark_plan(run.token, d.name, changes)
        if held:
            log.warning("deletions.held", direction=d.name, count=len(held), mirrors_live=live, limit=allowed,
                        trusted=r.trusted, hint="review with `clusterbridge deletions`, then approve or reject")
        return held

    def _count_plan(self, run: _Run, r: _DirectionRun) -> None:
        """The outcomes the plan stands for: a dry run reports these; a real run recounts as writes land."""
        counts = r.result.counts
        for (kind, held, _origin), n in self.ledger.plan_counts(run.token, r.name).items():
            counts["held_deletions" if held else PLAN_KINDS[kind]] += n
        relinks = sum(1 for batch in self.ledger.plan_rows(run.token, r.name, ("delete",), held=False)
                      for x in batch if x.reason.startswith(LINKED))
        counts["deleted"] -= relinks
        counts["linked"] += relinks

    def _keep_preview(self, run: _Run, r: _DirectionRun) -> None:
        for batch in self.ledger.plan_rows(run.token, r.name):
            for x in batch:
                if x.kind == "unchanged":
                    continue
                if run.preview_limit and len(r.result.preview) >= run.preview_limit:
                    return
                action = "hold deletion" if x.held else x.kind
                r.result.preview.append({"action": action, "native_id": x.native_id, "external_id": x.external_id,
                                  "name": x.name, "country": x.country, "reason": x.reason, "origin": x.origin})

    def _write(self, run: _Run, r: _DirectionRun) -> None:
        d, res = r.direction, r.result
        # counted again as the writes land; what a stop leaves unwritten ends as skipped
        planned = {k: res.counts[k] for k in ("created", "updated", "deleted")}
        relinks = sum(1 for batch in self.ledger.plan_rows(run.token, d.name, ("delete",), held=False)
                      for x in batch if x.reason.startswith(LINKED))
        res.counts["linked"] -= relinks
        for key in planned:
            res.counts[key] = 0
        self._record_quarantine(run, r)
        self._record_without_requests(run, r)
        try:
            if self._stopping():
                return self._interrupted(r)
            self._execute_approved(r)
            progress = r.progress or self.progress.direction(d.name)
            progress.phase("writing")
            progress.set_total(planned["created"] + planned["updated"])
            if not self._write_chunks(run, r, progress):
                return self._interrupted(r)
            for batch in self.ledger.plan_rows(run.token, d.name, ("delete",), held=False):
                for row in batch:
                    if self._stopping():
                        return self._interrupted(r)
                    self._delete(r, row)
            return None
        finally:
            unwritten = planned["created"] + planned["updated"] + planned["deleted"] + relinks - r.attempted
            if unwritten > 0:
                res.counts["skipped"] += unwritten

    def _interrupted(self, r: _DirectionRun) -> None:
        r.end("interrupted", "stopped on request; the rest follows on the next run")
        log.warning("sync.interrupted", direction=r.name, note="the cursor stays: the next run picks up the rest")

    def _record_quarantine(self, run: _Run, r: _DirectionRun) -> None:
        entries: list[tuple[str, RecordProblem]] = []
        for batch in self.ledger.plan_rows(run.token, r.name, ("quarantine",)):
            for row in batch:
                info = json.loads(row.payload) if row.payload else {}
                entries.append((str(info.get("stage") or "pull"), RecordProblem(
                    row.native_id, row.reason, info.get("field"), info.get("raw"), bool(info.get("retryable", True)))))
            self.ledger.quarantine(r.name, entries, r.result.run_id or 0)
            entries = []

    def _record_without_requests(self, run: _Run, r: _DirectionRun) -> None:
        """What needs no request: adopted mirrors, rule-11 links, and unchanged records (no longer failing)."""
        for batch in self.ledger.plan_rows(run.token, r.name, ("adopt", "unchanged", "link")):
            self.ledger.mark_written(r.name, [_written(x, x.mirror_id) for x in batch if x.kind == "adopt"])
            self.ledger.mark_linked(r.name, [(x.native_id, x.external_id) for x in batch if x.kind == "link"])
            self.ledger.clear_errors(r.name, [x.native_id for x in batch])

    def _write_chunks(self, run: _Run, r: _DirectionRun, progress: DirectionProgress) -> bool:
        """Creates and updates, in chunks of what one `write` call takes, as many in flight as the target
        allows. Each chunk's intents are recorded in one transaction before it is sent and its confirmations in
        one as soon as it is answered, so a chunk held up by a Retry-After never idles the others: the next
        chunk starts as soon as any one ends. False when a stop request ended the writing early."""
        d, res, target = r.direction, r.result, r.target
        window = max(1, target.concurrency)
        in_flight: dict[Future[list[WriteResult]], Sequence[PlanRow]] = {}
        error: BaseException | None = None
        stopped = False
        reported = time.monotonic()

        def settle(when: str) -> None:
            nonlocal error, reported
            done, _ = wait(in_flight, return_when=when)
            for future in done:
                chunk = in_flight.pop(future)
                # what every chunk did is recorded before the first error is raised
                failed = self._confirm_chunk(r, chunk, future)
                if failed is None:
                    progress.advance(len(chunk))
                error = error or failed
            # the run's counters for dashboards: at most once a second, and when the last chunk is in
            if res.run_id is not None and (not in_flight or time.monotonic() - reported >= PROGRESS_SECONDS):
                self.ledger.run_progress(res.run_id, res.as_counts())
                reported = time.monotonic()

        with ThreadPoolExecutor(max_workers=window, thread_name_prefix=f"write-{d.name}") as pool:
            try:
                for chunk in self.ledger.plan_rows(run.token, d.name, ("create", "update"),
                                                   batch=max(1, target.write_batch)):
                    while len(in_flight) >= window and error is None:
                        settle(FIRST_COMPLETED)
                    if error is not None:
                        break
                    if self._stopping():
                        stopped = True
                        break
                    in_flight[self._send_chunk(r, pool, chunk)] = chunk
            finally:
                while in_flight:
                    settle(ALL_COMPLETED)
        if error is not None:
            raise error
        return not stopped

    def _send_chunk(self, r: _DirectionRun, pool: ThreadPoolExecutor,
                    chunk: Sequence[PlanRow]) -> Future[list[WriteResult]]:
        """Record the chunk's intents, then hand it to a writer thread."""
        d = r.direction
        self.ledger.mark_intents(d.name, [(x.native_id, x.external_id, "creating", None)
                                          for x in chunk if x.kind == "create"])
        previous = self.ledger.link_payloads(d.name, [x.native_id for x in chunk if x.kind == "update" and
                                                      not x.repair])
        writes = [MirrorWrite(x.external_id, json.loads(x.payload or "{}"),
                              x.mirror_id if x.kind == "update" else None,
                              previous.get(x.native_id) if x.kind == "update" and not x.repair else None)
                  for x in chunk]
        return pool.submit(r.target.write, writes)

    def _confirm_chunk(self, r: _DirectionRun, chunk: Sequence[PlanRow],
                       future: Future[list[WriteResult]]) -> BaseException | None:
        """Record what a chunk's answer says (in one transaction per outcome); its error, if it raised."""
        d, res = r.direction, r.result
        error = future.exception()
        if error is not None:
            return error
        confirmed: list[dict[str, Any]] = []
        failures: list[tuple[str, RecordProblem]] = []
        for row, result in zip(chunk, future.result(), strict=True):
            r.attempted += 1
            if result.problem is not None or result.action == "failed":
                problem = result.problem or RecordProblem(row.native_id, "the target returned no result")
                failures.append(("write", RecordProblem(row.native_id, problem.reason, problem.field, None,
                                                        problem.retryable)))
                res.counts["quarantined"] += 1
                log.warning("record.quarantined", direction=d.name, native_id=row.native_id, stage="write",
                            reason=problem.reason, field=problem.field)
                continue
            confirmed.append(_written(row, result.mirror_id or row.mirror_id))
            if row.kind == "create" and result.action in ("created", "adopted"):
                res.counts["created"] += 1
            elif result.action == "unchanged":
                res.counts["unchanged"] += 1
            else:
                res.counts["updated"] += 1
        self.ledger.confirm_writes(d.name, confirmed, failures, res.run_id or 0)
        return None

    def _delete(self, r: _DirectionRun, row: PlanRow) -> None:
        d, res = r.direction, r.result
        r.attempted += 1
        if row.native_id:
            self.ledger.mark_intents(d.name, [(row.native_id, row.external_id, "deleting", row.mirror_id)])
        try:
            r.target.delete(row.external_id, row.mirror_id)
        except RecordRefused as exc:
            res.counts["quarantined"] += 1
            if row.native_id:
                self.ledger.quarantine(d.name, [("write", RecordProblem(row.native_id, str(exc), exc.field))],
                                       res.run_id or 0)
            return
        self.ledger.mark_deleted(d.name, row.native_id, row.external_id)
        res.counts["linked" if row.reason.startswith(LINKED) else "deleted"] += 1
        log.info("mirror.deleted", direction=d.name, native_id=row.native_id, external_id=row.external_id,
                 reason=row.reason)

    def _execute_approved(self, r: _DirectionRun) -> int:
        done = 0
        for deletion in self.ledger.pending_deletions(direction=r.name, states=("approved",)):
            self._delete(r, PlanRow(item=deletion.native_id or f"mirror:{deletion.mirror_id}", seq=0,
                                    origin="approved", kind="delete", native_id=deletion.native_id,
                                    external_id=deletion.external_id, reason=deletion.reason,
                                    mirror_id=deletion.mirror_id))
            self.ledger.decide_deletion(deletion.id, "done")
            done += 1
        # approved deletions are operator decisions, not records this run handled
        r.result.counts["deleted"] -= done
        r.attempted -= done
        return done

    # -- recording ----------------------------------------------------------------------------------------
    def _close(self, run: _Run, r: _DirectionRun) -> None:
        """End a direction: its status, its cursor (only when every write went out), its dashboard row."""
        res = r.result
        if r.progress is not None:
            r.progress.close()
        if res.status == "success" and (res.counts["quarantined"] or res.counts["held_deletions"] or res.anomalies):
            res.status = "partial"
        complete = not r.failed and res.status in ("success", "partial")
        if complete and not run.dry_run:
            learnt = [c for c in (r.newest, r.cursor if not r.full else None) if c is not None]
            cursor = min(max(learnt), run.started) if learnt else None
            counted = r.full and r.ended_on_error is None and r.trusted
            if cursor is not None or counted:
                self.ledger.set_cursor(r.name, cursor, res.counts["pulled"] if counted else None, run.started)
        level = "info" if res.status == "success" else "warning"
        getattr(log, level)("sync.finished", direction=r.name, status=res.status, dry_run=run.dry_run,
                            **res.as_counts(), kept=res.kept, anomalies=len(res.anomalies), error=res.error)
        if run.dry_run or res.run_id is None:
            return
        error = res.error or ("; ".join(res.anomalies) or None)
        self.ledger.finish_run(res.run_id, res.status, res.as_counts(), res.anomalies, res.error)
        fresh = complete and res.status == "success" and r.ended_on_error is None
        self.ledger.update_status(r.name, run_id=res.run_id, status=res.status, started_at=run.started, error=error,
                                  budget_stopped=res.budget_stopped, fresh=fresh)

    # -- operator decisions -------------------------------------------------------------------------------
    def execute_approved(self) -> int:
        """Carry out approved deletions now (the operator's `deletions approve`)."""
        done = 0
        for d in self.bridge.directions:
            r = _DirectionRun(d, DirectionResult(d.name, "approve"), self.connectors[d.source.name],
                              self.connectors[d.target.name], full=False, cursor=None, last_full_count=None)
            done += self._execute_approved(r)
            self.ledger.refresh_status_counts(d.name)
        return done


def _snapshot(cluster: Cluster) -> NativeSnapshot:
    text = cluster.model_dump_json()
    return NativeSnapshot(cluster.source, cluster.source_id, cluster.name_en, cluster.country, cluster.live,
                          cluster.source_changed, text, hashlib.sha256(text.encode()).hexdigest())


def _row(action: Action, seq: int, origin: str, payload: str | None, withheld: str | None,
         pending: bool) -> PlanRow:
    return PlanRow(item=action.native_id, seq=seq, origin=origin, kind=action.kind, native_id=action.native_id,
                   external_id=action.external_id, reason=action.reason, mirror_id=action.mirror_id,
                   name=action.name or None, country=action.country or None, payload=payload,
                   payload_hash=action.payload_hash, changed=action.changed, repair=action.repair,
                   translation_pending=pending, withheld=withheld)


def _written(row: PlanRow, mirror_id: str | None) -> dict[str, Any]:
    return {"native_id": row.native_id, "external_id": row.external_id, "mirror_id": mirror_id,
            "payload": row.payload, "payload_hash": row.payload_hash, "native_changed": row.changed,
            "translation_pending": row.translation_pending, "withheld": row.withheld}


def _field(exc: Exception) -> str | None:
    """'title: the cluster has no name' → 'title'."""
    head, sep, _ = str(exc).partition(":")
    head = head.strip()
    return head if sep and head and " " not in head else None


def _raw(wire: Any) -> Any:
    dump = getattr(wire, "model_dump", None)
    return dump(mode="json") if callable(dump) else wire


def _stored_raw(quarantine: QuarantinedRecord | None) -> Any:
    """The raw record a quarantined entry was stored with (None when there is none)."""
    if quarantine is None or not quarantine.raw:
        return None
    return json.loads(quarantine.raw)
