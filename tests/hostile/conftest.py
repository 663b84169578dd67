"""Fixtures of the hostile-input suite: both simulators with their sample data on loopback and a migrated ledger,
per test (`bridge`) or once per module and database (`module_bridge`, for the one injected full sync the whole
corpus is checked against)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from clusterbridge.config import Settings
from clusterbridge.simulators import EccpSimulator, KicoxSimulator
from clusterbridge.store import db
from tests.conftest import POSTGRES_URL
from tests.e2e.harness import API_KEY, CLIENT_ID, CLIENT_SECRET, SERVICE_KEY, Bridge, fast_config


@contextmanager
def running_bridge(database_url: str, tmp: Path) -> Iterator[Bridge]:
    """Both simulators (sample data) on loopback, a migrated ledger, and the settings and environment of a
    clusterbridge configured against them (as the end-to-end suite's `bridge`)."""
    eccp = EccpSimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, partner_code="kicox").start(0)
    kicox = KicoxSimulator(service_key=SERVICE_KEY, api_key=API_KEY).start(0)
    try:
        values = {
            "database_url": database_url, "eccp_base_url": eccp.url, "eccp_client_id": CLIENT_ID,
            "eccp_client_secret": CLIENT_SECRET, "kicox_base_url": kicox.url, "kicox_service_key": SERVICE_KEY,
            "kicox_api_key": API_KEY, "config_dir": str(fast_config(tmp)), "log_level": "warning",
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERBRIDGE_")}
        env.update({f"CLUSTERBRIDGE_{k.upper()}": v for k, v in values.items()})
        secrets = {"eccp_client_secret", "kicox_service_key", "kicox_api_key"}
        settings = Settings(
            **{k: v for k, v in values.items() if k not in secrets},
            eccp_client_secret=SecretStr(CLIENT_SECRET), kicox_service_key=SecretStr(SERVICE_KEY),
            kicox_api_key=SecretStr(API_KEY), _env_file=None,
        )
        engine = db.make_engine(database_url)
        db.upgrade(engine)
        engine.dispose()
        yield Bridge(eccp, kicox, settings, env)
    finally:
        eccp.stop()
        kicox.stop()


@pytest.fixture
def bridge(database_url: str, tmp_path: Path) -> Iterator[Bridge]:
    with running_bridge(database_url, tmp_path) as running:
        yield running


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def module_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database for one module, on SQLite and on PostgreSQL (created for it, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def module_bridge(module_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    with running_bridge(module_database, tmp_path_factory.mktemp("bridge")) as running:
        yield running
