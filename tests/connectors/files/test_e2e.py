"""End to end: a KICOX team without an API exchanges files. `clusterbridge sync` runs with
CLUSTERBRIDGE_KR_CONNECTOR=files against the team's XLSX export while the eu side is the ECCP simulator on
loopback, over the real ledger on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from pydantic import SecretStr

from clusterbridge.config import Settings
from clusterbridge.connectors.files import formats
from clusterbridge.connectors.files.formats import sha256_of
from clusterbridge.runtime import open_engine
from clusterbridge.simulators import EccpSimulator
from clusterbridge.store import db
from clusterbridge.sync.result import RunResult
from clusterbridge.testing import eccp_attributes, eccp_seed
from tests.e2e.harness import CLIENT_ID, CLIENT_SECRET, fast_config

from .support import SAMPLES

pytestmark = pytest.mark.slow

EU_IDS = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 5)]
KR_LIVE = ["KC-000101", "KC-000102", "KC-000103", "KC-000104", "KC-000105"]


def eu_seed() -> dict[str, Any]:
    return eccp_seed(
        eccp_attributes(title="Silicon Saxony", field_country="DE", field_city="Dresden",
                        field_nace_codes=["C26.1"], field_ecosystems=["Electronics"], field_sectors=["Semiconductors"]),
        eccp_attributes(title="Pôle Mer Méditerranée", langcode="fr", field_country="FR", field_city="Toulon",
                        field_nace_codes=["C30.1"], field_ecosystems=["Mobility-Transport-Automotive"]),
        eccp_attributes(title="BioWin", field_country="BE", field_nace_codes=["C21"], field_ecosystems=["Health"],
                        field_contact={"name": "Marie Dupont", "email": "marie@biowin.example.eu", "phone": "",
                                       "public": True}),
        eccp_attributes(title="Unpublished Cluster", status=False, field_country="ES"),
        ids=EU_IDS,
    )


@dataclass
class Exchange:
    """The ECCP simulator, the KICOX team's folder, and clusterbridge configured with kr = files."""

    eccp: EccpSimulator
    folder: Path
    settings: Settings
    env: dict[str, str]

    @property
    def export(self) -> Path:
        return self.folder / "clusters.xlsx"

    @property
    def imported(self) -> Path:
        return self.folder / "foreign-clusters.xlsx"

    def sync(self, **options: Any) -> RunResult:
        with open_engine(self.settings) as engine, db.sync_lock(engine.ledger.engine):
            result: RunResult = engine.run("both", **options)
        return result

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "clusterbridge", *args], env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)

    def eccp_mirrors(self) -> dict[str, dict[str, Any]]:
        return {r["attributes"]["field_external_id"]: r["attributes"] for r in self.eccp.records()
                if r["attributes"]["field_origin"] == "kicox"}

    def import_rows(self) -> dict[str, dict[str, Any]]:
        book = openpyxl.load_workbook(self.imported, read_only=True)
        try:
            lines = list(book["clusters"].iter_rows(values_only=True))
        finally:
            book.close()
        headers = [str(h) for h in lines[0]]
        return {str(line[0]): dict(zip(headers, line, strict=True)) for line in lines[1:]}

    def edit_export(self, *, drop: str | None = None, change: tuple[str, str, Any] | None = None) -> None:
        """Edit the team's workbook as the team would: remove a row, or change one cell of a row."""
        book = openpyxl.load_workbook(self.export)
        ws = book.worksheets[0]
        headers = [c.value for c in ws[1]]
        for row in list(ws.iter_rows(min_row=2)):
            if drop is not None and row[0].value == drop:
                ws.delete_rows(row[0].row)
            elif change is not None and row[0].value == change[0]:
                row[headers.index(change[1])].value = change[2]
        book.save(self.export)

    def direction(self, result: RunResult, name: str) -> Any:
        return next(d for d in result.directions if d.direction == name)


@pytest.fixture
def exchange(database_url: str, tmp_path: Path) -> Iterator[Exchange]:
    eccp = EccpSimulator(seed=eu_seed(), client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                         partner_code="kicox").start(0)
    folder = tmp_path / "kicox-exchange"
    folder.mkdir()
    shutil.copy(SAMPLES / "kr-export.xlsx", folder / "clusters.xlsx")
    config_dir = fast_config(tmp_path)
    (config_dir / "connectors" / "files.toml").write_text(f'[kr]\nfolder = "{folder}"\n')
    values = {"database_url": database_url, "eccp_base_url": eccp.url, "eccp_client_id": CLIENT_ID,
              "config_dir": str(config_dir), "kr_connector": "files", "log_level": "warning"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERBRIDGE_")}
    env.update({f"CLUSTERBRIDGE_{k.upper()}": v for k, v in values.items()})
    env["CLUSTERBRIDGE_ECCP_CLIENT_SECRET"] = CLIENT_SECRET
    settings = Settings(**values, eccp_client_secret=SecretStr(CLIENT_SECRET), _env_file=None)  # type: ignore[arg-type]
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    engine.dispose()
    try:
        yield Exchange(eccp, folder, settings, env)
    finally:
        eccp.stop()


class TestKoreanTeamWithoutApi:
    """The issue's "done when": the KICOX team's spreadsheet in, an import file of European clusters in Korean out."""

    def test_sync_writes_the_european_clusters_in_korean_and_mirrors_the_korean_ones_on_eccp(
            self, exchange: Exchange) -> None:
        done = exchange.cli("sync", "--full")
        assert done.returncode == 0, done.stdout + done.stderr
        rows = exchange.import_rows()
        assert sorted(rows) == [f"eccp:{u}" for u in EU_IDS[:3]]  # the unpublished profile does not cross
        saxony = rows[f"eccp:{EU_IDS[0]}"]
        assert (saxony["name"], saxony["country_name"], saxony["code_system"]) == ("Silicon Saxony", "독일", "KSIC")
        assert saxony["codes"] == "C26"
        assert "전자" in saxony["ecosystems"]
        assert "전기·전자" in saxony["industries"]
        assert rows[f"eccp:{EU_IDS[1]}"]["country_name"] == "프랑스"
        assert rows[f"eccp:{EU_IDS[2]}"]["contact_email"] == "marie@biowin.example.eu"
        manifest_sha = sha256_of(exchange.imported)
        assert f'"sha256": "{manifest_sha}"' in (exchange.folder / "foreign-clusters.xlsx.manifest.json").read_text()

        mirrors = exchange.eccp_mirrors()
        assert sorted(mirrors) == KR_LIVE  # KC-000106 is withdrawn (live = N)
        assert mirrors["KC-000101"]["title"] == "Banwol-Sihwa Machinery Parts Mini-Cluster"
        assert mirrors["KC-000102"]["title"] == "Gumi Electronic Parts Cluster"  # romanised: no English name
        assert mirrors["KC-000101"]["field_contact"] is None  # the team marked it private
        assert mirrors["KC-000102"]["field_contact"]["email"] == "ms.kim@gumi-electronics.example.kr"

    def test_a_second_run_writes_nothing(self, exchange: Exchange) -> None:
        exchange.sync(full=True)
        before = exchange.imported.stat().st_mtime_ns, sha256_of(exchange.imported)
        again = exchange.sync(full=True)
        for d in again.directions:
            assert (d.status, d.created, d.updated, d.deleted) == ("success", 0, 0, 0), d
        assert (exchange.imported.stat().st_mtime_ns, sha256_of(exchange.imported)) == before
        assert exchange.sync().directions[0].status == "success"  # an incremental run too

    def test_a_row_removed_from_the_export_deletes_its_mirror_after_a_full_sync(self, exchange: Exchange) -> None:
        exchange.sync(full=True)
        exchange.edit_export(drop="KC-000103")
        exchange.sync()  # incremental: what a file no longer holds is not known to be gone yet
        assert "KC-000103" in exchange.eccp_mirrors()
        result = exchange.sync(full=True)
        assert exchange.direction(result, "kr-to-eu").deleted == 1
        assert sorted(exchange.eccp_mirrors()) == [k for k in KR_LIVE if k != "KC-000103"]

    def test_a_withdrawn_row_and_an_unpublished_profile_lose_their_mirrors(self, exchange: Exchange) -> None:
        exchange.sync(full=True)
        exchange.edit_export(change=("KC-000104", "live", "N"))
        exchange.edit_export(change=("KC-000104", "changed", "2026-10-20T10:00:00+09:00"))
        httpx.post(f"{exchange.eccp.url}/_admin/records/{EU_IDS[1]}/unpublish", timeout=10).raise_for_status()
        exchange.sync()
        assert "KC-000104" not in exchange.eccp_mirrors()
        assert f"eccp:{EU_IDS[1]}" not in exchange.import_rows()

    def test_an_import_file_removed_by_hand_is_written_anew_by_a_full_sync(self, exchange: Exchange) -> None:
        exchange.sync(full=True)
        rows = exchange.import_rows()
        exchange.imported.unlink()
        exchange.sync()  # incremental: nothing changed at the source, nothing is written
        assert not exchange.imported.exists()
        exchange.sync(full=True)
        assert exchange.import_rows() == rows

    def test_a_bad_row_is_quarantined_and_the_rest_syncs(self, exchange: Exchange) -> None:
        exchange.edit_export(change=("KC-000102", "country", "Korea"))
        done = exchange.cli("sync", "--full")
        assert done.returncode == 3, done.stdout + done.stderr  # partial
        assert sorted(exchange.eccp_mirrors()) == [k for k in KR_LIVE if k != "KC-000102"]
        errors = exchange.cli("errors")
        assert "KC-000102" in errors.stdout
        assert "country" in errors.stdout
        exchange.edit_export(change=("KC-000102", "country", "KR"))
        assert exchange.cli("sync", "--full").returncode == 0
        assert "KC-000102" in exchange.eccp_mirrors()

    def test_a_failed_write_leaves_the_old_import_file_intact(self, exchange: Exchange,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
        exchange.sync(full=True)
        old = exchange.imported.read_bytes()
        exchange.eccp.load(eccp_seed(eccp_attributes(title="Cluster Nouveau", field_country="FR"),
                                     ids=[EU_IDS[3][:-1] + "9"]))

        def refuse(src: Any, dst: Any) -> None:
            raise OSError(30, "Read-only file system")

        monkeypatch.setattr(formats.os, "replace", refuse)
        result = exchange.sync()
        eu_to_kr = exchange.direction(result, "eu-to-kr")
        assert eu_to_kr.status == "failed"
        assert "Read-only file system" in (eu_to_kr.error or "")
        assert exchange.direction(result, "kr-to-eu").status == "success"
        assert exchange.imported.read_bytes() == old
        assert not list(exchange.folder.glob(".*.tmp"))
        monkeypatch.undo()
        assert exchange.direction(exchange.sync(), "eu-to-kr").created == 1
        assert f"eccp:{EU_IDS[3][:-1]}9" in exchange.import_rows()
