"""Fixtures of the end-to-end suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from clusterbridge.config import Settings
from clusterbridge.simulators import EccpSimulator, KicoxSimulator
from clusterbridge.store import db
from tests.e2e.harness import API_KEY, CLIENT_ID, CLIENT_SECRET, SERVICE_KEY, Bridge, fast_config


@pytest.fixture
def bridge(database_url: str, tmp_path: Path) -> Iterator[Bridge]:
    eccp = EccpSimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, partner_code="kicox").start(0)
    kicox = KicoxSimulator(service_key=SERVICE_KEY, api_key=API_KEY).start(0)
    config_dir = fast_config(tmp_path)
    values = {
        "database_url": database_url, "eccp_base_url": eccp.url, "eccp_client_id": CLIENT_ID,
        "eccp_client_secret": CLIENT_SECRET, "kicox_base_url": kicox.url, "kicox_service_key": SERVICE_KEY,
        "kicox_api_key": API_KEY, "config_dir": str(config_dir), "log_level": "warning",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERBRIDGE_")}
    env.update({f"CLUSTERBRIDGE_{k.upper()}": v for k, v in values.items()})
    settings = Settings(
        **{k: v for k, v in values.items() if k not in {"eccp_client_secret", "kicox_service_key", "kicox_api_key"}},
        eccp_client_secret=SecretStr(CLIENT_SECRET), kicox_service_key=SecretStr(SERVICE_KEY),
        kicox_api_key=SecretStr(API_KEY), _env_file=None,
    )
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    engine.dispose()
    try:
        yield Bridge(eccp, kicox, settings, env)
    finally:
        eccp.stop()
        kicox.stop()
