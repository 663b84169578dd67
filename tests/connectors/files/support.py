"""Helpers of the file-exchange tests: connectors on a temporary folder, export files written the way other
programs write them (the csv module, openpyxl, json), and sample rows of both sides."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl

from clusterbridge.config import Settings
from clusterbridge.connectors.files import FilesConnector, create
from clusterbridge.model import Cluster
from clusterbridge.render import Renderer
from tests.connectors.support import side, vocabulary

SAMPLES = Path(__file__).resolve().parents[3] / "src" / "clusterbridge" / "connectors" / "files" / "samples"


def settings(**values: Any) -> Settings:
    values.setdefault("config_dir", None)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def make(side_name: str, folder: Path, config: Settings | None = None, **overrides: Any) -> FilesConnector:
    """The files connector of a side on `folder` (the shipped settings, with `overrides` laid over them)."""
    return create(config or settings(), side=side(side_name), vocabulary=vocabulary(), folder=str(folder),
                  **overrides)


def kr_row(cid: str, **values: Any) -> dict[str, Any]:
    """A Korean cluster as a KICOX team's export holds it."""
    row: dict[str, Any] = {
        "id": cid,
        "name": "시험 미니클러스터",
        "region": "경기도",
        "city": "안산시",
        "ksic_codes": "29172",
        "industries": "기계·장비",
        "members_total": "12",
        "description": "시험용 클러스터입니다.",
        "changed": "2026-10-15T09:30:00+09:00",
    }
    row.update(values)
    return row


def eu_row(cid: str, **values: Any) -> dict[str, Any]:
    """A European cluster as an ECCP team's export holds it."""
    row: dict[str, Any] = {
        "id": cid,
        "name": f"Cluster {cid}",
        "country": "DE",
        "city": "Dresden",
        "nace_codes": "J62",
        "ecosystems": "Digital",
        "description": "A sample cluster.",
        "changed": "2026-10-15T09:30:00+02:00",
    }
    row.update(values)
    return row


def headers_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for row in rows for k in row))


def write_export(path: Path, rows: Sequence[dict[str, Any]], *, headers: Sequence[str] | None = None,
                 encoding: str = "utf-8-sig", rename: dict[str, str] | None = None) -> Path:
    """Write an export file in the format its name says; `rename` maps fields to the file's headers."""
    names = list(headers or headers_of(rows))
    shown = [(rename or {}).get(n, n) for n in names]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(shown)
            for row in rows:
                writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
    elif suffix == ".xlsx":
        book = openpyxl.Workbook()
        ws = book.active
        assert ws is not None
        ws.append(shown)
        for row in rows:
            ws.append([row.get(n) for n in names])
        book.save(path)
    else:
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps({(rename or {}).get(k, k): v for k, v in row.items()}, ensure_ascii=False) + "\n")
    return path


def natives(connector: FilesConnector, since: Any = None) -> tuple[list[Any], list[Any]]:
    """(records, problems) of a whole listing."""
    records, problems = [], []
    for page in connector.iter_natives(since):
        records.extend(page.records)
        problems.extend(page.problems)
    return records, problems


def cluster_of(connector: FilesConnector, cid: str) -> Cluster:
    records, _ = natives(connector)
    return connector.normalise(next(r for r in records if r.native_id == cid))


def rendered_for(reader: str, cluster: Cluster, external_id: str) -> Any:
    """A cluster rendered for the readers of a side (offline: no translator)."""
    return Renderer(vocabulary()).render(cluster, side(reader), external_id).record
