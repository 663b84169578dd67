"""The project's sample clusters as the partner matcher receives them.

The one place where the partner tests turn wire records into `Cluster`s: switch it to the connectors'
normalisers and every partner test follows.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from clusterbridge.config import Settings
from clusterbridge.connectors.eccp.models import EccpCluster
from clusterbridge.connectors.kicox.models import KicoxCluster
from clusterbridge.model import Cluster
from tests.mapping.pipeline import Pipeline as Mapper

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "clusterbridge" / "simulators" / "data"


@cache
def _mapper() -> Mapper:
    return Mapper.load(Settings(_env_file=None, translator="none"))  # type: ignore[call-arg]


@cache
def _load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def eccp_records() -> list[dict[str, Any]]:
    """The sample ECCP profiles (`{"id", "attributes"}`), a fresh copy each call."""
    return copy.deepcopy(_load("eccp.json")["data"])


def kicox_records() -> list[dict[str, Any]]:
    """The sample KICOX clusters (every value a string), a fresh copy each call."""
    return copy.deepcopy(_load("kicox.json")["clusters"])


def european(record: dict[str, Any]) -> Cluster:
    return _mapper().from_eccp(EccpCluster.model_validate({"type": "node--cluster_organisation", **record}))


def korean(record: dict[str, Any]) -> Cluster:
    return _mapper().from_kicox(KicoxCluster.model_validate(record))


@cache
def sample_european() -> tuple[Cluster, ...]:
    """Every sample ECCP profile, including unpublished ones and Korean clusters' own profiles."""
    return tuple(european(r) for r in eccp_records())


@cache
def sample_korean() -> tuple[Cluster, ...]:
    """Every sample KICOX cluster, including withdrawn ones."""
    return tuple(korean(r) for r in kicox_records())


def eccp_record(uuid: str, **attributes: Any) -> dict[str, Any]:
    """A made-up ECCP profile: the first sample's attributes with `attributes` replacing some."""
    record = eccp_records()[0]
    record["id"] = uuid
    record["attributes"].update(attributes)
    return record


def kicox_record(cluster_id: str, **fields: str) -> dict[str, Any]:
    """A made-up KICOX cluster: the first sample's fields with `fields` replacing some."""
    record = kicox_records()[0]
    record["clstrId"] = cluster_id
    record.update(fields)
    return record


def by_name(clusters: tuple[Cluster, ...] | list[Cluster], name: str) -> Cluster:
    """The one cluster whose English name starts with `name`."""
    (found,) = [c for c in clusters if c.name_en.startswith(name)]
    return found
