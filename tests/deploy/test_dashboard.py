"""The Grafana dashboard of the repository: a dashboard Grafana loads, whose every query names only the
ledger's real tables and columns, and runs on a migrated PostgreSQL ledger as the read-only dashboards role."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
import yaml

from clusterbridge.abc import RecordProblem
from clusterbridge.errors import ConfigurationError
from clusterbridge.store import db
from clusterbridge.store.ledger import Ledger, NativeSnapshot
from clusterbridge.store.tables import metadata

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "clusterbridge.json"
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "clusterbridge.yaml"
PROVIDERS = ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "clusterbridge.yaml"
ROLE_SCRIPT = ROOT / "deploy" / "postgres" / "initdb" / "10-dashboards-role.sh"
PLUGIN = "grafana-postgresql-datasource"
# the tables a dashboard may read (docs/tables.md documents them)
DASHBOARD_TABLES = {"sync_runs", "sync_status", "record_errors", "links", "pending_deletions", "natives",
                    "native_matches", "partner_suggestions"}
COLUMNS = {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}

# The part of Grafana's dashboard model this dashboard relies on: what Grafana needs to load it, bind every
# query to the chosen data source and lay the panels out on its 24-column grid.
DASHBOARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "uid", "schemaVersion", "panels", "templating", "time", "editable"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "uid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "schemaVersion": {"type": "integer", "minimum": 36},
        "id": {"type": "null"},
        "time": {"type": "object", "required": ["from", "to"]},
        "refresh": {"type": "string"},
        "templating": {
            "type": "object",
            "required": ["list"],
            "properties": {"list": {"type": "array", "items": {"type": "object", "required": ["name", "type"]}}},
        },
        "panels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "type", "title", "gridPos", "datasource", "targets", "fieldConfig", "options"],
                "properties": {
                    "id": {"type": "integer", "minimum": 1},
                    "type": {"enum": ["stat", "table", "timeseries", "bargauge", "piechart", "gauge", "text"]},
                    "title": {"type": "string", "minLength": 1},
                    "gridPos": {
                        "type": "object",
                        "required": ["x", "y", "w", "h"],
                        "properties": {
                            "x": {"type": "integer", "minimum": 0, "maximum": 23},
                            "y": {"type": "integer", "minimum": 0},
                            "w": {"type": "integer", "minimum": 1, "maximum": 24},
                            "h": {"type": "integer", "minimum": 1},
                        },
                    },
                    "datasource": {"$ref": "#/$defs/datasource"},
                    "fieldConfig": {"type": "object", "required": ["defaults", "overrides"]},
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["refId", "datasource", "rawSql", "format", "rawQuery", "editorMode"],
                            "properties": {
                                "refId": {"type": "string", "pattern": "^[A-Z]$"},
                                "datasource": {"$ref": "#/$defs/datasource"},
                                "rawSql": {"type": "string", "minLength": 1},
                                "format": {"enum": ["table", "time_series"]},
                                "rawQuery": {"const": True},
                                "editorMode": {"const": "code"},
                            },
                        },
                    },
                },
            },
        },
    },
    "$defs": {
        "datasource": {
            "type": "object",
            "required": ["type", "uid"],
            "properties": {"type": {"const": PLUGIN}, "uid": {"const": "${datasource}"}},
        },
    },
}

# Grafana's macros, as plain SQL with a fixed range and a one-minute interval (what Grafana's PostgreSQL
# data source would send); a macro missing here fails the test rather than passing unchecked
MACROS = [
    (re.compile(r"\$__timeGroupAlias\(([\w.]+),\s*\$__interval\)"),
     r'floor(extract(epoch from \1) / 60) * 60 AS "time"'),
    (re.compile(r"\$__timeFilter\(([\w.]+)\)"),
     r"\1 BETWEEN '2000-01-01T00:00:00Z'::timestamptz AND now() + interval '1 day'"),
]


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def _queries() -> list[tuple[str, str]]:
    return [(panel["title"], target["rawSql"]) for panel in _dashboard()["panels"] for target in panel["targets"]]


def _plain_sql(sql: str) -> str:
    for pattern, replacement in MACROS:
        sql = pattern.sub(replacement, sql)
    return sql


def _strip_literals(sql: str) -> str:
    """The query without its string literals and quoted identifiers (output names), which name no column."""
    return re.sub(r"'(?:[^']|'')*'|\"[^\"]*\"", " ", sql)


class TestDashboardModel:
    """The dashboard is one Grafana loads: its model, its data source variable, a grid without overlaps."""

    def test_matches_the_dashboard_model(self) -> None:
        jsonschema.validate(_dashboard(), DASHBOARD_SCHEMA)

    def test_offers_a_postgresql_data_source_variable(self) -> None:
        variables = {v["name"]: v for v in _dashboard()["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == PLUGIN

    def test_panel_ids_and_titles_are_unique(self) -> None:
        for key in ("id", "title"):
            values = [panel[key] for panel in _dashboard()["panels"]]
            assert len(values) == len(set(values)), key

    def test_panels_fit_the_grid_without_overlapping(self) -> None:
        taken: set[tuple[int, int]] = set()
        for panel in _dashboard()["panels"]:
            g = panel["gridPos"]
            assert g["x"] + g["w"] <= 24, panel["title"]
            cells = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
            assert not cells & taken, f"{panel['title']} overlaps another panel"
            taken |= cells

    def test_time_series_queries_give_grafana_a_time_column(self) -> None:
        for panel in _dashboard()["panels"]:
            for target in panel["targets"]:
                if target["format"] == "time_series":
                    assert '"time"' in target["rawSql"] or "$__timeGroupAlias" in target["rawSql"], panel["title"]

    def test_reads_the_tables_the_brief_of_a_dashboard_names(self) -> None:
        sql = " ".join(q for _, q in _queries())
        for column in ("sync_status.fresh_as_of", "sync_status.records_behind", "sync_runs.status",
                       "sync_runs.created", "record_errors.reason", "pending_deletions.name",
                       "pending_deletions.country"):
            assert column in sql


class TestQueriesNameRealColumns:
    """Every query names only the ledger's tables and columns as `tables.py` declares them: each column is
    qualified by its table, so a misspelt one is caught here and not only on a live dashboard."""

    @pytest.mark.parametrize(("title", "sql"), _queries(), ids=[t for t, _ in _queries()])
    def test_tables_and_columns_exist(self, title: str, sql: str) -> None:
        text = _strip_literals(_plain_sql(sql))
        tables = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b(?!\s*[.(])", text, flags=re.IGNORECASE))
        assert tables, f"{title}: no table"
        assert tables <= DASHBOARD_TABLES, f"{title}: reads {tables - DASHBOARD_TABLES}"
        for table, column in re.findall(r"\b([a-z_]+)\.([a-z_]+)\b", text):
            assert table in tables, f"{title}: {table}.{column} of a table the query does not read"
            assert column in COLUMNS[table], f"{title}: {table}.{column} is not a column of {table}"

    @pytest.mark.parametrize(("title", "sql"), _queries(), ids=[t for t, _ in _queries()])
    def test_no_column_goes_unqualified(self, title: str, sql: str) -> None:
        text = _strip_literals(_plain_sql(sql))
        text = re.sub(r"\b[a-z_]+\.[a-z_]+\b|\b(?:FROM|JOIN)\s+[a-z_]+\b(?!\s*[.(])", " ", text, flags=re.IGNORECASE)
        known = set().union(*(COLUMNS[t] for t in DASHBOARD_TABLES))
        bare = {word for word in re.findall(r"\b[a-z_]+\b", text) if word in known}
        assert not bare, f"{title}: unqualified column(s) {bare}"

    @pytest.mark.parametrize(("title", "sql"), _queries(), ids=[t for t, _ in _queries()])
    def test_uses_only_macros_the_test_turns_into_sql(self, title: str, sql: str) -> None:
        assert "$" not in _plain_sql(sql), f"{title}: a Grafana macro or variable the tests cannot check"


class TestProvisioning:
    """Grafana finds the dashboard and the ledger's data source by themselves in the compose stack."""

    def test_data_source_is_the_ledger_through_the_read_only_role(self) -> None:
        (source,) = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"]
        assert source["type"] == PLUGIN
        assert source["url"] == "postgres:5432"
        assert source["user"] == "dashboards"
        assert source["jsonData"]["database"] == "clusterbridge"
        assert source["secureJsonData"]["password"] == "$DASHBOARDS_DB_PASSWORD"

    def test_dashboards_are_read_from_the_folder_compose_mounts(self) -> None:
        (provider,) = yaml.safe_load(PROVIDERS.read_text(encoding="utf-8"))["providers"]
        compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
        mounts = compose["services"]["grafana"]["volumes"]
        target = f"./deploy/grafana/clusterbridge.json:{provider['options']['path']}/clusterbridge.json:ro"
        assert target in mounts
        assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts


# -- on a real ledger ---------------------------------------------------------------------------------------
def _fill(ledger: Ledger) -> None:
    """A ledger with a bit of everything the dashboard shows: finished and running runs, quarantine, a held
    deletion, stored natives."""
    stamp = datetime.now(UTC)
    ledger.save_natives([
        NativeSnapshot("eu", "e-1", "Alpha Cluster", "DE", True, stamp, "{}", "0" * 64),
        NativeSnapshot("eu", "e-2", "Beta Cluster", "FR", False, stamp, "{}", "1" * 64),
    ])
    run = ledger.start_run("daemon", "eu-to-kr", "full", False)
    ledger.quarantine("eu-to-kr", [("render", RecordProblem("e-1", "cannot show it", "title"))], run)
    ledger.hold_deletions("eu-to-kr", [{"native_id": "e-2", "external_id": "eccp:e-2", "mirror_id": "m-2",
                                        "reason": "no longer in the source's full listing", "name": None,
                                        "country": None}], run)
    ledger.finish_run(run, "partial", {"pulled": 2, "vanished": 1, "unchanged": 1, "quarantined": 1,
                                       "held_deletions": 1}, ["a listing anomaly"], None)
    ledger.update_status("eu-to-kr", run_id=run, status="partial", started_at=stamp - timedelta(minutes=3),
                         error=None, budget_stopped=False, fresh=False)
    ledger.start_run("cli", "kr-to-eu", "incremental", False)


@pytest.fixture
def reader_url(database_url: str) -> Iterator[str]:
    """The URL of the read-only dashboards role on a migrated, filled ledger, the role made by the very
    script the compose stack's PostgreSQL runs (the test database's owner standing in for `clusterbridge`)."""
    url = sa.make_url(database_url)
    reader = f"cb_dash_{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "POSTGRES_USER": url.username or "postgres", "POSTGRES_DB": url.database or "",
           "PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432),
           "DASHBOARDS_DB_USER": reader, "DASHBOARDS_DB_PASSWORD": "reader-password"}
    if url.password:
        env["PGPASSWORD"] = url.password
    subprocess.run(["sh", str(ROLE_SCRIPT)], env=env, check=True, capture_output=True)
    owner = db.make_engine(database_url)
    try:
        db.upgrade(owner)  # after the role: the tables are covered by the owner's default privileges
        _fill(Ledger(owner))
        yield url.set(username=reader, password="reader-password").render_as_string(hide_password=False)
        with owner.connect() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{reader}"'))
            conn.commit()
    finally:
        owner.dispose()
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{reader}"'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
class TestQueriesRunOnTheLedger:
    """Each query runs on a migrated PostgreSQL ledger, as the read-only role the dashboards use, once
    Grafana's macros are plain SQL; that role can read the ledger and change nothing."""

    def test_every_query_runs(self, reader_url: str) -> None:
        engine = db.make_engine(reader_url)
        try:
            with engine.connect() as conn:
                results = {title: conn.execute(sa.text(_plain_sql(sql))).mappings().all() for title, sql in _queries()}
        finally:
            engine.dispose()
        assert {r["direction"] for r in results["Directions"]} == {"eu-to-kr", "kr-to-eu"}
        (held,) = results["Deletions waiting for a decision"]
        assert (held["cluster"], held["country"]) == ("Beta Cluster", "FR")  # from the stored natives
        (quarantined,) = results["Quarantined records"]
        assert (quarantined["name"], quarantined["stage"]) == ("Alpha Cluster", "render")
        finished = next(r for r in results["Recent runs"] if r["status"] == "partial")
        assert finished["unbalanced"] == 0
        assert any(r["freshness"] is None for r in results["Freshness"])  # never fresh yet

    def test_the_dashboards_role_cannot_write(self, reader_url: str) -> None:
        engine = db.make_engine(reader_url)
        try:
            # the service's engines turn a refusal into a ConfigurationError that says what to grant
            with engine.connect() as conn, pytest.raises(ConfigurationError, match="permission denied"):
                conn.execute(sa.text("DELETE FROM pending_deletions"))
        finally:
            engine.dispose()
