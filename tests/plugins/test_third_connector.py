"""A third platform is a plugin, not a code edit: a throwaway connector from tests/ is installed beside the
package (a module and a `*.dist-info` naming it in the entry point group `clusterbridge.connectors`, on
PYTHONPATH) and `clusterbridge sync` runs against it, with the kr side on the KICOX simulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clusterbridge.simulators import KicoxSimulator
from clusterbridge.store import db
from clusterbridge.testing import kicox_cluster, kicox_seed, running
from tests.e2e.harness import API_KEY, SERVICE_KEY, fast_config

pytestmark = pytest.mark.slow

PLUGIN = Path(__file__).with_name("ledgerbook.py")
NATIVES = [
    {"id": "LB-1", "name": "Saxony Microelectronics", "country": "DE", "nace": ["C26.1"],
     "changed": "2026-10-15T09:30:00+00:00"},
    {"id": "LB-2", "name": "Toulon Sea Cluster", "country": "FR", "nace": ["C30.1"],
     "changed": "2026-10-15T09:31:00+00:00"},
]


def install(site: Path) -> None:
    """What `pip install` of a one-module plugin would leave in site-packages."""
    site.mkdir()
    shutil.copy(PLUGIN, site / "cb_ledgerbook.py")
    info = site / "cb_ledgerbook-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cb-ledgerbook\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[clusterbridge.connectors]\nledgerbook = cb_ledgerbook:create\n")


@dataclass
class Plugged:
    kicox: KicoxSimulator
    book: Path
    env: dict[str, str]
    site: Path

    def cli(self, *args: str, plugin: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if plugin:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.site), env.get("PYTHONPATH", "")]))
        return subprocess.run([sys.executable, "-m", "clusterbridge", *args], env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    def mirrors(self) -> dict[str, Any]:
        mirrors: dict[str, Any] = json.loads(self.book.read_text(encoding="utf-8"))["mirrors"]
        return mirrors


@pytest.fixture
def plugged(database_url: str, tmp_path: Path) -> Iterator[Plugged]:
    seed = kicox_seed(kicox_cluster("KC-7", clstrNm="창원 로봇 미니클러스터", clstrEngNm="Changwon Robot Mini-Cluster"),
                      kicox_cluster("KC-8", clstrNm="구미 전자부품 클러스터", clstrEngNm="", ksicCd="26211"))
    with running(KicoxSimulator(seed=seed, service_key=SERVICE_KEY, api_key=API_KEY)) as kicox:
        site = tmp_path / "site"
        install(site)
        book = tmp_path / "book.json"
        book.write_text(json.dumps({"natives": NATIVES, "mirrors": {}}))
        config_dir = fast_config(tmp_path)
        (config_dir / "connectors" / "ledgerbook.toml").write_text(f'book = "{book}"\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERBRIDGE_")}
        env.update({
            "CLUSTERBRIDGE_DATABASE_URL": database_url, "CLUSTERBRIDGE_CONFIG_DIR": str(config_dir),
            "CLUSTERBRIDGE_EU_CONNECTOR": "ledgerbook", "CLUSTERBRIDGE_KICOX_BASE_URL": kicox.url,
            "CLUSTERBRIDGE_KICOX_SERVICE_KEY": SERVICE_KEY, "CLUSTERBRIDGE_KICOX_API_KEY": API_KEY,
            "CLUSTERBRIDGE_LOG_LEVEL": "warning",
        })
        engine = db.make_engine(database_url)
        db.upgrade(engine)
        engine.dispose()
        yield Plugged(kicox, book, env, site)


class TestThirdConnector:
    """A connector found by its entry point serves a side in a full sync, both ways."""

    def test_a_full_sync_runs_against_the_installed_plugin(self, plugged: Plugged) -> None:
        done = plugged.cli("sync", "--full")
        assert done.returncode == 0, done.stdout + done.stderr
        mirrors = plugged.mirrors()
        assert sorted(mirrors) == ["KC-7", "KC-8"]
        assert mirrors["KC-7"]["name"] == "Changwon Robot Mini-Cluster"
        assert mirrors["KC-8"]["name"] == "Gumi Electronic Parts Cluster"
        assert mirrors["KC-8"]["country"] == "South Korea"
        assert mirrors["KC-8"]["codes"] == ["C26"]
        foreign = {f["extrlId"]: f for f in plugged.kicox.foreign()}
        assert sorted(foreign) == ["book:LB-1", "book:LB-2"]
        assert (foreign["book:LB-1"]["clstrEngNm"], foreign["book:LB-1"]["natnNm"]) == ("Saxony Microelectronics",
                                                                                        "독일")
        again = plugged.cli("sync", "--full")
        assert again.returncode == 0, again.stdout + again.stderr
        assert plugged.mirrors() == mirrors

    def test_without_the_plugin_the_connector_is_unknown(self, plugged: Plugged) -> None:
        done = plugged.cli("sync", plugin=False)
        assert done.returncode == 2
        assert "unknown connector 'ledgerbook'" in done.stdout + done.stderr
