"""The admin API: what tests and the demo do to a platform from outside (edits on the site, withdrawals,
truncated listings, quotas), and the foreground `serve` the CLI runs."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from clusterbridge.simulators import EccpSimulator, KicoxSimulator
from clusterbridge.testing import AdminClient, FakeClock, eccp_attributes, eccp_seed, foreign_cluster, running
from tests.simulators.simulator_support import (
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    COLLECTION,
    START,
    eccp_client,
    iso,
    jsonapi,
    mirror_document,
    read_url,
)

SORTED = {"sort": "changed,drupal_internal__nid"}


def walk(client: httpx.Client, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Every resource reached by following links.next, and the count the first page claimed."""
    page = client.get(COLLECTION, params=params).json()
    count: int = page["meta"]["count"]
    records = list(page["data"])
    while "next" in page["links"]:
        page = client.get(page["links"]["next"]["href"]).json()
        records += page["data"]
    return records, count


class TestEccpAdmin:
    """Editors on ECCP: natives created and changed, mirrors tampered with, profiles unpublished or deleted."""

    @pytest.fixture
    def admin(self, eccp: EccpSimulator) -> Any:
        with AdminClient(eccp.url) as client:
            yield client

    def test_put_creates_a_native_the_api_lists(
        self, admin: AdminClient, eccp_http: httpx.Client, clock: FakeClock
    ) -> None:
        uuid = "5b0c6a39-8a43-4a0e-9b1f-3b8b4f0d6e11"
        created = admin.put_record(uuid, eccp_attributes(title="Planted"))
        assert created["attributes"]["field_origin"] == "eccp"
        assert created["attributes"]["changed"] == iso(int(clock()))
        listed = eccp_http.get(f"{COLLECTION}/{uuid}").json()["data"]
        assert listed["attributes"]["title"] == "Planted"
        replaced = admin.put_record(uuid, eccp_attributes(title="Replaced"))
        assert replaced["attributes"]["drupal_internal__nid"] == created["attributes"]["drupal_internal__nid"]

    def test_put_may_plant_an_invalid_record(self, admin: AdminClient, eccp_http: httpx.Client) -> None:
        # a record the connectors must quarantine: the platform holds it, the API lists it
        admin.put_record(None, {"title": "", "field_country": "Germany"})
        titles = [r["attributes"]["title"] for r in eccp_http.get(COLLECTION).json()["data"]]
        assert "" in titles

    def test_editing_a_mirror_bumps_changed(
        self, eccp: EccpSimulator, admin: AdminClient, eccp_http: httpx.Client, clock: FakeClock
    ) -> None:
        mirror = jsonapi(eccp_http, "POST", COLLECTION, mirror_document("KC-1")).json()["data"]
        clock.advance(30)
        edited = admin.edit_record(mirror["id"], {"title": "Tampered"})
        assert edited["attributes"]["title"] == "Tampered"
        assert edited["attributes"]["changed"] == iso(START + 30)
        assert eccp.record(mirror["id"]) == edited

    def test_unpublish_keeps_the_profile_listed(
        self, eccp: EccpSimulator, admin: AdminClient, eccp_http: httpx.Client, clock: FakeClock
    ) -> None:
        native = eccp.records()[0]
        clock.advance(5)
        admin.unpublish(native["id"])
        listed = eccp_http.get(f"{COLLECTION}/{native['id']}").json()["data"]["attributes"]
        assert listed["status"] is False
        assert listed["changed"] == iso(START + 5)

    def test_delete_makes_the_profile_disappear(
        self, eccp: EccpSimulator, admin: AdminClient, eccp_http: httpx.Client
    ) -> None:
        native = eccp.records()[0]
        admin.delete_record(native["id"])
        assert eccp_http.get(f"{COLLECTION}/{native['id']}").status_code == 404
        with pytest.raises(httpx.HTTPStatusError):
            admin.delete_record(native["id"])

    def test_expire_tokens_forces_a_new_token(self, admin: AdminClient, eccp_http: httpx.Client) -> None:
        assert eccp_http.get(COLLECTION).status_code == 200
        admin.expire_tokens()
        assert eccp_http.get(COLLECTION).status_code == 401

    def test_listing_switch_drops_pages_and_lies_about_the_count(self, clock: FakeClock) -> None:
        seed = eccp_seed(*(eccp_attributes(title=f"C{i}") for i in range(120)))
        sim = EccpSimulator(seed, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock)
        with running(sim), AdminClient(sim.url) as admin, eccp_client(sim.url) as client:
            state = admin.set_listing(drop_pages=[2], count_offset=5)
            assert (state["drop_pages"], state["count_offset"]) == ([2], 5)
            records, count = walk(client, SORTED)
            assert (len(records), count) == (70, 125)
            admin.set_listing()
            records, count = walk(client, SORTED)
            assert (len(records), count) == (120, 120)


    def test_raw_elements_open_the_listing_and_fill_its_pages(self, clock: FakeClock) -> None:
        seed = eccp_seed(*(eccp_attributes(title=f"C{i}") for i in range(60)))
        sim = EccpSimulator(seed, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock)
        extra: list[Any] = ["oops", None, 42, [1], {"id": "no-attributes"}]
        with running(sim), eccp_client(sim.url) as client:
            httpx.post(f"{sim.url}/_admin/listing", json={"extra": extra}, timeout=5).raise_for_status()
            first = client.get(COLLECTION, params=SORTED).json()
            assert first["data"][:4] == extra[:4]
            assert first["data"][4]["id"] == "no-attributes"
            assert (len(first["data"]), first["meta"]["count"]) == (50, 65)
            records, _count = walk(client, SORTED)
            assert len(records) == 65
            assert sum(isinstance(r, dict) and "attributes" in r for r in records) == 60
            # a listing bounded by `changed` holds only records: the elements have no time to be bounded by
            bounded = {**SORTED, "filter[c][condition][path]": "changed",
                       "filter[c][condition][operator]": ">=", "filter[c][condition][value]": "0"}
            records, count = walk(client, bounded)
            assert (len(records), count) == (60, 60)


class TestLoneSurrogates:
    """A lone surrogate a platform holds (planted through /_admin) goes out as a JSON escape, never as a
    failed answer: "\\ud800" is valid JSON, though never valid UTF-8."""

    def plant(self, url: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.request("PUT", f"{url}/_admin{path}", content=json.dumps(body).encode("ascii"),
                             headers={"Content-Type": "application/json"}, timeout=5)

    def test_eccp_lists_and_shows_it_escaped(self, eccp: EccpSimulator, eccp_http: httpx.Client) -> None:
        planted = self.plant(eccp.url, "/records/lone", {"attributes": eccp_attributes(title="A\ud800B")})
        assert planted.status_code == 201
        assert planted.json()["data"]["attributes"]["title"] == "A\ud800B"
        listed = eccp_http.get(COLLECTION)
        assert listed.status_code == 200
        assert b"A\\ud800B" in listed.content
        assert {r["attributes"]["title"] for r in listed.json()["data"]} >= {"A\ud800B"}

    def test_kicox_lists_it_escaped(self, kicox: KicoxSimulator, kicox_http: httpx.Client) -> None:
        planted = self.plant(kicox.url, "/clusters/KC-LONE", {"clstrNm": "부산\udc00"})
        assert planted.status_code == 200
        listed = kicox_http.get(read_url(type="json"))
        assert listed.status_code == 200
        items = listed.json()["response"]["body"]["items"]["item"]
        assert {i["clstrNm"] for i in items if i["clstrId"] == "KC-LONE"} == {"부산\udc00"}


class TestKicoxAdmin:
    """Editors on KICOX: clusters planted, edited and withdrawn; mirrors tampered with; listings emptied."""

    @pytest.fixture
    def admin(self, kicox: KicoxSimulator) -> Any:
        with AdminClient(kicox.url) as client:
            yield client

    def listed(self, client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
        items = client.get(read_url(type="json", **params)).json()["response"]["body"]["items"]
        if items == "":
            return []
        item = items["item"]
        return item if isinstance(item, list) else [item]

    def test_put_and_edit_stamp_updtdt_in_kst(
        self, admin: AdminClient, kicox_http: httpx.Client, clock: FakeClock
    ) -> None:
        clock.set(datetime(2026, 10, 20, 1, 0, tzinfo=UTC).timestamp())  # 10:00 KST
        planted = admin.put_cluster("KC-000009", {"clstrNm": "새 클러스터", "mberCo": 40})
        assert planted["mberCo"] == "40"
        assert planted["updtDt"] == "20261020100000"
        clock.advance(90)
        edited = admin.edit_cluster("KC-000009", {"clstrEngNm": "New Cluster"})
        assert edited["updtDt"] == "20261020100130"
        assert edited["clstrNm"] == "새 클러스터"
        since = self.listed(kicox_http, modDtFrom="20261020100130")
        assert [c["clstrId"] for c in since] == ["KC-000009"]

    def test_withdraw_keeps_the_row_with_use_at_n(
        self, admin: AdminClient, kicox_http: httpx.Client, clock: FakeClock
    ) -> None:
        clock.set(datetime(2026, 10, 20, 1, 0, tzinfo=UTC).timestamp())
        admin.withdraw("KC-000001")
        rows = {c["clstrId"]: c for c in self.listed(kicox_http)}
        assert rows["KC-000001"]["useAt"] == "N"
        assert rows["KC-000001"]["updtDt"] == "20261020100000"
        assert len(rows) == 3

    def test_delete_cluster(self, admin: AdminClient, kicox: KicoxSimulator) -> None:
        admin.delete_cluster("KC-000001")
        assert [c["clstrId"] for c in admin.clusters()] == ["KC-000002", "KC-000003"]
        assert admin.clusters() == kicox.clusters()

    def test_mirrors_can_be_tampered_with_and_deleted(
        self, admin: AdminClient, kicox: KicoxSimulator, kicox_http: httpx.Client
    ) -> None:
        items = [foreign_cluster("eccp:1"), foreign_cluster("eccp:2")]
        kicox_http.post("/api/v1/foreign-clusters/batch", json={"items": items}, headers={"X-API-Key": API_KEY})
        tampered = admin.edit_foreign("eccp:1", {"clstrEngNm": "Vandalised"})
        assert tampered["clstrEngNm"] == "Vandalised"
        assert tampered["frgnClstrId"] == "FC-000001"
        admin.delete_foreign("eccp:2")
        assert [f["extrlId"] for f in admin.foreign()] == ["eccp:1"]
        assert admin.foreign() == kicox.foreign()
        # the next upsert of the true record repairs the tampering
        again = kicox_http.post(
            "/api/v1/foreign-clusters/batch", json={"items": items[:1]}, headers={"X-API-Key": API_KEY}
        )
        assert again.json()["results"][0]["status"] == "updated"

    def test_empty_listing_switch(self, admin: AdminClient, kicox_http: httpx.Client) -> None:
        admin.set_empty_listing()
        body = kicox_http.get(read_url(type="json")).json()["response"]["body"]
        assert (body["items"], body["totalCount"]) == ("", "0")
        admin.set_empty_listing(False)
        assert len(self.listed(kicox_http)) == 3

    def test_quota_over_the_admin_api(self, admin: AdminClient, kicox_http: httpx.Client) -> None:
        assert admin.set_quota(1) == {"daily_quota": 1, "used": 0}
        assert kicox_http.get(read_url()).text.count("<returnReasonCode>") == 0
        assert "<returnReasonCode>22</returnReasonCode>" in kicox_http.get(read_url()).text
        assert admin.set_quota(None) == {"daily_quota": None, "used": 0}
        assert "<returnReasonCode>" not in kicox_http.get(read_url()).text


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["eccp", "kicox"])
def test_serve_runs_in_the_foreground_until_sigterm(platform: str) -> None:
    code = f"from clusterbridge.simulators import serve; serve({platform!r}, 0, None, 'latency=0')"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, first
        with AdminClient(match.group(0)) as admin:
            assert admin.stats()["requests"] == 0
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "stopped" in out
