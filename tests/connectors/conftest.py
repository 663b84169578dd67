"""Fixtures for the connector tests: settings with fixed test credentials, fast retry overrides, a respx router
behind an injected transport, and small fakes of the two listings that page like the real services."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from pydantic import SecretStr

from clusterbridge.config import Settings
from clusterbridge.connectors.eccp import EccpConnector
from clusterbridge.connectors.kicox import KicoxConnector
from clusterbridge.connectors.kicox.models import KST
from tests.connectors.support import create_eccp, create_kicox

ECCP_URL = "http://eccp.test"
KICOX_URL = "http://kicox.test"
CLIENT_ID = "demo-client"
CLIENT_SECRET = "demo-secret"
# a data.go.kr-style key: base64 with '+', '/' and '='
SERVICE_KEY = "ab+cd/ef=="
API_KEY = "partner-api-key"

# small waits and budgets keep the suite fast; the behaviour under test is the same
FAST: dict[str, Any] = {
    "backoff_initial": 0.001,
    "backoff_max": 0.01,
    "max_attempts": 4,
    "max_retry_seconds": 10,
    "rate_limit": 1000,
    "timeout": 2,
    "connect_timeout": 1,
}


def make_settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "eccp_base_url": ECCP_URL,
        "eccp_client_id": CLIENT_ID,
        "eccp_client_secret": SecretStr(CLIENT_SECRET),
        "kicox_base_url": KICOX_URL,
        "kicox_service_key": SecretStr(SERVICE_KEY),
        "kicox_api_key": SecretStr(API_KEY),
        "config_dir": None,
    }
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def transport(router: respx.MockRouter) -> httpx.MockTransport:
    return httpx.MockTransport(router.handler)


@pytest.fixture
def eccp(settings: Settings, transport: httpx.MockTransport) -> Iterator[EccpConnector]:
    connector = create_eccp(settings, transport=transport, **FAST)
    yield connector
    connector.close()


@pytest.fixture
def kicox(settings: Settings, transport: httpx.MockTransport) -> Iterator[KicoxConnector]:
    connector = create_kicox(settings, transport=transport, **FAST)
    yield connector
    connector.close()


@pytest.fixture
def token_route(router: respx.MockRouter) -> respx.Route:
    return router.post(f"{ECCP_URL}/oauth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "tok-1", "token_type": "Bearer", "expires_in": 300})
    )


def iso(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).isoformat()


def eccp_resource(uid: str, changed: int, nid: int, origin: str = "eccp", **attributes: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "drupal_internal__nid": nid,
        "title": f"Cluster {uid}",
        "changed": iso(changed),
        "field_country": "DE",
        "field_origin": origin,
    }
    attrs.update(attributes)
    return {"type": "node--cluster_organisation", "id": uid, "attributes": attrs}


class FakeDrupal:
    """The JSON:API listing as Drupal serves it: filters, sort by changed then nid, offset paging with
    links.next, meta.count. `after_page` runs after each page is served: how a test edits a record mid-listing."""

    def __init__(self, records: list[dict[str, Any]], limit_cap: int = 50) -> None:
        self.records = {r["id"]: r for r in records}
        self.limit_cap = limit_cap
        self.pages_served = 0
        self.after_page: Callable[[FakeDrupal], None] | None = None
        self.queries: list[dict[str, str]] = []

    def edit(self, uid: str, changed: int) -> None:
        self.records[uid]["attributes"]["changed"] = iso(changed)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(parse_qsl(request.url.query.decode()))
        self.queries.append(params)
        rows = list(self.records.values())
        origin = params.get("filter[field_origin]")
        if origin is not None:
            rows = [r for r in rows if r["attributes"]["field_origin"] == origin]
        external = params.get("filter[field_external_id]")
        if external is not None:
            rows = [r for r in rows if r["attributes"].get("field_external_id") == external]
        if "filter[changed][condition][value]" in params:
            assert params["filter[changed][condition][path]"] == "changed"
            assert params["filter[changed][condition][operator]"] == ">="
            floor = int(params["filter[changed][condition][value]"])
            rows = [r for r in rows if datetime.fromisoformat(r["attributes"]["changed"]).timestamp() >= floor]
        assert params.get("sort") == "changed,drupal_internal__nid"
        rows.sort(key=lambda r: (r["attributes"]["changed"], r["attributes"]["drupal_internal__nid"]))
        offset = int(params.get("page[offset]", "0"))
        limit = min(int(params.get("page[limit]", "50")), self.limit_cap)
        page = rows[offset : offset + limit]
        links: dict[str, Any] = {"self": {"href": str(request.url)}}
        if offset + limit < len(rows):
            nxt = request.url.copy_merge_params({"page[offset]": str(offset + limit)})
            links["next"] = {"href": str(nxt)}
        body = {"data": json.loads(json.dumps(page)), "links": links, "meta": {"count": len(rows)}}
        self.pages_served += 1
        if self.after_page is not None:
            self.after_page(self)
        return httpx.Response(200, json=body, headers={"Content-Type": "application/vnd.api+json"})


def kst(second: int) -> str:
    return datetime.fromtimestamp(second, KST).strftime("%Y%m%d%H%M%S")


def kicox_item(cid: str, second: int, **fields: str) -> dict[str, str]:
    item = {"clstrId": cid, "clstrNm": f"클러스터 {cid}", "updtDt": kst(second), "useAt": "Y", "mberCo": "12"}
    item.update(fields)
    return item


def envelope(items: Any, total: int, page_no: int = 1, rows: int = 10, code: str = "00") -> dict[str, Any]:
    return {
        "response": {
            "header": {"resultCode": code, "resultMsg": "NORMAL SERVICE."},
            "body": {"items": items, "numOfRows": str(rows), "pageNo": str(page_no), "totalCount": str(total)},
        }
    }


class FakeOpenData:
    """The KICOX read service as it pages: modDtFrom (KST, inclusive), order by updtDt then clstrId,
    pageNo/numOfRows, string values, the single-object and empty-items habits."""

    def __init__(self, items: list[dict[str, str]]) -> None:
        self.items = {i["clstrId"]: i for i in items}
        self.after_page: Callable[[FakeOpenData], None] | None = None
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(parse_qsl(request.url.query.decode()))
        self.queries.append(params)
        rows = sorted(self.items.values(), key=lambda i: (i["updtDt"], i["clstrId"]))
        if "modDtFrom" in params:
            rows = [r for r in rows if r["updtDt"] >= params["modDtFrom"]]
        size = int(params["numOfRows"])
        page_no = int(params["pageNo"])
        page = [dict(r) for r in rows[(page_no - 1) * size : page_no * size]]
        items: Any = "" if not page else {"item": page[0] if len(page) == 1 else page}
        body = envelope(items, len(rows), page_no, size)
        if self.after_page is not None:
            self.after_page(self)
        return httpx.Response(200, json=body)
