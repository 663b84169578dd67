"""The operator's command line. Exit codes (DESIGN.md): 0 in sync, 3 partial, 1 failed, 2 bad usage or
configuration."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import structlog
from rich.console import Console
from rich.table import Table

from clusterbridge import __version__, logs
from clusterbridge.config import Settings, load_settings
from clusterbridge.errors import ClusterbridgeError, ConfigurationError, SyncLocked
from clusterbridge.store import db
from clusterbridge.store.ledger import DIRECTIONS, Ledger

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])
log = structlog.get_logger("clusterbridge.cli")


@dataclass
class Context:
    settings: Settings

    def ledger(self, migrated: bool = True) -> Ledger:
        engine = db.make_engine(self.settings.database_url)
        if migrated:
            db.require_migrated(engine)
        return Ledger(engine)


def _secrets(settings: Settings) -> list[str]:
    values = [settings.eccp_client_secret, settings.kicox_service_key, settings.kicox_api_key,
              settings.deepl_api_key, settings.papago_client_secret]
    return [v.get_secret_value() for v in values if v is not None]


def handle_errors(func: F) -> F:
    """Turn the service's errors into the documented exit codes with a message that says what to fix."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigurationError as exc:
            click.echo(f"configuration error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except SyncLocked as exc:
            click.echo(f"not started: {exc}", err=True)
            sys.exit(EXIT_FAILED)
        except ClusterbridgeError as exc:
            click.echo(f"failed: {exc}", err=True)
            sys.exit(EXIT_FAILED)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(__version__, prog_name="clusterbridge")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Keep ECCP and KICOX's Korean Cluster Information Platform showing each other's clusters.

    Settings come from CLUSTERBRIDGE_* environment variables (or a .env file); see the README.
    """
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    logs.configure(settings.log_format, settings.log_level, _secrets(settings))
    ctx.obj = Context(settings)


@contextmanager
def open_engine(settings: Settings, stop_requested: Callable[[], bool] | None = None) -> Iterator[Any]:
    """A ready SyncEngine on a migrated database, with its connectors, closed afterwards."""
    from clusterbridge.connectors import load_connector
    from clusterbridge.mapping import Mapper
    from clusterbridge.sync.engine import SyncEngine
    from clusterbridge.translate import build_translator

    engine = db.make_engine(settings.database_url)
    db.require_migrated(engine)
    connectors = {name: load_connector(name, settings) for name in ("eccp", "kicox")}
    try:
        mapper = Mapper.load(settings, translator=build_translator(settings, engine))
        yield SyncEngine(settings, Ledger(engine), connectors, mapper,
                         stop_requested=stop_requested or (lambda: False))
    finally:
        for connector in connectors.values():
            connector.close()
        engine.dispose()


# -- sync ------------------------------------------------------------------------------------------------
@main.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing to either platform or the ledger.")
@click.option("--full", is_flag=True, help="Full reconcile: compare complete listings (finds deletions and drift).")
@click.option("--direction", type=click.Choice(["eccp-to-kicox", "kicox-to-eccp", "both"]), default="both",
              show_default=True)
@click.option("--allow-mass-update", is_flag=True,
              help="Let this run update more mirrors than the per-run update budget allows.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
@handle_errors
def sync(obj: Context, dry_run: bool, full: bool, direction: str, allow_mass_update: bool, as_json: bool) -> None:
    """Run one sync now. Exit 0: in sync; 3: partial (records quarantined or deletions held); 1: failed;
    2: bad usage or configuration."""
    from clusterbridge.sync.engine import plan_summary

    with open_engine(obj.settings) as engine:
        lock = _null() if dry_run else db.sync_lock(engine.ledger.engine)
        with lock:
            result = engine.run(direction, full=full, dry_run=dry_run, trigger="cli",
                                allow_mass_update=allow_mass_update)
    if as_json:
        click.echo(json.dumps({"exit_code": result.exit_code, "directions": [
            {"direction": d.direction, "mode": d.mode, "status": d.status, **d.counts(), "anomalies": d.anomalies,
             "error": d.error, **({"plan": plan_summary(d)} if dry_run else {})} for d in result.directions]},
            ensure_ascii=False, indent=2))
    else:
        _print_result(result, dry_run)
    sys.exit(result.exit_code)


@contextmanager
def _null() -> Iterator[None]:
    yield


def _print_result(result: Any, dry_run: bool) -> None:
    from clusterbridge.sync.engine import plan_summary

    console = Console()
    for d in result.directions:
        if dry_run and d.plan is not None:
            counts = d.plan.counts()
            console.print(f"[bold]{d.direction}[/] ({d.mode}, dry run): would create {counts['create']}, update "
                          f"{counts['update']}, delete {counts['delete']} ({d.held} held for approval), adopt "
                          f"{counts['adopt']}; {counts['unchanged']} unchanged")
            table = Table("action", "native", "name", "reason", show_lines=False)
            for row in plan_summary(d)[:200]:
                table.add_row(row["action"], row["native_id"], row["name"], row["reason"])
            if table.row_count:
                console.print(table)
        else:
            console.print(f"[bold]{d.direction}[/] ({d.mode}): {d.status} — pulled {d.pulled}, created {d.created}, "
                          f"updated {d.updated}, deleted {d.deleted}, unchanged {d.unchanged}, failed {d.failed}, "
                          f"held deletions {d.held}")
        for anomaly in d.anomalies:
            console.print(f"  [yellow]! {anomaly}[/]")
        if d.error and d.error not in d.anomalies:
            console.print(f"  [red]error: {d.error}[/]")


# -- daemon ----------------------------------------------------------------------------------------------
@main.command()
@click.pass_obj
@handle_errors
def daemon(obj: Context) -> None:
    """Run syncs on a schedule until SIGTERM or SIGINT, then stop cleanly after the current batch.

    The interval is CLUSTERBRIDGE_SYNC_INTERVAL_MINUTES; a run becomes a full reconcile when the last one is
    older than CLUSTERBRIDGE_FULL_RECONCILE_HOURS.
    """
    from clusterbridge.daemon import run_daemon

    run_daemon(obj.settings)


# -- status, errors, links ---------------------------------------------------------------------------------
def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output for scripts.")
@click.pass_obj
@handle_errors
def status(obj: Context, as_json: bool) -> None:
    """The sync-status table: one row per direction, then the latest runs."""
    ledger = obj.ledger()
    rows = ledger.status_rows()
    runs = ledger.runs(10)
    data = {
        "directions": [
            {"direction": r.direction, "last_run_id": r.last_run_id, "last_run_at": _iso(r.last_run_at),
             "last_status": r.last_status, "last_success_at": _iso(r.last_success_at), "last_error": r.last_error,
             "cursor": _iso(r.cursor), "mirrors_live": r.mirrors_live, "records_failing": r.records_failing,
             "pending_deletions": r.pending_deletions, "budget_stopped": bool(r.budget_stopped),
             "lag_seconds": r.lag_seconds} for r in rows],
        "runs": [{"id": r.id, "trigger": r.trigger, "direction": r.direction, "mode": r.mode,
                  "started_at": _iso(r.started_at), "finished_at": _iso(r.finished_at), "status": r.status,
                  "pulled": r.pulled, "created": r.created, "updated": r.updated, "deleted": r.deleted,
                  "unchanged": r.unchanged, "failed": r.failed, "held_deletions": r.held_deletions,
                  "anomalies": json.loads(r.anomalies) if r.anomalies else []} for r in runs],
        "native_matches": len(ledger.matches()),
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    if not rows:
        console.print("No sync has run yet: start one with `clusterbridge sync`.")
        return
    table = Table("direction", "last run", "status", "last success", "mirrors", "failing", "held deletions",
                  "budget stop", "lag", title="sync status")
    for d in data["directions"]:
        lag = f"{d['lag_seconds'] / 60:.0f} min" if d["lag_seconds"] is not None else "-"
        table.add_row(d["direction"], d["last_run_at"] or "-", d["last_status"] or "-", d["last_success_at"] or "-",
                      str(d["mirrors_live"]), str(d["records_failing"]), str(d["pending_deletions"]),
                      "YES" if d["budget_stopped"] else "no", lag)
    console.print(table)
    for d in data["directions"]:
        if d["last_error"]:
            console.print(f"[yellow]{d['direction']}: {d['last_error']}[/]")
        if d["pending_deletions"]:
            console.print(f"[yellow]{d['direction']}: {d['pending_deletions']} deletion(s) wait for approval — "
                          "see `clusterbridge deletions`[/]")
    runs_table = Table("run", "trigger", "direction", "mode", "started", "status", "pulled", "created", "updated",
                       "deleted", "unchanged", "failed", "held", title="latest runs")
    for r in data["runs"]:
        runs_table.add_row(str(r["id"]), r["trigger"], r["direction"], r["mode"], r["started_at"] or "-", r["status"],
                           *(str(r[k]) for k in ("pulled", "created", "updated", "deleted", "unchanged", "failed",
                                                 "held_deletions")))
    console.print(runs_table)
    console.print(f"Korean clusters linked to their own ECCP profile: {data['native_matches']} "
                  "(see `clusterbridge links`)")


@main.command()
@click.option("--retry", is_flag=True, help="Run a sync now to retry the quarantined records.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def errors(obj: Context, retry: bool, as_json: bool) -> None:
    """Quarantined records and why. They are retried on every sync until they pass."""
    if retry:
        with open_engine(obj.settings) as engine, db.sync_lock(engine.ledger.engine):
            result = engine.run("both", trigger="retry")
        _print_result(result, dry_run=False)
    rows = obj.ledger().errors()
    if as_json:
        click.echo(json.dumps([{"direction": r.direction, "native_id": r.native_id, "stage": r.stage,
                                "reason": r.reason, "field": r.field, "retryable": r.retryable,
                                "attempts": r.attempts, "first_seen": _iso(r.first_seen),
                                "last_seen": _iso(r.last_seen)} for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("No quarantined records.")
        return
    table = Table("direction", "native id", "stage", "field", "reason", "attempts", "last seen",
                  title="quarantined records")
    for r in rows:
        table.add_row(r.direction, r.native_id, r.stage, r.field or "-", r.reason, str(r.attempts),
                      _iso(r.last_seen) or "-")
    Console().print(table)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def links(obj: Context, as_json: bool) -> None:
    """Korean clusters linked to their own native ECCP profile (rule 11), with how each match was made."""
    rows = obj.ledger().matches()
    data = [{"kicox_id": r.kicox_id, "eccp_id": r.eccp_id, "score": round(r.score, 3), "method": r.method,
             "matched_at": _iso(r.matched_at)} for r in rows]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not data:
        click.echo("No Korean cluster is linked to a native ECCP profile.")
        return
    table = Table("KICOX cluster", "ECCP profile", "method", "score", title="native matches")
    for d in data:
        table.add_row(d["kicox_id"], d["eccp_id"], d["method"], f"{d['score']:.2f}")
    Console().print(table)
    click.echo("Force or forbid a link in mappings/links.toml (or the copy in CLUSTERBRIDGE_CONFIG_DIR).")


@main.command()
@click.pass_obj
@handle_errors
def metrics(obj: Context) -> None:
    """The sync status in Prometheus text format (for a textfile collector or a scrape wrapper)."""
    ledger = obj.ledger()
    lines = []
    gauges = {
        "clusterbridge_mirrors_live": ("Mirrors written and live on the target", "mirrors_live"),
        "clusterbridge_records_failing": ("Records in quarantine", "records_failing"),
        "clusterbridge_pending_deletions": ("Deletions held for an operator", "pending_deletions"),
        "clusterbridge_budget_stopped": ("1 when the last run stopped at the update budget", "budget_stopped"),
        "clusterbridge_lag_seconds": ("Seconds between now and the newest source change synced", "lag_seconds"),
    }
    rows = ledger.status_rows()
    for name, (help_text, column) in gauges.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for r in rows:
            value = getattr(r, column)
            if value is not None:
                lines.append(f'{name}{{direction="{r.direction}"}} {float(value):g}')
    lines += ["# HELP clusterbridge_last_success_timestamp_seconds Last successful run",
              "# TYPE clusterbridge_last_success_timestamp_seconds gauge"]
    for r in rows:
        if r.last_success_at is not None:
            from clusterbridge.store.ledger import as_utc

            stamp = as_utc(r.last_success_at)
            assert stamp is not None
            lines.append(f'clusterbridge_last_success_timestamp_seconds{{direction="{r.direction}"}} '
                         f"{stamp.timestamp():.0f}")
    click.echo("\n".join(lines))


# -- deletion queue ----------------------------------------------------------------------------------------
@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def deletions(ctx: click.Context, as_json: bool) -> None:
    """Deletions held by the guard rails, waiting for an operator. `approve` or `reject` decides."""
    if ctx.invoked_subcommand is not None:
        return

    @handle_errors
    def _list() -> None:
        rows = ctx.obj.ledger().pending_deletions()
        if as_json:
            click.echo(json.dumps([{"id": d.id, "direction": d.direction, "native_id": d.native_id,
                                    "external_id": d.external_id, "mirror_id": d.mirror_id, "reason": d.reason,
                                    "held_at": d.held_at.isoformat()} for d in rows], indent=2, ensure_ascii=False))
            return
        if not rows:
            click.echo("No deletion waits for approval.")
            return
        table = Table("id", "direction", "native", "mirror", "held since", "why the native is believed gone",
                      title="held deletions")
        for d in rows:
            table.add_row(str(d.id), d.direction, d.native_id or "-", d.mirror_id or d.external_id,
                          d.held_at.isoformat(timespec="seconds"), d.reason)
        Console().print(table)
        click.echo("Approve with `clusterbridge deletions approve ID… | --all`, reject with `… reject`.")

    _list()


def _decide(ctx_obj: Context, ids: tuple[int, ...], all_: bool, state: str) -> list[int]:
    if not ids and not all_:
        raise click.UsageError("name the deletions to decide (IDs from `clusterbridge deletions`) or pass --all")
    ledger = ctx_obj.ledger()
    pending = ledger.pending_deletions(ids=None if all_ else ids)
    unknown = set(ids) - {d.id for d in pending}
    if unknown and not all_:
        raise ConfigurationError(f"no pending deletion with id {', '.join(map(str, sorted(unknown)))}")
    for d in pending:
        ledger.decide_deletion(d.id, state)
    for direction in DIRECTIONS:
        ledger.refresh_status_counts(direction)
    return [d.id for d in pending]


@deletions.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Approve every pending deletion.")
@click.pass_obj
@handle_errors
def approve(obj: Context, ids: tuple[int, ...], all_: bool) -> None:
    """Approve held deletions and carry them out now."""
    decided = _decide(obj, ids, all_, "approved")
    with open_engine(obj.settings) as engine, db.sync_lock(engine.ledger.engine):
        done = engine.execute_approved()
    click.echo(f"approved {len(decided)} deletion(s); {done} mirror(s) deleted")


@deletions.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Reject every pending deletion.")
@click.pass_obj
@handle_errors
def reject(obj: Context, ids: tuple[int, ...], all_: bool) -> None:
    """Reject held deletions: the mirrors stay. A later run that still finds the natives gone holds them again."""
    decided = _decide(obj, ids, all_, "rejected")
    click.echo(f"rejected {len(decided)} deletion(s); the mirrors stay")


# -- database ----------------------------------------------------------------------------------------------
@main.group(name="db")
def db_group() -> None:
    """The ledger database."""


@db_group.command()
@click.pass_obj
@handle_errors
def upgrade(obj: Context) -> None:
    """Apply the migrations (SQLite and PostgreSQL alike)."""
    engine = db.make_engine(obj.settings.database_url)
    db.upgrade(engine)
    click.echo(f"database {engine.url.render_as_string(hide_password=True)} is at revision {db.head_revision(engine)}")


# -- simulators and demo -----------------------------------------------------------------------------------
@main.command()
@click.argument("platform", type=click.Choice(["eccp", "kicox"]))
@click.option("--port", type=int, default=None, help="Port on 127.0.0.1 (ECCP 8081, KICOX 8082 by default).")
@click.option("--seed-data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON file of records to start with (default: the bundled sample data).")
@click.option("--faults", default=None,
              help="Fault switches, e.g. 'latency=0.05,rate_limit=10,error503=0.1,reset=0.05,seed=1'.")
@handle_errors
def simulate(platform: str, port: int | None, seed_data: Path | None, faults: str | None) -> None:
    """Run a simulator of one platform on loopback until interrupted."""
    from clusterbridge.simulators import serve

    serve(platform, port if port is not None else (8081 if platform == "eccp" else 8082), seed_data, faults)


@main.command()
@click.option("--database", default="sqlite:///clusterbridge-demo.db", show_default=True,
              help="Ledger for the demo (started afresh).")
@click.pass_obj
@handle_errors
def demo(obj: Context, database: str) -> None:
    """Start both simulators with the sample data, sync both ways into an embedded database, and show what
    each platform now displays."""
    from clusterbridge.demo import run_demo

    sys.exit(run_demo(obj.settings, database))
