"""The ECCP simulator keeps the contract and the habits of contracts/eccp.openapi.yaml."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import httpx
import pytest

from clusterbridge.simulators import EccpSimulator
from clusterbridge.testing import FakeClock, eccp_attributes, eccp_seed, running
from tests.contracts import validate
from tests.simulators.simulator_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    COLLECTION,
    MEDIA_TYPE,
    START,
    eccp_client,
    eccp_natives,
    iso,
    jsonapi,
    mirror_document,
)

ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def walk(client: httpx.Client, params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow links.next from the first page: (every resource, every page document)."""
    pages = [client.get(COLLECTION, params=params).json()]
    while "next" in pages[-1]["links"]:
        pages.append(client.get(pages[-1]["links"]["next"]["href"]).json())
    return [r for page in pages for r in page["data"]], pages


class TestToken:
    """OAuth2 client credentials: tokens are issued to the right client only, and expire."""

    def test_token_has_the_contract_shape(self, eccp: EccpSimulator) -> None:
        response = httpx.post(
            f"{eccp.url}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 300
        assert body["access_token"]

    def test_wrong_secret_is_401(self, eccp: EccpSimulator) -> None:
        response = httpx.post(
            f"{eccp.url}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "nope"},
        )
        assert response.status_code == 401

    def test_basic_auth_client_credentials_are_accepted(self, eccp: EccpSimulator) -> None:
        response = httpx.post(
            f"{eccp.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
        )
        assert response.status_code == 200

    def test_jsonapi_without_bearer_is_401_with_errors(self, eccp: EccpSimulator) -> None:
        response = httpx.get(f"{eccp.url}{COLLECTION}")
        assert response.status_code == 401
        assert response.headers["content-type"] == MEDIA_TYPE
        validate("eccp", "Errors", response.json())

    def test_token_expires_after_its_ttl(self, eccp: EccpSimulator, clock: FakeClock) -> None:
        with eccp_client(eccp.url) as client:
            assert client.get(COLLECTION).status_code == 200
            clock.advance(299)
            assert client.get(COLLECTION).status_code == 200
            clock.advance(1)
            expired = client.get(COLLECTION)
        assert expired.status_code == 401
        validate("eccp", "Errors", expired.json())
        with eccp_client(eccp.url) as fresh:
            assert fresh.get(COLLECTION).status_code == 200

    def test_token_ttl_is_configurable(self, clock: FakeClock) -> None:
        sim = EccpSimulator(
            seed={"data": []}, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_ttl=5, clock=clock
        )
        with running(sim), eccp_client(sim.url) as client:
            clock.advance(5)
            assert client.get(COLLECTION).status_code == 401


class TestListing:
    """Offset paging capped at 50 with links.next, sort by changed then nid, and the filters of the contract."""

    @pytest.fixture
    def many(self, clock: FakeClock) -> Any:
        # 120 natives, three to a second: `changed` is shared, the nid breaks the tie
        seed = eccp_seed(
            *(
                eccp_attributes(title=f"C{i:03d}", changed=iso(START - 100 + i // 3), drupal_internal__nid=1000 - i)
                for i in range(120)
            )
        )
        sim = EccpSimulator(seed=seed, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock)
        with running(sim), eccp_client(sim.url) as client:
            yield sim, client

    def test_page_limit_is_capped_at_50_and_the_walk_returns_every_record_once(self, many: Any) -> None:
        sim, client = many
        records, pages = walk(client, {"sort": "changed,drupal_internal__nid", "page[limit]": 200})
        assert [len(p["data"]) for p in pages] == [50, 50, 20]
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)) == 120
        assert set(ids) == {r["id"] for r in sim.records()}
        assert all(p["meta"]["count"] == 120 for p in pages)
        for page in pages:
            validate("eccp", "ClusterList", page)
        assert pages[0]["links"]["next"]["href"].startswith(sim.url)
        assert "next" not in pages[-1]["links"]

    def test_default_limit_is_50(self, many: Any) -> None:
        _, client = many
        assert len(client.get(COLLECTION).json()["data"]) == 50

    def test_sorted_by_changed_then_nid(self, many: Any) -> None:
        _, client = many
        records, _ = walk(client, {"sort": "changed,drupal_internal__nid"})
        keys = [(r["attributes"]["changed"], r["attributes"]["drupal_internal__nid"]) for r in records]
        assert keys == sorted(keys)
        assert len({r["attributes"]["changed"] for r in records}) == 40  # seconds are shared

    def test_changed_filter_is_unix_seconds_with_operator(self, many: Any) -> None:
        _, client = many
        base = {
            "sort": "changed,drupal_internal__nid",
            "filter[changed][condition][path]": "changed",
            "filter[changed][condition][value]": str(START - 100 + 30),
        }
        at_least, _ = walk(client, {**base, "filter[changed][condition][operator]": ">="})
        after, _ = walk(client, {**base, "filter[changed][condition][operator]": ">"})
        assert len(at_least) == 120 - 90
        assert len(after) == 120 - 93
        assert min(r["attributes"]["changed"] for r in at_least) == iso(START - 70)

    def test_unknown_sort_and_bad_filter_are_400(self, many: Any) -> None:
        _, client = many
        assert client.get(COLLECTION, params={"sort": "field_city"}).status_code == 400
        bad_value = {
            "filter[changed][condition][path]": "changed",
            "filter[changed][condition][operator]": ">=",
            "filter[changed][condition][value]": "yesterday",
        }
        response = client.get(COLLECTION, params=bad_value)
        assert response.status_code == 400
        validate("eccp", "Errors", response.json())

    def test_origin_and_external_id_filters(self, eccp: EccpSimulator, eccp_http: httpx.Client) -> None:
        for external_id in ("KC-1", "KC-2"):
            assert jsonapi(eccp_http, "POST", COLLECTION, mirror_document(external_id)).status_code == 201
        mirrors = eccp_http.get(COLLECTION, params={"filter[field_origin]": "kicox"}).json()
        natives = eccp_http.get(COLLECTION, params={"filter[field_origin]": "eccp"}).json()
        one = eccp_http.get(COLLECTION, params={"filter[field_external_id]": "KC-2"}).json()
        assert {r["attributes"]["field_external_id"] for r in mirrors["data"]} == {"KC-1", "KC-2"}
        assert mirrors["meta"]["count"] == 2
        assert len(natives["data"]) == 3
        assert [r["attributes"]["field_external_id"] for r in one["data"]] == ["KC-2"]

    def test_unpublished_profiles_are_still_listed(self, clock: FakeClock) -> None:
        seed = eccp_seed(eccp_attributes(title="Hidden", status=False), eccp_attributes(title="Shown"))
        sim = EccpSimulator(seed=seed, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock)
        with running(sim), eccp_client(sim.url) as client:
            listed = client.get(COLLECTION).json()["data"]
        assert {(r["attributes"]["title"], r["attributes"]["status"]) for r in listed} == {
            ("Hidden", False),
            ("Shown", True),
        }

    def test_timestamps_are_iso_seconds_with_offset(self, eccp_http: httpx.Client) -> None:
        document = eccp_http.get(COLLECTION).json()
        assert document["data"]
        for resource in document["data"]:
            assert ISO_SECONDS.match(resource["attributes"]["changed"])
            assert ISO_SECONDS.match(resource["attributes"]["created"])

    def test_one_profile_and_404(self, eccp: EccpSimulator, eccp_http: httpx.Client) -> None:
        uuid = eccp.records()[0]["id"]
        found = eccp_http.get(f"{COLLECTION}/{uuid}")
        assert found.status_code == 200
        assert found.headers["content-type"] == MEDIA_TYPE
        validate("eccp", "ClusterDocument", found.json())
        assert eccp_http.get(f"{COLLECTION}/00000000-0000-4000-8000-000000000000").status_code == 404


class TestWrites:
    """Partners write only their own mirrors; duplicates, bad attributes and media types are refused."""

    def test_create_assigns_id_nid_and_timestamps(self, eccp_http: httpx.Client, clock: FakeClock) -> None:
        first = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1"))
        second = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-2"))
        assert first.status_code == second.status_code == 201
        validate("eccp", "ClusterDocument", first.json())
        a, b = first.json()["data"], second.json()["data"]
        assert a["id"] != b["id"]
        assert b["attributes"]["drupal_internal__nid"] > a["attributes"]["drupal_internal__nid"]
        assert a["attributes"]["changed"] == a["attributes"]["created"] == iso(int(clock()))
        assert first.headers["location"].endswith(a["id"])

    def test_create_with_a_native_origin_is_403(self, eccp_http: httpx.Client) -> None:
        response = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1", field_origin="eccp"))
        assert response.status_code == 403
        validate("eccp", "Errors", response.json())

    def test_duplicate_mirror_is_409_naming_the_existing_one(self, eccp_http: httpx.Client) -> None:
        created = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1")).json()["data"]
        again = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1", title="Again"))
        assert again.status_code == 409
        assert again.json()["errors"][0]["meta"]["id"] == created["id"]
        validate("eccp", "Errors", again.json())

    @pytest.mark.parametrize(
        ("attributes", "pointer"),
        [
            ({"field_country": "Korea"}, "/data/attributes/field_country"),
            ({"field_country": "kr"}, "/data/attributes/field_country"),
            ({"title": ""}, "/data/attributes/title"),
            ({"title": "x" * 256}, "/data/attributes/title"),
            ({"field_members_sme": -1}, "/data/attributes/field_members_sme"),
            ({"field_members_large": "12"}, "/data/attributes/field_members_large"),
            ({"field_esca_label": "platinum"}, "/data/attributes/field_esca_label"),
            ({"field_year_established": 1850}, "/data/attributes/field_year_established"),
            ({"field_website": {"uri": "javascript:alert(1)"}}, "/data/attributes/field_website/uri"),
            ({"field_favourite_colour": "blue"}, "/data/attributes/field_favourite_colour"),
            ({"changed": "2026-01-01T00:00:00+00:00"}, "/data/attributes/changed"),
        ],
    )
    def test_invalid_attributes_are_422_with_a_pointer(
        self, eccp_http: httpx.Client, attributes: dict[str, Any], pointer: str
    ) -> None:
        response = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1", **attributes))
        assert response.status_code == 422
        body = response.json()
        validate("eccp", "Errors", body)
        assert [e["source"]["pointer"] for e in body["errors"]] == [pointer]

    def test_missing_required_attributes_are_all_named(self, eccp_http: httpx.Client) -> None:
        body = {"data": {"type": "node--cluster_organisation", "attributes": {"field_origin": "kicox"}}}
        response = jsonapi(eccp_http, "POST", COLLECTION, body)
        assert response.status_code == 422
        pointers = {e["source"]["pointer"] for e in response.json()["errors"]}
        assert pointers == {"/data/attributes/title", "/data/attributes/field_country"}

    def test_greece_as_el_is_accepted(self, eccp_http: httpx.Client) -> None:
        assert jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1", field_country="EL")).status_code == 201

    def test_wrong_media_type_is_415(self, eccp_http: httpx.Client) -> None:
        response = eccp_http.post(COLLECTION, json=mirror_document("KC-1"))  # application/json
        assert response.status_code == 415
        assert eccp_http.get(COLLECTION, params={"filter[field_origin]": "kicox"}).json()["data"] == []

    def test_patch_advances_changed_and_keeps_other_attributes(self, eccp_http: httpx.Client, clock: FakeClock) -> None:
        created = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1")).json()["data"]
        clock.advance(7)
        patch = {"data": {"type": "node--cluster_organisation", "id": created["id"], "attributes": {"title": "New"}}}
        response = jsonapi(eccp_http, "PATCH", f"{COLLECTION}/{created['id']}", patch)
        assert response.status_code == 200
        validate("eccp", "ClusterDocument", response.json())
        updated = response.json()["data"]["attributes"]
        assert updated["title"] == "New"
        assert updated["field_external_id"] == "KC-1"
        assert updated["changed"] == iso(int(clock()))
        assert updated["created"] == created["attributes"]["created"]

    def test_writes_in_one_second_share_changed(self, eccp_http: httpx.Client) -> None:
        a = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1")).json()["data"]
        b = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-2")).json()["data"]
        assert a["attributes"]["changed"] == b["attributes"]["changed"]

    def test_patch_and_delete_of_a_native_are_403(self, eccp: EccpSimulator, eccp_http: httpx.Client) -> None:
        native = eccp.records()[0]
        patch = {"data": {"type": "node--cluster_organisation", "id": native["id"], "attributes": {"title": "Mine"}}}
        assert jsonapi(eccp_http, "PATCH", f"{COLLECTION}/{native['id']}", patch).status_code == 403
        assert eccp_http.delete(f"{COLLECTION}/{native['id']}").status_code == 403
        assert eccp.record(native["id"]) == native

    def test_patch_cannot_turn_a_mirror_into_a_native(self, eccp_http: httpx.Client) -> None:
        created = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1")).json()["data"]
        patch = {
            "data": {"type": "node--cluster_organisation", "id": created["id"], "attributes": {"field_origin": "eccp"}}
        }
        assert jsonapi(eccp_http, "PATCH", f"{COLLECTION}/{created['id']}", patch).status_code == 403

    def test_patch_with_bad_attributes_is_422_and_changes_nothing(
        self, eccp: EccpSimulator, eccp_http: httpx.Client
    ) -> None:
        created = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1")).json()["data"]
        patch = {
            "data": {
                "type": "node--cluster_organisation",
                "id": created["id"],
                "attributes": {"title": "Fine", "field_members_sme": -3},
            }
        }
        response = jsonapi(eccp_http, "PATCH", f"{COLLECTION}/{created['id']}", patch)
        assert response.status_code == 422
        assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/field_members_sme"
        assert eccp.record(created["id"]) == {k: v for k, v in created.items() if k != "links"}

    def test_delete_then_patch_or_delete_again_is_404(self, eccp_http: httpx.Client) -> None:
        created = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1")).json()["data"]
        path = f"{COLLECTION}/{created['id']}"
        assert eccp_http.delete(path).status_code == 204
        assert eccp_http.delete(path).status_code == 404
        patch = {"data": {"type": "node--cluster_organisation", "id": created["id"], "attributes": {"title": "x"}}}
        assert jsonapi(eccp_http, "PATCH", path, patch).status_code == 404
        # the record simply disappears: no tombstone in the listing
        assert eccp_http.get(COLLECTION, params={"filter[field_origin]": "kicox"}).json()["meta"]["count"] == 0

    def test_records_in_process_include_mirrors(self, eccp: EccpSimulator, eccp_http: httpx.Client) -> None:
        jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1"))
        origins = sorted(r["attributes"]["field_origin"] for r in eccp.records())
        assert origins == ["eccp", "eccp", "eccp", "kicox"]


class TestSeed:
    """Seeds keep their ids, nids and changed; without a seed the shipped sample data is loaded."""

    def test_seed_keeps_nid_and_changed(self, clock: FakeClock) -> None:
        sim = EccpSimulator(seed=eccp_natives(2, first_changed=START - 50), clock=clock)
        records = sim.records()
        assert [r["attributes"]["drupal_internal__nid"] for r in records] == [100, 101]
        assert [r["attributes"]["changed"] for r in records] == [iso(START - 50), iso(START - 49)]

    def test_default_seed_is_the_shipped_sample_data(self) -> None:
        source = resources.files("clusterbridge.simulators").joinpath("data", "eccp.json")
        expected = len(json.loads(source.read_text(encoding="utf-8"))["data"]) if source.is_file() else 0
        assert len(EccpSimulator().records()) == expected
