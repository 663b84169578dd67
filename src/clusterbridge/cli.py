"""The operator's command line. Exit codes (DESIGN.md): 0 in sync, 3 partial, 1 failed, 2 bad usage or
configuration."""

from __future__ import annotations

import faulthandler
import functools
import json
import signal
import sys
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import structlog
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from clusterbridge import __version__, logs
from clusterbridge.config import Settings, check_ledger_location, load_settings, warn_unknown_variables
from clusterbridge.errors import ClusterbridgeError, ConfigurationError, SyncLocked
from clusterbridge.sides import Bridge, load_bridge
from clusterbridge.stopping import StopRequest
from clusterbridge.store import db
from clusterbridge.store.ledger import Ledger
from clusterbridge.sync.result import RunResult

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])
log = structlog.get_logger("clusterbridge.cli")
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
# commands that never open the configured ledger, so a container may run them without a database
NO_LEDGER_COMMANDS = frozenset({"simulate", "demo"})


@dataclass
class Context:
    settings: Settings

    def ledger(self, migrated: bool = True) -> Ledger:
        engine = db.make_engine(self.settings.database_url)
        if migrated:
            db.require_migrated(engine)
        return Ledger(engine)

    def bridge(self) -> Bridge:
        return load_bridge(self.settings)


def _secrets(settings: Settings) -> list[str]:
    """Every secret the settings hold (their SecretStr fields), for the log redactor."""
    values = (getattr(settings, name) for name in type(settings).model_fields)
    return [v.get_secret_value() for v in values if isinstance(v, SecretStr) and v.get_secret_value()]


def handle_errors(func: F) -> F:
    """Turn the service's errors into the documented exit codes with a one-line message that says what to fix
    (on stderr; with --json also as a JSON document on stdout, so a script always gets JSON)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        def fail(kind: str, exc: Exception, code: int) -> None:
            if _json_logs():
                log.error("command.failed", kind=kind, error=str(exc), exit_code=code)
            else:
                click.echo(f"{kind}: {exc}", err=True)
            if kwargs.get("as_json"):
                click.echo(json.dumps({"error": str(exc), "kind": kind, "exit_code": code}, ensure_ascii=False))
            sys.exit(code)

        try:
            return func(*args, **kwargs)
        except ConfigurationError as exc:
            fail("configuration error", exc, EXIT_USAGE)
        except SyncLocked as exc:
            fail("not started", exc, EXIT_FAILED)
        except ClusterbridgeError as exc:
            fail("failed", exc, EXIT_FAILED)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature F promises


def _json_logs() -> bool:
    """True when the operator asked for JSON logs: then every line the process writes is one JSON object."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Context) if ctx is not None else None
    return obj is not None and obj.settings.log_format == "json"


def _stacks_on_sigusr1() -> None:
    """`kill -USR1 <pid>` prints where every thread of a run that seems stuck is, without stopping it, to the
    process's own stderr (a progress bar may have redirected `sys.stderr` by then)."""
    stream = sys.__stderr__
    if stream is None:
        return
    with suppress(OSError, ValueError):  # no file descriptor behind it (a host embedding the command line)
        faulthandler.register(signal.SIGUSR1, file=stream, all_threads=True)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="clusterbridge")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Keep the European Cluster Collaboration Platform (ECCP) and KICOX's Korean Cluster Information Platform
    showing each other's cluster organisations.

    Settings come from CLUSTERBRIDGE_* environment variables (or a .env file); see the README.
    """
    _stacks_on_sigusr1()
    if ctx.invoked_subcommand == "check":
        return  # `check` reads the settings itself, to report a bad one among its results
    try:
        settings = load_settings()
        if ctx.invoked_subcommand not in NO_LEDGER_COMMANDS:
            check_ledger_location(settings)
    except ConfigurationError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    logs.configure(settings.log_format, settings.log_level, _secrets(settings))
    warn_unknown_variables()
    ctx.obj = Context(settings)


def run_sync(settings: Settings, direction: str, *, dry_run: bool = False, full: bool = False,
             trigger: str = "cli", allow_mass_update: bool = False, preview_limit: int = 0,
             quiet: bool = False) -> RunResult:
    """One run under the sync lock (a dry run takes none: it writes nothing), stopping cleanly on a signal.
    Progress shows as a bar on a terminal, as log lines otherwise (none when `quiet`)."""
    from clusterbridge.ops.progress import choose_progress
    from clusterbridge.runtime import open_engine

    database = db.make_engine(settings.database_url)
    try:
        db.require_migrated(database)
        # SIGTERM and SIGINT ask the run to stop after the batch in flight (a second SIGINT stops at once)
        with StopRequest().on_signals("sync.stopping", "finishing the batch in flight",
                                      second_interrupt_raises=True) as stop:
            lock = None if dry_run else db.SyncLock(database).acquire()
            try:
                with choose_progress(log_format=settings.log_format, quiet=quiet) as progress, \
                        open_engine(settings, stop.is_set, lock=lock, database=database, progress=progress) as engine:
                    return engine.run(direction, full=full, dry_run=dry_run, trigger=trigger,
                                      allow_mass_update=allow_mass_update, preview_limit=preview_limit)
            finally:
                if lock is not None:
                    lock.release()
    finally:
        database.dispose()


# -- sync ------------------------------------------------------------------------------------------------
SIMULATE_HELP = "{eccp|kicox}"
DIRECTION_HELP = ("eu-to-kr, kr-to-eu (or their old names eccp-to-kicox, kicox-to-eccp), or both")


@main.command(context_settings=CONTEXT)
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing to either platform or the ledger.")
@click.option("--full", is_flag=True, help="Full reconcile: compare complete listings (finds deletions and drift).")
@click.option("--direction", default="both", show_default=True, metavar="DIRECTION", help=DIRECTION_HELP)
@click.option("--allow-mass-update", is_flag=True,
              help="Let this run update more mirrors than the per-run update budget allows.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(min=0),
              help="Dry run: actions shown per direction (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
@handle_errors
def sync(obj: Context, dry_run: bool, full: bool, direction: str, allow_mass_update: bool, limit: int,
         as_json: bool) -> None:
    """Run one sync now.

    Exit 0: in sync; 3: partial (records quarantined, deletions held, a listing not trusted); 1: failed or
    stopped; 2: bad usage or configuration.
    """
    obj.bridge().select(direction)  # an unknown direction is a usage error before anything runs
    result = run_sync(obj.settings, direction, dry_run=dry_run, full=full, trigger="cli",
                      allow_mass_update=allow_mass_update, preview_limit=0 if as_json else limit, quiet=as_json)
    if as_json:
        click.echo(json.dumps(result_json(result), ensure_ascii=False, indent=2))
    elif _json_logs():
        click.echo(json.dumps(result_json(result), ensure_ascii=False, separators=(",", ":")))
    else:
        print_result(result, dry_run, limit)
    sys.exit(result.exit_code)


def result_json(result: RunResult) -> dict[str, Any]:
    return {"exit_code": result.exit_code, "directions": [
        {"direction": d.direction, "mode": d.mode, "dry_run": d.dry_run, "status": d.status, **d.as_counts(),
         "kept": d.kept, "anomalies": d.anomalies, "error": d.error,
         **({"plan": d.preview} if d.dry_run else {})} for d in result.directions]}


def print_result(result: RunResult, dry_run: bool, limit: int = 200) -> None:
    console = Console()
    for d in result.directions:
        heading = f"[bold]{d.direction}[/] ({d.mode}{', dry run' if dry_run else ''}): {d.status}"
        console.print(heading)
        console.print(f"  {d.summary()}")
        if d.kept:
            console.print(f"  {d.kept} quarantined record(s) kept their mirror (they are retried on every run)")
        if dry_run and d.preview:
            table = Table("action", "native", "name", "reason", show_lines=False, expand=False)
            for row in d.preview:
                table.add_row(row["action"], row["native_id"] or "-", row["name"] or "-", row["reason"])
            console.print(table)
            planned = sum(v for k, v in d.counts.items() if k not in ("pulled", "retried", "vanished", "unchanged"))
            if limit and planned > len(d.preview):
                console.print(f"  … {planned - len(d.preview)} more action(s) not shown (--limit 0 or --json for all)")
        for anomaly in d.anomalies:
            console.print(f"  [yellow]! {anomaly}[/]")
        if d.error and d.error not in d.anomalies:
            console.print(f"  [red]error: {d.error}[/]")


# -- daemon ----------------------------------------------------------------------------------------------
@main.command(context_settings=CONTEXT)
@click.pass_obj
@handle_errors
def daemon(obj: Context) -> None:
    """Run syncs on a schedule until SIGTERM or SIGINT, then stop cleanly after the batch in flight.

    The interval is CLUSTERBRIDGE_SYNC_INTERVAL_MINUTES; a run becomes a full reconcile when the last one is
    older than CLUSTERBRIDGE_FULL_RECONCILE_HOURS.
    """
    from clusterbridge.daemon import run_daemon

    run_daemon(obj.settings)


# -- status, errors, links ---------------------------------------------------------------------------------
def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def status_json(ledger: Ledger) -> dict[str, Any]:
    from clusterbridge.store.ledger import now

    rows = ledger.status_rows()
    stamp = now()
    return {
        "directions": [
            {"direction": r.direction, "last_run_id": r.last_run_id, "last_run_at": _iso(r.last_run_at),
             "last_status": r.last_status, "last_success_at": _iso(r.last_success_at), "last_error": r.last_error,
             "cursor": _iso(r.cursor), "mirrors_live": r.mirrors_live, "records_failing": r.records_failing,
             "pending_deletions": r.pending_deletions, "records_behind": r.records_behind,
             "budget_stopped": bool(r.budget_stopped), "fresh_as_of": _iso(r.fresh_as_of),
             "freshness_seconds": (stamp - r.fresh_as_of).total_seconds() if r.fresh_as_of else None,
             "lag_seconds": (stamp - r.fresh_as_of).total_seconds() if r.fresh_as_of else None,
             "run_in_progress": bool(r.run_in_progress), "current_run_id": r.current_run_id} for r in rows],
        "runs": [{"id": r.id, "trigger": r.trigger, "direction": r.direction, "mode": r.mode,
                  "started_at": _iso(r.started_at), "finished_at": _iso(r.finished_at), "status": r.status,
                  "pulled": r.pulled, "retried": r.retried, "vanished": r.vanished, "created": r.created,
                  "updated": r.updated, "deleted": r.deleted, "unchanged": r.unchanged, "linked": r.linked,
                  "skipped": r.skipped, "quarantined": r.quarantined, "failed": r.failed,
                  "held_deletions": r.held_deletions, "error": r.error,
                  "anomalies": json.loads(r.anomalies) if r.anomalies else []} for r in ledger.runs(10)],
        "native_matches": len(ledger.matches()),
    }


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@main.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output for scripts.")
@click.pass_obj
@handle_errors
def status(obj: Context, as_json: bool) -> None:
    """The sync-status table: one row per direction, then the latest runs."""
    data = status_json(obj.ledger())
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    if not data["directions"]:
        console.print("No sync has run yet: start one with `clusterbridge sync`.")
        return
    table = Table("direction", "last", "fresh", "mirrors", "behind", "now", title="sync status")
    for d in data["directions"]:
        table.add_row(d["direction"], d["last_status"] or "-", _age(d["freshness_seconds"]), str(d["mirrors_live"]),
                      f"{d['records_failing']} q / {d['pending_deletions']} h",
                      "running" if d["run_in_progress"] else "idle")
    console.print(table)
    for d in data["directions"]:
        if d["last_error"]:
            console.print(f"[yellow]{d['direction']}: {d['last_error']}[/]")
        if d["pending_deletions"]:
            console.print(f"[yellow]{d['direction']}: {d['pending_deletions']} deletion(s) wait for approval — "
                          "see `clusterbridge deletions`[/]")
        if d["budget_stopped"]:
            console.print(f"[yellow]{d['direction']}: stopped at the update budget — see the last run[/]")
    runs = Table("run", "direction", "mode", "status", "pulled", "new", "upd", "del", "quar", title="latest runs")
    for r in data["runs"]:
        runs.add_row(str(r["id"]), r["direction"], r["mode"], r["status"],
                     *(str(r[k]) for k in ("pulled", "created", "updated", "deleted", "quarantined")))
    console.print(runs)
    console.print(f"Clusters linked to their own profile on the other platform: {data['native_matches']} "
                  "(see `clusterbridge links`)")


@main.command(context_settings=CONTEXT)
@click.option("--retry", is_flag=True, help="Run a sync now: it retries every quarantined record by id.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def errors(obj: Context, retry: bool, as_json: bool) -> None:
    """Quarantined records and why. They are retried by id on every sync until they pass.

    With --retry, the exit code is the sync's (0 when nothing is left in quarantine, 3 when some still fail).
    """
    code = EXIT_OK
    if retry:
        result = run_sync(obj.settings, "both", trigger="retry", quiet=as_json)
        code = result.exit_code
        if not as_json:
            print_result(result, dry_run=False)
    rows = obj.ledger().errors()
    if as_json:
        click.echo(json.dumps([{"direction": r.direction, "native_id": r.native_id, "stage": r.stage,
                                "reason": r.reason, "field": r.field, "retryable": r.retryable,
                                "attempts": r.attempts, "first_seen": _iso(r.first_seen),
                                "last_seen": _iso(r.last_seen)} for r in rows], ensure_ascii=False, indent=2))
    elif not rows:
        click.echo("No quarantined records.")
    else:
        table = Table("direction", "native id", "stage", "field", "reason", "tries", title="quarantined records")
        for r in rows:
            table.add_row(r.direction, r.native_id, r.stage, r.field or "-", r.reason, str(r.attempts))
        Console().print(table)
    sys.exit(code)


@main.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def links(obj: Context, as_json: bool) -> None:
    """Clusters linked to their own native profile on the other platform (rule 11), with how each was matched."""
    bridge = obj.bridge()
    rows = obj.ledger().matches()
    sides = {s.name: s for s in bridge}
    data = []
    for r in rows:
        home, profile = sides.get(r.home_side), sides.get(r.profile_side)
        data.append({
            f"{home.platform if home else r.home_side}_id": r.home_id,
            f"{profile.platform if profile else r.profile_side}_id": r.profile_id,
            "home_side": r.home_side, "profile_side": r.profile_side, "score": round(r.score, 3),
            "method": r.method, "matched_at": _iso(r.matched_at)})
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not rows:
        click.echo("No cluster is linked to a native profile on the other platform.")
        return
    table = Table("home side", "cluster", "its own profile", "method", "score", title="native matches")
    for r in rows:
        table.add_row(r.home_side, r.home_id, f"{r.profile_side}:{r.profile_id}", r.method, f"{r.score:.2f}")
    Console().print(table)
    click.echo("Force or forbid a link in mappings/links.toml (or the copy in CLUSTERBRIDGE_CONFIG_DIR).")


@main.command(context_settings=CONTEXT)
@click.pass_obj
@handle_errors
def metrics(obj: Context) -> None:
    """The ledger's metric families in the Prometheus text format, as the daemon's /metrics serves them (for a
    textfile collector)."""
    from clusterbridge.ops.metrics import ledger_registry, render_metrics

    click.echo(render_metrics(ledger_registry(obj.ledger())).decode(), nl=False)


# -- partners and the report ------------------------------------------------------------------------------
@main.command(context_settings=CONTEXT)
@click.option("--for", "for_id", metavar="ID", help="Only the suggestions of this cluster (an id of either side).")
@click.option("--top", default=5, show_default=True, type=click.IntRange(1, 5), help="Suggestions per cluster.")
@click.option("--min-score", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--json", "as_json", is_flag=True, help="An array of objects with eccp_id, kicox_id, score, reasons.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")
@click.pass_obj
@handle_errors
def partners(obj: Context, for_id: str | None, top: int, min_score: float, as_json: bool, as_csv: bool) -> None:
    """Suggested partners across the two sides, best first, with the reasons in English and Korean.

    The suggestions are kept current by every sync that changed a cluster (see the README)."""
    from clusterbridge.model import Cluster

    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    bridge, ledger = obj.bridge(), obj.ledger()
    first, second = bridge.first, bridge.second
    rows = [r for r in ledger.suggestions(first.name, second.name) if r.score >= min_score and (
        (for_id is None and (r.rank_first <= top or r.rank_second <= top))
        or (for_id == r.first_id and r.rank_first <= top) or (for_id == r.second_id and r.rank_second <= top))]
    wanted = {(first.name, r.first_id) for r in rows} | {(second.name, r.second_id) for r in rows}
    names = {(n.side, n.native_id): Cluster.model_validate_json(n.snapshot) for n in ledger.iter_natives()
             if (n.side, n.native_id) in wanted}
    a, b = f"{first.platform}_id", f"{second.platform}_id"
    data = []
    for r in rows:
        e, k = names.get((first.name, r.first_id)), names.get((second.name, r.second_id))
        data.append({a: r.first_id, b: r.second_id, "score": r.score,
                     "reasons": [x["text"] for x in json.loads(r.reasons_en)],
                     "reasons_ko": json.loads(r.reasons_ko),
                     f"{first.platform}_name": e.name_en if e else None,
                     f"{second.platform}_name": (k.names.get("ko") or k.name_en) if k else None})
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if as_csv:
        import csv

        columns = [a, b, f"{first.platform}_name", f"{second.platform}_name", "score", "reasons", "reasons_ko"]
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for d in data:
            writer.writerow({**{k: d[k] for k in columns[:5]}, "reasons": " | ".join(d["reasons"]),
                             "reasons_ko": " | ".join(d["reasons_ko"])})
        return
    if not data:
        click.echo("No suggestion yet: they are made after a sync (see `clusterbridge sync`).")
        return
    table = Table(first.platform.upper(), second.platform.upper(), "score", "why", title="possible partners")
    for d in data:
        table.add_row(f"{d[f'{first.platform}_name']}\n{d[a]}", f"{d[f'{second.platform}_name']}\n{d[b]}",
                      f"{d['score']:.2f}", "\n".join(d["reasons"]))
    Console().print(table)


@main.command(context_settings=CONTEXT)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Start of the period the report covers (default: 30 days ago).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write (one self-contained file).")
@click.pass_obj
@handle_errors
def report(obj: Context, since: Any, out: Path) -> None:
    """One self-contained HTML report for the programme's contact persons: clusters by ecosystem and country,
    new and withdrawn ones, cooperation interests, the strongest suggested pairs, and sync health."""
    from datetime import UTC, datetime, timedelta

    from clusterbridge.mapping.vocabulary import Vocabulary
    from clusterbridge.report import render_report
    from clusterbridge.report.ledger import report_data

    generated = datetime.now(UTC)
    start = since.replace(tzinfo=UTC) if since is not None else generated - timedelta(days=30)
    data = report_data(obj.ledger(), obj.bridge(), Vocabulary.load(obj.settings), since=start,
                       generated_at=generated)
    html = render_report(data)
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot write the report to {out}: {exc.strerror}") from exc
    click.echo(f"report written to {out} ({len(html) // 1024} kB)")


# -- deletion queue ----------------------------------------------------------------------------------------
@main.group(invoke_without_command=True, context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def deletions(ctx: click.Context, as_json: bool) -> None:
    """Deletions held by the guard rails, waiting for an operator: `approve`, `reject` or `reset` decides."""
    if ctx.invoked_subcommand is not None:
        return

    @handle_errors
    def _list() -> None:
        rows = ctx.obj.ledger().pending_deletions()
        if as_json:
            click.echo(json.dumps([{"id": d.id, "direction": d.direction, "native_id": d.native_id,
                                    "external_id": d.external_id, "mirror_id": d.mirror_id, "name": d.name,
                                    "country": d.country, "reason": d.reason, "held_at": d.held_at.isoformat()}
                                   for d in rows], indent=2, ensure_ascii=False))
            return
        if not rows:
            click.echo("No deletion waits for approval.")
            return
        table = Table("id", "direction", "cluster", "country", "held since", "why it is believed gone",
                      title="held deletions")
        for d in rows:
            table.add_row(str(d.id), d.direction, f"{d.name or '-'} ({d.native_id or d.external_id})",
                          d.country or "-", d.held_at.isoformat(timespec="minutes"), d.reason)
        Console().print(table)
        click.echo("Approve with `clusterbridge deletions approve ID… | --all`, reject with `… reject`.")

    _list()


def _decide(ctx_obj: Context, ids: tuple[int, ...], all_: bool, state: str,
            from_states: tuple[str, ...] = ("pending",)) -> list[int]:
    if not ids and not all_:
        raise click.UsageError("name the deletions to decide (IDs from `clusterbridge deletions`) or pass --all")
    ledger = ctx_obj.ledger()
    found = ledger.pending_deletions(states=from_states, ids=None if all_ else ids)
    unknown = set(ids) - {d.id for d in found}
    if unknown and not all_:
        raise ConfigurationError(f"no {'/'.join(from_states)} deletion with id {', '.join(map(str, sorted(unknown)))}")
    for d in found:
        ledger.decide_deletion(d.id, state)
    for direction in ctx_obj.bridge().directions:
        ledger.refresh_status_counts(direction.name)
    return [d.id for d in found]


@deletions.command(context_settings=CONTEXT)
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Approve every pending deletion.")
@click.pass_obj
@handle_errors
def approve(obj: Context, ids: tuple[int, ...], all_: bool) -> None:
    """Approve held deletions and carry them out now."""
    from clusterbridge.runtime import open_engine

    decided = _decide(obj, ids, all_, "approved")
    database = db.make_engine(obj.settings.database_url)
    try:
        with db.sync_lock(database) as lock, open_engine(obj.settings, lock=lock, database=database) as engine:
            done = engine.execute_approved()
    finally:
        database.dispose()
    click.echo(f"approved {len(decided)} deletion(s); {done} mirror(s) deleted")


@deletions.command(context_settings=CONTEXT)
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Reject every pending deletion.")
@click.pass_obj
@handle_errors
def reject(obj: Context, ids: tuple[int, ...], all_: bool) -> None:
    """Reject held deletions: the mirrors stay, and later runs neither hold nor carry out these deletions
    again, until the native reappears or an operator resets the decision."""
    decided = _decide(obj, ids, all_, "rejected")
    click.echo(f"rejected {len(decided)} deletion(s); the mirrors stay")


@deletions.command(context_settings=CONTEXT)
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Reset every rejected deletion.")
@click.pass_obj
@handle_errors
def reset(obj: Context, ids: tuple[int, ...], all_: bool) -> None:
    """Withdraw earlier rejections: the next run judges those deletions afresh (and may hold them again)."""
    decided = _decide(obj, ids, all_, "reset", from_states=("rejected",))
    click.echo(f"reset {len(decided)} rejected deletion(s)")


# -- database ----------------------------------------------------------------------------------------------
@main.group(name="db", context_settings=CONTEXT)
def db_group() -> None:
    """The ledger database."""


@db_group.command(context_settings=CONTEXT)
@click.pass_obj
@handle_errors
def upgrade(obj: Context) -> None:
    """Apply the migrations (SQLite and PostgreSQL alike)."""
    engine = db.make_engine(obj.settings.database_url)
    db.upgrade(engine)
    click.echo(f"database {engine.url.render_as_string(hide_password=True)} is at revision {db.head_revision(engine)}")


# -- check -------------------------------------------------------------------------------------------------
@main.command(name="check", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of {check, ok, detail, fix}.")
def check_command(as_json: bool) -> None:
    """Check the configuration, reach each platform, prove each credential and the database, one line each.

    Exit 0: every check passed; 2: a configuration problem (settings, files, connectors, a database that
    refuses, is read-only or not migrated); 1: a platform or the database unreachable, or credentials refused.
    """
    from clusterbridge.ops.check import check_settings, exit_code, render, run_checks

    settings, results = check_settings()
    if settings is not None:
        # the report is the output: the probes' own progress lines show only when debugging
        logs.configure(settings.log_format, "debug" if settings.log_level == "debug" else "warning",
                       _secrets(settings))
        results += run_checks(settings)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=2))
    else:
        for line in render(results):
            click.echo(line)
    sys.exit(exit_code(results))


# -- simulators and demo -----------------------------------------------------------------------------------
@main.command(context_settings=CONTEXT)
@click.argument("platform", metavar=SIMULATE_HELP)
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port on 127.0.0.1 (ECCP 8081, KICOX 8082 by default).")
@click.option("--seed-data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON file of records to start with (default: the bundled sample data).")
@click.option("--faults", default=None,
              help="Fault switches, e.g. 'latency=0.05,rate_limit=10,error503=0.1,reset=0.05,seed=1'.")
@handle_errors
def simulate(platform: str, port: int | None, seed_data: Path | None, faults: str | None) -> None:
    """Run a simulator of one platform on loopback until interrupted."""
    from clusterbridge.simulators import SIMULATORS, serve

    if platform not in SIMULATORS:
        raise click.UsageError(f"no simulator {platform!r}: choose one of {', '.join(sorted(SIMULATORS))}")
    serve(platform, port, seed_data, faults)


@main.command(context_settings=CONTEXT)
@click.option("--database", default="sqlite:///clusterbridge-demo.db", show_default=True,
              help="Ledger for the demo (started afresh).")
@click.pass_obj
@handle_errors
def demo(obj: Context, database: str) -> None:
    """Start both simulators with the sample data, sync both ways into an embedded database, and show what
    each platform now displays."""
    from clusterbridge.demo import run_demo

    sys.exit(run_demo(obj.settings, database))
