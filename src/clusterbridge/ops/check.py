"""`clusterbridge check`: configuration, reachability, credentials and the database, one result a check.

The checks, in order: the settings load (unknown `CLUSTERBRIDGE_*` variables are warnings); the sides and the
mappings read; per side, the connector plugin is installed and builds, an HTTP connector's base URL answers,
and the connector proves itself. A connector that offers `check()` (the `SelfChecking` protocol) is asked;
any other is probed through the interfaces every connector has: the first page of its native listing and of
its mirror listing, read once, without retries, one record a page where the connector has a page size (ECCP
fetches a token first, then reads `page[limit]=1`; KICOX reads the open-data service with the service key and
lists foreign clusters on the ingest API with the API key). Last, the database answers, is migrated and takes
writes (a statement that changes nothing, rolled back, on every table).

Exit codes: 0 when every check passes (warnings allowed); 2 when any check failed for configuration (a bad
setting or file, a connector that does not build, a database that refuses the connection, is read-only or is
not migrated); else 1 when something is unreachable or refused the credentials (a wrong ECCP client secret, a
KICOX service key the gateway does not know, code 30, or an ingest API key answered 401/403). Configuration
wins because it must be fixed before the rest can be judged. Secrets never appear: every text is redacted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote, unquote

import httpx
import sqlalchemy as sa

from clusterbridge.abc import Connector
from clusterbridge.config import HttpSettings, Settings, load_settings, unknown_variables, variable
from clusterbridge.connectors import load_connector
from clusterbridge.errors import ClusterbridgeError, ConfigurationError, DatabaseNotMigrated, PlatformError
from clusterbridge.logs import redact_text
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.sides import Bridge, Side, load_bridge
from clusterbridge.store import db
from clusterbridge.store.tables import metadata

T = TypeVar("T")
Failure = Literal["configuration", "unreachable", "refused"]
EXIT_OK, EXIT_FAILED, EXIT_CONFIGURATION = 0, 1, 2

# one record a page where a connector has a page size: a probe reads, it does not sync
_PROBE_PAGES: dict[str, dict[str, Any]] = {
    "eccp": {"page_limit": 1},
    "kicox": {"num_of_rows": 1, "foreign_rows": 1},
}
# an HTTP connector is probed once: a retry budget would make a down platform look like a hang
_PROBE_HTTP: dict[str, Any] = {"max_attempts": 1}


@dataclass(frozen=True)
class CheckResult:
    """One line of the report. `failure` says why a failed check failed (it picks the exit code); a passing
    check with a `fix` is a warning."""

    check: str
    ok: bool
    detail: str
    fix: str | None = None
    failure: Failure | None = None

    @classmethod
    def passed(cls, check: str, detail: str, fix: str | None = None) -> CheckResult:
        return cls(check, True, detail, fix)

    @classmethod
    def failed(cls, check: str, failure: Failure, detail: str, fix: str) -> CheckResult:
        return cls(check, False, detail, fix, failure)

    @property
    def warning(self) -> bool:
        return self.ok and self.fix is not None

    def as_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail, "fix": self.fix}


@runtime_checkable
class SelfChecking(Protocol):
    """A connector that knows how to prove itself (a folder is readable, a server answers, a key works)
    offers this; its results replace the generic read probes."""

    def check(self) -> list[CheckResult]:
        """One result a check, never raising for a failed check."""


def exit_code(results: Sequence[CheckResult]) -> int:
    """2 if any check failed for configuration, else 1 if any failed, else 0."""
    failures = {r.failure for r in results if not r.ok}
    if "configuration" in failures:
        return EXIT_CONFIGURATION
    return EXIT_FAILED if failures else EXIT_OK


def check_settings() -> tuple[Settings | None, list[CheckResult]]:
    """Load the settings as a check (a bad one is a result like any other), and report unknown variables."""
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        return None, [CheckResult.failed("settings", "configuration", str(exc),
                                         "correct the variable (or file) named above")]
    return settings, [CheckResult.passed("settings", "the CLUSTERBRIDGE_* settings are valid"), *_environment()]


def run_checks(settings: Settings) -> list[CheckResult]:
    """Every check after the settings, in order, with secrets redacted from every text."""
    secrets = _secret_values(settings)
    results = [*_configured(settings), _database(settings)]
    return [_redacted(r, secrets) for r in results]


def render(results: Sequence[CheckResult]) -> Iterator[str]:
    """One line a check, for people: status, name, what was found and what to do."""
    for r in results:
        status = "warn" if r.warning else "ok" if r.ok else "FAIL"
        fix = f" -> {r.fix}" if r.fix else ""
        yield f"{status:<4}  {r.check}: {r.detail}{fix}"


# -- the checks --------------------------------------------------------------------------------------------


def _environment() -> list[CheckResult]:
    unknown = unknown_variables()
    if not unknown:
        return [CheckResult.passed("environment", "no unknown CLUSTERBRIDGE_* variable")]
    return [CheckResult.passed("environment", str(u), f"rename it to {u.suggestion}" if u.suggestion
                               else "remove it, or see the README for the settings there are") for u in unknown]


def _configured(settings: Settings) -> list[CheckResult]:
    """The sides, the mappings, and per side its connector, built and probed."""
    try:
        bridge = load_bridge(settings)
    except ConfigurationError as exc:
        return [CheckResult.failed("sides", "configuration", str(exc), "correct connectors/sides.toml or its override")]
    results = [CheckResult.passed(
        "sides", ", ".join(f"{s.name} ({s.platform}) served by the {s.connector!r} connector" for s in bridge))]
    try:
        vocabulary = Vocabulary.load(settings)
    except ConfigurationError as exc:
        return [*results, CheckResult.failed("mappings", "configuration", str(exc),
                                             "correct the mappings file named above")]
    results.append(CheckResult.passed("mappings", "every mappings file reads and agrees with the others"))
    for side in bridge:
        results.extend(_side(settings, bridge, side, vocabulary))
    return results


def _side(settings: Settings, bridge: Bridge, side: Side, vocabulary: Vocabulary) -> list[CheckResult]:
    name = f"{side.name} ({side.connector})"

    def build(check: str, **overrides: Any) -> Connector | CheckResult:
        try:
            return load_connector(side.connector, settings, side=side, vocabulary=vocabulary, **overrides)
        except ConfigurationError as exc:
            return CheckResult.failed(check, "configuration", str(exc), "set or correct what the message names")
        except Exception as exc:  # a plugin that fails to import or to build: reported, the other checks go on
            return CheckResult.failed(check, "configuration", f"{type(exc).__name__}: {exc}",
                                      f"reinstall or fix the {side.connector!r} connector plugin")

    connector = build(f"{name} connector")
    if isinstance(connector, CheckResult):
        return [connector]
    http = getattr(connector, "settings", None)
    results = [CheckResult.passed(f"{name} connector", f"the {side.connector!r} connector is installed and builds")]
    if isinstance(http, HttpSettings):
        connector.close()
        answer = _base_url(name, side, http)
        results.append(answer)
        if not answer.ok:
            return results
        connector = build(f"{name} probe", **_PROBE_HTTP, **_PROBE_PAGES.get(side.connector, {}))
        if isinstance(connector, CheckResult):
            return [*results, connector]
    try:
        if isinstance(connector, SelfChecking):
            results.extend(connector.check())
        else:
            results.append(_probe(f"{name} natives", side, lambda: _first_natives(connector)))
            results.append(_probe(f"{name} mirrors", side, lambda: _first_mirrors(connector, bridge, side)))
    finally:
        connector.close()
    return results


def _base_url(name: str, side: Side, http: HttpSettings) -> CheckResult:
    """Any HTTP answer at the base URL proves the host is there; a connection failure proves it is not."""
    try:
        response = httpx.get(http.base_url, timeout=httpx.Timeout(http.timeout, connect=http.connect_timeout),
                             follow_redirects=False)
    except httpx.HTTPError as exc:
        return CheckResult.failed(f"{name} base URL", "unreachable", f"{http.base_url} does not answer "
                                  f"({type(exc).__name__}{': ' + str(exc) if str(exc) else ''})",
                                  f"start the platform, or correct {_url_source(side)}")
    return CheckResult.passed(f"{name} base URL", f"{http.base_url} answers (HTTP {response.status_code})")


def _url_source(side: Side) -> str:
    return f"{variable(side.connector + '_base_url')} (or base_url in connectors/{side.connector}.toml)"


def _first(pages: Iterator[T]) -> T | None:
    """The first item of a listing, which is then closed (a generator's HTTP client work ends there)."""
    try:
        return next(pages, None)
    finally:
        close = getattr(pages, "close", None)
        if callable(close):
            close()


def _first_natives(connector: Connector) -> str:
    page = _first(connector.iter_natives())
    if page is None:
        return "the native listing is empty"
    total = f"; the platform reports {page.reported_total} in all" if page.reported_total is not None else ""
    unread = f", {len(page.problems)} unreadable" if page.problems else ""
    return f"credentials accepted, first page read: {len(page.records)} native record(s){unread}{total}"


def _first_mirrors(connector: Connector, bridge: Bridge, side: Side) -> str:
    page = _first(connector.iter_mirrors())
    found = len(page) if page is not None else 0
    return (f"credentials accepted, mirror listing readable ({found} {bridge.other(side).name} mirror(s) on its "
            "first page)")


def _probe(check: str, side: Side, read: Callable[[], str]) -> CheckResult:
    """Run one read, judging its failure: a refusal (the connector's ConfigurationError during a call: the
    platform said no to the credentials) or an unreachable or failing platform."""
    try:
        return CheckResult.passed(check, read())
    except ConfigurationError as exc:
        return CheckResult.failed(check, "refused", str(exc), "correct the credentials the message names")
    except PlatformError as exc:
        return CheckResult.failed(check, "unreachable", str(exc),
                                  f"check that the platform is up and {_url_source(side)} is right")
    except Exception as exc:  # an answer nobody foresaw: reported as this check's failure, never a traceback
        return CheckResult.failed(check, "unreachable", f"unexpected {type(exc).__name__}: {exc}",
                                  "run `clusterbridge sync --dry-run` with CLUSTERBRIDGE_LOG_LEVEL=debug to see more")


def _database(settings: Settings) -> CheckResult:
    """The database answers, is at the newest migration, and takes writes (proved by an UPDATE of no row on
    every table, rolled back)."""
    try:
        engine = db.make_engine(settings.database_url)
    except ConfigurationError as exc:
        return CheckResult.failed("database", "configuration", str(exc), f"correct {variable('database_url')}")
    where = engine.url.render_as_string(hide_password=True)
    try:
        db.require_migrated(engine)
        with engine.connect() as conn, conn.begin() as transaction:
            for table in metadata.sorted_tables:
                _touch(conn, table)
            transaction.rollback()
    except DatabaseNotMigrated as exc:
        return CheckResult.failed("database", "configuration", str(exc), "run `clusterbridge db upgrade`")
    except ConfigurationError as exc:
        return CheckResult.failed("database", "configuration", str(exc), f"correct {variable('database_url')} "
                                  "or the database's permissions")
    except ClusterbridgeError as exc:
        return CheckResult.failed("database", "unreachable", str(exc), "start the database or correct its host")
    except sa.exc.SQLAlchemyError as exc:
        return CheckResult.failed("database", "unreachable", f"{where}: {type(exc).__name__}",
                                  "see the database server's log")
    finally:
        engine.dispose()
    return CheckResult.passed("database", f"{where} answers, is migrated (revision {db.HEAD_REVISION}) "
                              "and takes writes")


def _touch(conn: sa.Connection, table: sa.Table) -> None:
    """Insert, update and delete no row of `table`: the database checks the right to each (and refuses a
    read-only file or server) without anything changing."""
    columns = list(table.columns)
    column = next((c for c in columns if not c.primary_key), columns[0])
    conn.execute(sa.insert(table).from_select(columns, sa.select(*columns).where(sa.false())))
    conn.execute(sa.update(table).values({column: column}).where(sa.false()))
    conn.execute(sa.delete(table).where(sa.false()))


# -- secrets -----------------------------------------------------------------------------------------------


def _secret_values(settings: Settings) -> list[str]:
    values = [settings.eccp_client_secret, settings.kicox_service_key, settings.kicox_api_key,
              settings.deepl_api_key, settings.papago_client_secret, settings.libretranslate_api_key]
    found = [v.get_secret_value() for v in values if v is not None]
    try:
        password = sa.make_url(settings.database_url).password
    except sa.exc.ArgumentError:
        password = None
    if isinstance(password, str):
        found.append(password)
    # the KICOX key travels percent-encoded, and data.go.kr issues it in both forms
    found += [form for s in list(found) for form in (quote(s, safe=""), unquote(s)) if form != s]
    return [s for s in found if len(s) >= 3]  # a one- or two-character "secret" would mask ordinary words


def _redacted(result: CheckResult, secrets: Sequence[str]) -> CheckResult:
    def clean(text: str | None) -> str | None:
        return None if text is None else redact_text(text, secrets)

    return CheckResult(result.check, result.ok, clean(result.detail) or "", clean(result.fix), result.failure)
