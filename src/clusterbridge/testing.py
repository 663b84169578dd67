"""Helpers for tests (ours and anyone's): run a simulator for the length of a block, drive one over its
admin API from this or another process, a clock to move time by hand, and small valid sample records.

    with running(EccpSimulator(seed=eccp_seed(eccp_attributes(title="A")))) as sim, AdminClient(sim.url) as admin:
        admin.set_faults("error503=0.5,seed=1")
"""

from __future__ import annotations

import threading
import uuid as uuidlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx

from clusterbridge.simulators.base import JSON, Simulator

S = TypeVar("S", bound=Simulator)

__all__ = [
    "AdminClient",
    "FakeClock",
    "eccp_attributes",
    "eccp_seed",
    "foreign_cluster",
    "kicox_cluster",
    "kicox_seed",
    "running",
]


@contextmanager
def running(sim: S, port: int = 0) -> Iterator[S]:
    """Start `sim` on 127.0.0.1 (a free port by default), yield it, and stop it however the block ends."""
    sim.start(port)
    try:
        yield sim
    finally:
        sim.stop()


class FakeClock:
    """A clock for the simulators' `clock=` argument: time moves only when a test moves it."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, timestamp: float) -> None:
        with self._lock:
            self._now = timestamp


def _segment(value: str) -> str:
    return quote(value, safe="")


class AdminClient:
    """A small client of a simulator's admin API (`/_admin/...`), for tests and the demo."""

    def __init__(self, url: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=f"{url.rstrip('/')}/_admin", timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, body: JSON | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    # -- both simulators -------------------------------------------------------------------------------

    def set_faults(self, spec: str) -> str:
        """Replace the faults (e.g. "rate_limit=10,error503=0.1,seed=42"; "" for none); returns the spec."""
        result: str = self._call("POST", "/faults", {"spec": spec})["spec"]
        return result

    def faults(self) -> str:
        result: str = self._call("GET", "/faults")["spec"]
        return result

    def stats(self) -> JSON:
        """{"requests", "by_status", "faults", "writes", "writes_applied"} of the API (admin calls excluded)."""
        result: JSON = self._call("GET", "/stats")
        return result

    def reset_stats(self) -> None:
        self._call("POST", "/reset_stats")

    # -- ECCP ------------------------------------------------------------------------------------------

    def records(self) -> list[JSON]:
        """Every ECCP resource, mirrors and unpublished ones included."""
        result: list[JSON] = self._call("GET", "/records")["data"]
        return result

    def put_record(self, uuid: str | None, attributes: JSON) -> JSON:
        """Create or replace an ECCP profile (a native unless `field_origin` says otherwise)."""
        result: JSON = self._call(
            "PUT", f"/records/{_segment(uuid or str(uuidlib.uuid4()))}", {"attributes": attributes}
        )["data"]
        return result

    def edit_record(self, uuid: str, attributes: JSON) -> JSON:
        """Edit any ECCP profile as a site editor would (natives, or mirrors tampered with); bumps changed."""
        result: JSON = self._call("PATCH", f"/records/{_segment(uuid)}", {"attributes": attributes})["data"]
        return result

    def delete_record(self, uuid: str) -> None:
        self._call("DELETE", f"/records/{_segment(uuid)}")

    def unpublish(self, uuid: str) -> JSON:
        result: JSON = self._call("POST", f"/records/{_segment(uuid)}/unpublish")["data"]
        return result

    def set_listing(self, *, drop_pages: list[int] | None = None, count_offset: int = 0) -> JSON:
        """ECCP's truncation switch: pages served empty and/or meta.count off by `count_offset`."""
        result: JSON = self._call("POST", "/listing", {"drop_pages": drop_pages or [], "count_offset": count_offset})
        return result

    def expire_tokens(self) -> None:
        """Every ECCP token issued so far stops working (401)."""
        self._call("POST", "/tokens/expire")

    # -- KICOX -----------------------------------------------------------------------------------------

    def clusters(self) -> list[JSON]:
        result: list[JSON] = self._call("GET", "/clusters")["clusters"]
        return result

    def put_cluster(self, clstr_id: str, fields: JSON) -> JSON:
        """Create or replace a Korean cluster (values become strings; updtDt is now in KST unless given)."""
        result: JSON = self._call("PUT", f"/clusters/{_segment(clstr_id)}", fields)
        return result

    def edit_cluster(self, clstr_id: str, fields: JSON) -> JSON:
        result: JSON = self._call("PATCH", f"/clusters/{_segment(clstr_id)}", fields)
        return result

    def withdraw(self, clstr_id: str) -> JSON:
        """useAt = "N" and updtDt now, as the Korean site withdraws a cluster."""
        result: JSON = self._call("POST", f"/clusters/{_segment(clstr_id)}/withdraw")
        return result

    def delete_cluster(self, clstr_id: str) -> None:
        self._call("DELETE", f"/clusters/{_segment(clstr_id)}")

    def foreign(self) -> list[JSON]:
        result: list[JSON] = self._call("GET", "/foreign")["items"]
        return result

    def edit_foreign(self, extrl_id: str, fields: JSON) -> JSON:
        result: JSON = self._call("PATCH", f"/foreign/{_segment(extrl_id)}", fields)
        return result

    def delete_foreign(self, extrl_id: str) -> None:
        self._call("DELETE", f"/foreign/{_segment(extrl_id)}")

    def set_empty_listing(self, empty: bool = True) -> None:
        """KICOX: the read service answers every page with no items and totalCount 0."""
        self._call("POST", "/listing", {"empty": empty})

    def set_quota(self, daily_quota: int | None, *, reset_used: bool = True) -> JSON:
        result: JSON = self._call("POST", "/quota", {"daily_quota": daily_quota, "reset_used": reset_used})
        return result


# -- valid sample records --------------------------------------------------------------------------------


def eccp_attributes(**overrides: Any) -> JSON:
    """A valid native ECCP profile's attributes; keyword arguments replace or add attributes."""
    attributes: JSON = {
        "title": "Sample Cluster",
        "status": True,
        "langcode": "en",
        "field_description": {"value": "<p>A sample cluster.</p>", "format": "basic_html"},
        "field_website": {"uri": "https://cluster.example.eu", "title": "cluster.example.eu"},
        "field_country": "DE",
        "field_city": "Dresden",
        "field_year_established": 2001,
        "field_members_sme": 10,
        "field_ecosystems": ["Digital"],
        "field_sectors": ["Software"],
        "field_nace_codes": ["J62"],
        "field_esca_label": "silver",
        "field_origin": "eccp",
    }
    attributes.update(overrides)
    return attributes


def eccp_seed(*attributes: JSON, ids: list[str] | None = None) -> JSON:
    """An ECCP seed document from attribute sets (random uuids unless `ids` are given)."""
    uuids = ids or [str(uuidlib.uuid4()) for _ in attributes]
    return {"data": [{"id": u, "attributes": a} for u, a in zip(uuids, attributes, strict=True)]}


def kicox_cluster(clstr_id: str, **overrides: Any) -> JSON:
    """A live Korean cluster as the read service lists it (every value a string)."""
    cluster: JSON = {
        "clstrId": clstr_id,
        "clstrNm": "시험 미니클러스터",
        "clstrEngNm": "Test Mini-Cluster",
        "ctprvnNm": "경기도",
        "signguNm": "안산시",
        "indutyNm": "기계·장비",
        "ksicCd": "29172",
        "mberCo": "12",
        "smeCo": "10",
        "estblYear": "2010",
        "intrcn": "시험용 클러스터입니다.",
        "chargerOthbcAt": "N",
        "updtDt": "20261015093000",
        "useAt": "Y",
    }
    cluster.update({k: str(v) for k, v in overrides.items()})
    return cluster


def kicox_seed(*clusters: JSON, foreign: list[JSON] | None = None) -> JSON:
    return {"clusters": list(clusters), "foreign": list(foreign or [])}


def foreign_cluster(extrl_id: str, **overrides: Any) -> JSON:
    """A valid item of the KICOX ingest batch."""
    item: JSON = {
        "extrlId": extrl_id,
        "srcSysCd": "ECCP",
        "clstrEngNm": "Sample Cluster",
        "natnCd": "DE",
        "natnNm": "독일",
        "mberCo": 10,
        "intrcn": "<p>A sample cluster.</p>",
        "intrcnLang": "en",
        "qlityLblNm": "silver",
        "srcUpdtDt": "2026-10-15T09:30:00+00:00",
    }
    item.update(overrides)
    return item
