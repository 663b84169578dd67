"""The KICOX simulator keeps the contract and the habits of contracts/kicox.openapi.yaml."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from clusterbridge.simulators import KicoxSimulator
from clusterbridge.testing import FakeClock, foreign_cluster, kicox_cluster, kicox_seed, running
from tests.contracts import validate
from tests.simulators import simulator_support as support
from tests.simulators.simulator_support import API_KEY, SERVICE_KEY, parse_xml, read_url

FOREIGN = "/api/v1/foreign-clusters"


def gateway_code(response: httpx.Response) -> str | None:
    """The returnReasonCode of a gateway error (HTTP 200, XML), or None for anything else."""
    return support.gateway_code(response.content) if response.status_code == 200 else None


def body(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    assert document["response"]["header"] == {"resultCode": "00", "resultMsg": "NORMAL SERVICE."}
    result: dict[str, Any] = document["response"]["body"]
    return result


def many(count: int, clock: FakeClock, **options: Any) -> KicoxSimulator:
    clusters = [kicox_cluster(f"KC-{i:06d}", updtDt=f"2026101509{i // 60:02d}{i % 60:02d}") for i in range(count)]
    return KicoxSimulator(kicox_seed(*clusters), service_key=SERVICE_KEY, api_key=API_KEY, clock=clock, **options)


class TestServiceKey:
    """The key must be URL-encoded exactly once; anything else is the gateway's code 30, in HTTP 200 XML."""

    def test_key_encoded_once_is_served(self, kicox_http: httpx.Client) -> None:
        response = kicox_http.get(read_url(type="json"))
        assert gateway_code(response) is None
        assert body(response)["totalCount"] == "3"

    @pytest.mark.parametrize(
        "url",
        [
            read_url(encode=0, type="json"),  # '+' arrives as a space
            read_url(encode=2, type="json"),  # '%2B' is left after one decoding
            read_url(None, type="json"),
            read_url("someone-elses-key", type="json"),
        ],
        ids=["unencoded", "double-encoded", "missing", "unknown"],
    )
    def test_other_keys_are_code_30_in_xml(self, kicox_http: httpx.Client, url: str) -> None:
        response = kicox_http.get(url)
        assert response.status_code == 200
        assert gateway_code(response) == "30"
        assert "SERVICE_KEY_IS_NOT_REGISTERED_ERROR" in response.text


class TestEnvelope:
    """data.go.kr's envelope: strings everywhere, item as list / object / "" by count, XML unless type=json."""

    def test_several_items_are_a_list_of_all_string_values(self, kicox_http: httpx.Client) -> None:
        result = body(kicox_http.get(read_url(type="json")))
        items = result["items"]["item"]
        assert isinstance(items, list)
        assert len(items) == 3
        assert all(isinstance(v, str) for item in items for v in item.values())
        assert (result["numOfRows"], result["pageNo"], result["totalCount"]) == ("10", "1", "3")
        for item in items:
            validate("kicox", "KoreanCluster", item)

    def test_exactly_one_item_is_an_object(self, kicox_http: httpx.Client) -> None:
        result = body(kicox_http.get(read_url(type="json", numOfRows=2, pageNo=2)))
        assert isinstance(result["items"]["item"], dict)
        assert result["items"]["item"]["clstrId"] == "KC-000003"

    def test_no_items_is_the_empty_string(self, kicox_http: httpx.Client) -> None:
        result = body(kicox_http.get(read_url(type="json", pageNo=9)))
        assert result["items"] == ""
        assert result["totalCount"] == "3"

    def test_integer_counts_validate_against_the_contract_envelope(self, clock: FakeClock) -> None:
        with running(many(2, clock, string_counts=False)) as sim:
            for params in ({"numOfRows": 5}, {"numOfRows": 1}, {"pageNo": 3}):
                document = httpx.get(f"{sim.url}{read_url(type='json', **params)}").json()
                validate("kicox", "Envelope", document)

    def test_without_type_json_the_answer_is_xml(self, kicox_http: httpx.Client) -> None:
        response = kicox_http.get(read_url(numOfRows=2))
        assert response.headers["content-type"].startswith("application/xml")
        root = parse_xml(response.content)
        assert root.tag == "response"
        assert root.findtext("header/resultCode") == "00"
        assert [i.findtext("clstrId") for i in root.iterfind("body/items/item")] == ["KC-000002", "KC-000001"]
        assert root.findtext("body/totalCount") == "3"
        assert root.findtext("body/numOfRows") == "2"

    def test_ordered_by_updtdt_then_clstrid_with_withdrawn_listed(self, kicox_http: httpx.Client) -> None:
        items = body(kicox_http.get(read_url(type="json")))["items"]["item"]
        assert [(i["clstrId"], i["useAt"]) for i in items] == [
            ("KC-000002", "N"),
            ("KC-000001", "Y"),
            ("KC-000003", "Y"),
        ]

    def test_mod_dt_from_is_kst_and_inclusive(self, kicox_http: httpx.Client) -> None:
        inclusive = body(kicox_http.get(read_url(type="json", modDtFrom="20261015093000")))
        later = body(kicox_http.get(read_url(type="json", modDtFrom="20261015093001")))
        assert inclusive["totalCount"] == "2"
        assert later["items"] == ""

    def test_num_of_rows_is_capped_at_1000(self, clock: FakeClock) -> None:
        with running(many(1005, clock)) as sim:
            result = body(httpx.get(f"{sim.url}{read_url(type='json', numOfRows=5000)}"))
        assert result["numOfRows"] == "1000"
        assert len(result["items"]["item"]) == 1000
        assert result["totalCount"] == "1005"

    @pytest.mark.parametrize(
        "params",
        [{"numOfRows": "ten"}, {"numOfRows": 0}, {"pageNo": 0}, {"pageNo": "x"}, {"modDtFrom": "2026-10-15"}],
    )
    def test_bad_paging_or_date_is_code_10(self, kicox_http: httpx.Client, params: dict[str, Any]) -> None:
        assert gateway_code(kicox_http.get(read_url(type="json", **params))) == "10"

    def test_unknown_operation_is_code_12(self, kicox_http: httpx.Client) -> None:
        path = read_url(type="json").replace("getClusterList", "getSomethingElse")
        assert gateway_code(kicox_http.get(path)) == "12"


class TestQuota:
    """The daily quota: code 22 once spent, counting every read call; renewed at midnight KST."""

    def test_quota_is_code_22_once_spent_and_renews_at_midnight_kst(self, clock: FakeClock) -> None:
        # 2026-10-15 23:59:00 KST
        clock.set(datetime(2026, 10, 15, 14, 59, tzinfo=UTC).timestamp())
        sim = KicoxSimulator(kicox_seed(kicox_cluster("KC-1")), service_key=SERVICE_KEY, daily_quota=3, clock=clock)
        with running(sim), httpx.Client(base_url=sim.url) as client:
            codes = [gateway_code(client.get(read_url(type="json", numOfRows=n))) for n in (1, 2, 3, 4)]
            assert codes == [None, None, None, "22"]
            assert gateway_code(client.get(read_url(type="json"))) == "22"  # retrying makes it no better
            clock.advance(60)  # midnight KST
            assert gateway_code(client.get(read_url(type="json"))) is None

    def test_quota_fault_key_sets_the_quota(self, clock: FakeClock) -> None:
        from clusterbridge.simulators import FaultSpec

        sim = KicoxSimulator(kicox_seed(), FaultSpec.parse("quota=1"), service_key=SERVICE_KEY, clock=clock)
        with running(sim), httpx.Client(base_url=sim.url) as client:
            assert gateway_code(client.get(read_url())) is None
            assert gateway_code(client.get(read_url())) == "22"


class TestIngest:
    """The partner ingest API: X-API-Key, batches of 1..100 answered item by item, upsert by extrlId."""

    @pytest.fixture
    def ingest(self, kicox: KicoxSimulator) -> Any:
        with httpx.Client(base_url=kicox.url, headers={"X-API-Key": API_KEY}, timeout=5) as client:
            yield client

    def test_without_the_api_key_is_401(self, kicox_http: httpx.Client) -> None:
        assert kicox_http.post(f"{FOREIGN}/batch", json={"items": [foreign_cluster("eccp:1")]}).status_code == 401
        assert kicox_http.get(FOREIGN, headers={"X-API-Key": "wrong"}).status_code == 401

    def test_a_bad_item_fails_alone_and_results_keep_request_order(
        self, kicox: KicoxSimulator, ingest: httpx.Client
    ) -> None:
        items = [
            foreign_cluster("eccp:a"),
            foreign_cluster("eccp:greece", natnCd="EL"),
            foreign_cluster("eccp:uk", natnCd="UK"),
            foreign_cluster("eccp:script", intrcn="<p>hi</p><script>alert(1)</script>"),
            foreign_cluster("eccp:handler", intrcn='<a href="#" onclick="x()">x</a>'),
            foreign_cluster("eccp:js", intrcn='<a href="javascript:alert(1)">x</a>'),
            {k: v for k, v in foreign_cluster("eccp:noname").items() if k != "clstrEngNm"},
            foreign_cluster("eccp:long", acrnm="A" * 65),
            foreign_cluster("eccp:b", natnCd="GR"),
        ]
        response = ingest.post(f"{FOREIGN}/batch", json={"items": items})
        assert response.status_code == 200
        validate("kicox", "BatchResult", response.json())
        results = response.json()["results"]
        assert [r["extrlId"] for r in results] == [i["extrlId"] for i in items]
        assert [r["status"] for r in results] == ["created"] + ["error"] * 7 + ["created"]
        assert results[1]["errorCode"] == "E422"
        assert results[1]["errorMessage"] == "natnCd: unknown country code"
        assert results[3]["errorMessage"].startswith("intrcn:")
        assert results[6]["errorMessage"] == "clstrEngNm: required"
        assert results[7]["errorMessage"].startswith("acrnm:")
        assert [f["extrlId"] for f in kicox.foreign()] == ["eccp:a", "eccp:b"]

    def test_upsert_by_extrl_id_reports_created_updated_unchanged(
        self, kicox: KicoxSimulator, ingest: httpx.Client, clock: FakeClock
    ) -> None:
        def send(item: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = ingest.post(f"{FOREIGN}/batch", json={"items": [item]}).json()["results"][0]
            return result

        created = send(foreign_cluster("eccp:1"))
        clock.advance(10)
        unchanged = send(foreign_cluster("eccp:1"))
        first_stamp = kicox.foreign()[0]["updtDt"]
        clock.advance(10)
        updated = send(foreign_cluster("eccp:1", clstrEngNm="Renamed"))
        assert [created["status"], unchanged["status"], updated["status"]] == ["created", "unchanged", "updated"]
        assert created["frgnClstrId"] == unchanged["frgnClstrId"] == updated["frgnClstrId"] == "FC-000001"
        stored = kicox.foreign()[0]
        assert stored["clstrEngNm"] == "Renamed"
        assert datetime.fromisoformat(stored["updtDt"]) > datetime.fromisoformat(first_stamp)
        assert stored["updtDt"].endswith("+09:00")

    @pytest.mark.parametrize(
        "payload",
        [b"not json", b'{"items": []}', b'{"rows": [1]}', json.dumps({"items": [{}] * 101}).encode()],
        ids=["not-json", "empty", "no-items", "over-100"],
    )
    def test_a_body_that_is_not_a_batch_is_400(self, ingest: httpx.Client, payload: bytes) -> None:
        response = ingest.post(f"{FOREIGN}/batch", content=payload, headers={"Content-Type": "application/json"})
        assert response.status_code == 400

    def test_a_body_over_2_mib_is_413(self, ingest: httpx.Client) -> None:
        huge = {"items": [foreign_cluster("eccp:1", intrcn="x" * (2 * 1024 * 1024))]}
        assert ingest.post(f"{FOREIGN}/batch", json=huge).status_code == 413

    def test_foreign_list_pages_by_extrl_id(self, ingest: httpx.Client) -> None:
        items = [foreign_cluster(f"eccp:{n}") for n in ("c", "a", "b")]
        ingest.post(f"{FOREIGN}/batch", json={"items": items})
        first = ingest.get(FOREIGN, params={"srcSysCd": "ECCP", "pageNo": 1, "numOfRows": 2}).json()
        second = ingest.get(FOREIGN, params={"srcSysCd": "ECCP", "pageNo": 2, "numOfRows": 2}).json()
        for page in (first, second):
            validate("kicox", "ForeignList", page)
        assert [i["extrlId"] for i in first["items"] + second["items"]] == ["eccp:a", "eccp:b", "eccp:c"]
        assert first["totalCount"] == 3
        assert first["items"][0]["frgnClstrId"].startswith("FC-")
        capped = ingest.get(FOREIGN, params={"numOfRows": 9999}).json()
        assert capped["numOfRows"] == 500

    def test_delete_takes_an_encoded_extrl_id_and_is_404_when_gone(
        self, kicox: KicoxSimulator, ingest: httpx.Client
    ) -> None:
        extrl_id = "eccp:3f1c/odd id"
        ingest.post(f"{FOREIGN}/batch", json={"items": [foreign_cluster(extrl_id)]})
        path = f"{FOREIGN}/{quote(extrl_id, safe='')}"
        assert ingest.delete(path).status_code == 204
        assert kicox.foreign() == []
        assert ingest.delete(path).status_code == 404


class TestSeed:
    def test_values_become_strings_and_defaults_are_filled_in_kst(self, clock: FakeClock) -> None:
        clock.set(datetime(2026, 10, 15, 20, 30, tzinfo=UTC).timestamp())  # 2026-10-16 05:30 KST
        sim = KicoxSimulator({"clusters": [{"clstrId": "KC-9", "clstrNm": "가", "mberCo": 12}]}, clock=clock)
        (cluster,) = sim.clusters()
        assert cluster["mberCo"] == "12"
        assert cluster["useAt"] == "Y"
        assert cluster["updtDt"] == "20261016053000"

    def test_default_seed_is_the_shipped_sample_data(self) -> None:
        source = resources.files("clusterbridge.simulators").joinpath("data", "kicox.json")
        expected = len(json.loads(source.read_text(encoding="utf-8"))["clusters"]) if source.is_file() else 0
        assert len(KicoxSimulator().clusters()) == expected
