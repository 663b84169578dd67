"""Helpers of the simulator tests: the platform contracts as JSON Schema, constants, request builders."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from clusterbridge.testing import eccp_attributes, eccp_seed

MEDIA_TYPE = "application/vnd.api+json"
COLLECTION = "/jsonapi/node/cluster_organisation"
READ_PATH = "/openapi/service/ClusterInfoService/getClusterList"
CLIENT_ID, CLIENT_SECRET = "test-client", "test-secret"
SERVICE_KEY = "tk+ab/cd=="  # a data.go.kr-style key: '+', '/' and '='
API_KEY = "test-api-key"
START = 1_790_000_000  # 2026-09-21T12:53:20+00:00




def iso(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).isoformat()


def eccp_natives(count: int, *, first_changed: int = START - 1000, step: int = 1) -> dict[str, Any]:
    """`count` valid native profiles, the i-th changed at first_changed + i * step."""
    return eccp_seed(
        *(
            eccp_attributes(
                title=f"Cluster {i:03d}", changed=iso(first_changed + i * step), drupal_internal__nid=100 + i
            )
            for i in range(count)
        )
    )


def eccp_token(url: str) -> str:
    response = httpx.post(
        f"{url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        timeout=5,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def eccp_client(url: str) -> httpx.Client:
    """An ECCP client holding a fresh bearer token."""
    headers = {"Authorization": f"Bearer {eccp_token(url)}", "Accept": MEDIA_TYPE}
    return httpx.Client(base_url=url, headers=headers, timeout=5)


def mirror_document(external_id: str, **attributes: Any) -> dict[str, Any]:
    """A NewClusterDocument for a KICOX mirror."""
    attrs = eccp_attributes(
        title=f"Mirror {external_id}", field_country="KR", field_origin="kicox", field_external_id=external_id
    )
    attrs.update(attributes)
    return {"data": {"type": "node--cluster_organisation", "attributes": attrs}}


def jsonapi(client: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    """A JSON:API write with the right media type."""
    return client.request(method, path, content=json.dumps(body), headers={"Content-Type": MEDIA_TYPE})


def read_url(key: str | None = SERVICE_KEY, *, encode: int = 1, **params: Any) -> str:
    """The read service's path and query, with the service key URL-encoded `encode` times."""
    parts = []
    if key is not None:
        encoded = key
        for _ in range(encode):
            encoded = quote(encoded, safe="")
        parts.append(f"serviceKey={encoded}")
    if params:
        parts.append(urlencode(params))
    return f"{READ_PATH}?{'&'.join(parts)}"


def parse_xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own simulator's answer, on loopback


def gateway_code(content: bytes) -> str | None:
    """The returnReasonCode of a KICOX gateway error body, or None when the body is something else."""
    try:
        root = parse_xml(content)
    except ET.ParseError:
        return None
    return root.findtext("cmmMsgHeader/returnReasonCode") if root.tag == "OpenAPI_ServiceResponse" else None
