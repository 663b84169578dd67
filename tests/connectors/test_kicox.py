"""The KICOX connector against respx fakes: the open-data envelope's habits, every gateway code, the service
key's encoding, keyset paging, and the ingest API's batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import respx
from pydantic import SecretStr

from clusterbridge.abc import MirrorWrite
from clusterbridge.connectors.kicox import KicoxConnector
from clusterbridge.connectors.kicox.models import KicoxCluster, format_kst
from clusterbridge.errors import ConfigurationError, PlatformError, QuotaExhausted, RetryableError
from tests.connectors.support import create_kicox

from .conftest import API_KEY, FAST, KICOX_URL, FakeOpenData, envelope, kicox_item, make_settings

LIST = f"{KICOX_URL}/openapi/service/ClusterInfoService/getClusterList"
BATCH = f"{KICOX_URL}/api/v1/foreign-clusters/batch"
FOREIGN = f"{KICOX_URL}/api/v1/foreign-clusters"
T0 = 1_780_000_000


def natives(connector: KicoxConnector, since: datetime | None = None) -> list[KicoxCluster]:
    return [r.wire for page in connector.iter_natives(since) for r in page.records if isinstance(r.wire, KicoxCluster)]


def gateway_xml(code: str, auth: str = "SERVICE ERROR") -> httpx.Response:
    body = (
        "<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg>"
        f"<returnAuthMsg>{auth}</returnAuthMsg><returnReasonCode>{code}</returnReasonCode>"
        "</cmmMsgHeader></OpenAPI_ServiceResponse>"
    )
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "text/xml"})


def ok(items: Any, total: int) -> httpx.Response:
    return httpx.Response(200, json=envelope(items, total))


def foreign_payload(name: str = "Silicon Saxony", country: str = "DE") -> dict[str, Any]:
    return {"clstrEngNm": name, "natnCd": country, "srcUpdtDt": "2026-10-15T09:30:00+00:00"}


class TestServiceKey:
    """serviceKey is percent-encoded exactly once, whichever form of the key is configured."""

    @pytest.mark.parametrize("configured", ["ab+cd/ef==", "ab%2Bcd%2Fef%3D%3D"], ids=["decoded", "encoded"])
    def test_raw_url_carries_the_key_encoded_once(
        self, configured: str, router: respx.MockRouter, transport: httpx.MockTransport
    ) -> None:
        connector = create_kicox(make_settings(kicox_service_key=SecretStr(configured)), transport=transport, **FAST)
        route = router.get(LIST).mock(return_value=ok("", 0))
        natives(connector)
        raw = route.calls.last.request.url.raw_path.decode()
        assert "serviceKey=ab%2Bcd%2Fef%3D%3D" in raw
        assert "%25" not in raw
        assert "type=json" in raw
        assert "pageNo=1" in raw
        assert "numOfRows=500" in raw

    def test_missing_keys_name_their_variables(self) -> None:
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_KICOX_SERVICE_KEY"):
            create_kicox(make_settings(kicox_service_key=None))
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_KICOX_API_KEY"):
            create_kicox(make_settings(kicox_api_key=None))

    @pytest.mark.parametrize(("key", "value"), [("num_of_rows", 1001), ("batch_size", 101), ("foreign_rows", 501)])
    def test_platform_caps_are_enforced(self, key: str, value: int) -> None:
        with pytest.raises(ConfigurationError, match=key):
            create_kicox(make_settings(), **{key: value})

    def test_the_key_never_appears_in_errors(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        router.get(LIST).mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(RetryableError) as info:
            natives(kicox)
        assert "ab+cd" not in str(info.value)
        assert "ab%2Bcd" not in str(info.value)
        assert "serviceKey" not in str(info.value)


class TestEnvelope:
    """The envelope's sloppy shapes are read; bad records become problems."""

    def test_string_values_and_blanks(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        item = kicox_item("KC-1", T0, mberCo="153", estblYear="2004", clstrEngNm=" ", smeCo="")
        router.get(LIST).mock(return_value=ok({"item": [item, kicox_item("KC-2", T0)]}, 2))
        first = natives(kicox)[0]
        assert first.mberCo == 153
        assert first.estblYear == 2004
        assert first.clstrEngNm is None
        assert first.smeCo is None

    def test_single_object_item(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        router.get(LIST).mock(return_value=ok({"item": kicox_item("KC-1", T0)}, 1))
        assert [r.clstrId for r in natives(kicox)] == ["KC-1"]

    def test_empty_items_string(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        router.get(LIST).mock(return_value=ok("", 0))
        (page,) = list(kicox.iter_natives())
        assert page.records == []
        assert page.reported_total == 0

    def test_xml_envelope_when_json_was_asked(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        xml = (
            "<?xml version='1.0' encoding='UTF-8'?><response><header><resultCode>00</resultCode>"
            "<resultMsg>NORMAL SERVICE.</resultMsg></header><body><items>"
            "<item><clstrId>KC-1</clstrId><clstrNm>반월</clstrNm><mberCo>7</mberCo><updtDt>20261015093000</updtDt>"
            "<useAt>Y</useAt><clstrEngNm> </clstrEngNm></item>"
            "</items><numOfRows>500</numOfRows><pageNo>1</pageNo><totalCount>1</totalCount></body></response>"
        )
        router.get(LIST).mock(
            return_value=httpx.Response(200, content=xml.encode(), headers={"Content-Type": "application/json"})
        )
        (page,) = list(kicox.iter_natives())
        (native,) = page.records
        record = native.wire
        assert isinstance(record, KicoxCluster)
        assert (record.clstrId, record.clstrNm, record.mberCo, record.clstrEngNm) == ("KC-1", "반월", 7, None)
        assert record.updtDt == datetime(2026, 10, 15, 0, 30, tzinfo=UTC)
        assert page.reported_total == 1

    def test_bad_record_becomes_a_problem(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        bad = kicox_item("KC-9", T0, mberCo="many")
        router.get(LIST).mock(return_value=ok({"item": [bad, kicox_item("KC-2", T0)]}, 2))
        (page,) = list(kicox.iter_natives())
        assert [r.native_id for r in page.records] == ["KC-2"]  # type: ignore[attr-defined]
        (problem,) = page.problems
        assert (problem.source_id, problem.field, problem.raw) == ("KC-9", "mberCo", bad)


class TestResultCodes:
    """Gateway codes, as XML in HTTP 200 or as a JSON resultCode, each handled as the contract says."""

    @pytest.mark.parametrize("form", ["xml", "json"])
    @pytest.mark.parametrize("code", ["01", "02", "04", "05"])
    def test_passing_faults_are_retried(
        self, code: str, form: str, kicox: KicoxConnector, router: respx.MockRouter
    ) -> None:
        fault = gateway_xml(code) if form == "xml" else httpx.Response(200, json=envelope("", 0, code=code))
        route = router.get(LIST).mock(side_effect=[fault, ok({"item": kicox_item("KC-1", T0)}, 1)])
        assert [r.clstrId for r in natives(kicox)] == ["KC-1"]
        assert route.call_count == 2

    def test_03_is_an_empty_result(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        route = router.get(LIST).mock(return_value=gateway_xml("03", "NODATA_ERROR"))
        assert natives(kicox) == []
        assert route.call_count == 1

    @pytest.mark.parametrize("form", ["xml", "json"])
    def test_22_stops_cleanly_without_retry(self, form: str, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        fault = gateway_xml("22") if form == "xml" else httpx.Response(200, json=envelope("", 0, code="22"))
        route = router.get(LIST).mock(return_value=fault)
        with pytest.raises(QuotaExhausted, match="22"):
            natives(kicox)
        assert route.call_count == 1

    @pytest.mark.parametrize("code", ["20", "21", "30", "31", "32", "33"])
    def test_configuration_codes_fail_fast(self, code: str, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        route = router.get(LIST).mock(return_value=gateway_xml(code))
        with pytest.raises(ConfigurationError, match=f"code {code}"):
            natives(kicox)
        assert route.call_count == 1

    def test_30_says_what_to_fix(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        router.get(LIST).mock(return_value=gateway_xml("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"))
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_KICOX_SERVICE_KEY"):
            natives(kicox)

    @pytest.mark.parametrize("code", ["10", "11", "12"])
    def test_request_codes_are_a_bug(self, code: str, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        route = router.get(LIST).mock(return_value=gateway_xml(code))
        with pytest.raises(PlatformError, match=f"code {code}") as info:
            natives(kicox)
        assert not isinstance(info.value, RetryableError)
        assert route.call_count == 1

    def test_99_is_retried_a_limited_number_of_times(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        route = router.get(LIST).mock(return_value=gateway_xml("99", "UNKNOWN_ERROR"))
        with pytest.raises(PlatformError, match="99"):
            natives(kicox)
        assert route.call_count == 3  # the first try and unknown_error_retries = 2

    def test_html_500_and_garbled_bodies_are_retried(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        route = router.get(LIST).mock(
            side_effect=[
                httpx.Response(500, content=b"<html>gateway</html>"),
                httpx.Response(200, content=b'{"response": {"header": {"resultCo'),
                httpx.Response(429, headers={"Retry-After": "0"}),
                ok("", 0),
            ]
        )
        assert natives(kicox) == []
        assert route.call_count == 4


class TestPaging:
    """pageNo from 1, modDtFrom in KST with overlap, keyset re-queries that miss nothing."""

    def test_incremental_asks_from_the_cursor_less_overlap_in_kst(
        self, kicox: KicoxConnector, router: respx.MockRouter
    ) -> None:
        route = router.get(LIST).mock(return_value=ok("", 0))
        since = datetime.fromtimestamp(T0, UTC)
        list(kicox.iter_natives(since))
        params = dict(route.calls.last.request.url.params)
        assert params["modDtFrom"] == format_kst(datetime.fromtimestamp(T0 - 300, UTC))
        assert params["pageNo"] == "1"

    def test_full_listing_pages_through_and_reports_total(self, router: respx.MockRouter, transport: Any) -> None:
        connector = create_kicox(make_settings(), transport=transport, num_of_rows=10, **FAST)
        fake = FakeOpenData([kicox_item(f"KC-{i:03}", T0 + i // 3) for i in range(45)])
        router.get(LIST).mock(side_effect=fake)
        pages = list(connector.iter_natives())
        ids = [r.native_id for p in pages for r in p.records]  # type: ignore[attr-defined]
        assert sorted(ids) == sorted(fake.items)
        assert len(ids) == len(set(ids))
        assert {p.reported_total for p in pages} == {45}
        assert fake.queries[0]["pageNo"] == "1"
        assert fake.queries[0]["numOfRows"] == "10"

    def test_more_than_a_page_in_one_second(self, router: respx.MockRouter, transport: Any) -> None:
        connector = create_kicox(make_settings(), transport=transport, num_of_rows=10, **FAST)
        fake = FakeOpenData([kicox_item(f"KC-{i:03}", T0) for i in range(35)] + [kicox_item("KC-999", T0 + 5)])
        router.get(LIST).mock(side_effect=fake)
        ids = [r.clstrId for r in natives(connector)]
        assert sorted(ids) == sorted(fake.items)
        assert len(ids) == len(set(ids))

    def test_record_edited_between_pages_is_not_missed(self, router: respx.MockRouter, transport: Any) -> None:
        connector = create_kicox(make_settings(), transport=transport, num_of_rows=10, **FAST)
        fake = FakeOpenData([kicox_item(f"KC-{i:03}", T0 + i) for i in range(30)])
        calls = [0]

        def edit_once(server: FakeOpenData) -> None:
            calls[0] += 1
            if calls[0] == 1:
                server.items["KC-000"]["updtDt"] = "20991231000000"

        fake.after_page = edit_once
        router.get(LIST).mock(side_effect=fake)
        ids = {r.clstrId for r in natives(connector)}
        assert ids == set(fake.items)


class TestBatchWrites:
    """Batch upsert: chunks of at most batch_size, X-API-Key, item results mapped back to the writes."""

    def test_chunks_and_results(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            items = json.loads(request.content)["items"]
            return httpx.Response(
                200, json={"results": [{"extrlId": i["extrlId"], "status": "created"} for i in items]}
            )

        route = router.post(BATCH).mock(side_effect=answer)
        writes = [MirrorWrite(f"eccp:{i}", foreign_payload()) for i in range(250)]
        results = kicox.write(writes)
        assert [len(json.loads(c.request.content)["items"]) for c in route.calls] == [100, 100, 50]
        assert all(c.request.headers["X-API-Key"] == API_KEY for c in route.calls)
        assert [r.external_id for r in results] == [w.external_id for w in writes]
        assert {r.action for r in results} == {"created"}
        assert results[0].mirror_id == "eccp:0"
        item = json.loads(route.calls[0].request.content)["items"][0]
        assert (item["extrlId"], item["srcSysCd"]) == ("eccp:0", "ECCP")

    def test_item_statuses_errors_and_missing_results(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        router.post(BATCH).mock(
            return_value=httpx.Response(
                200,
                json={
                    "results": [
                        {"extrlId": "eccp:b", "status": "updated"},
                        {"extrlId": "eccp:a", "status": "unchanged"},
                        {
                            "extrlId": "eccp:c",
                            "status": "error",
                            "errorCode": "E422",
                            "errorMessage": "natnCd: unknown country code",
                        },
                        {"extrlId": "eccp:zz", "status": "created"},
                    ]
                },
            )
        )
        writes = [MirrorWrite(f"eccp:{k}", foreign_payload()) for k in "abcd"]
        a, b, c, d = kicox.write(writes)
        assert (a.action, b.action) == ("unchanged", "updated")
        assert c.action == "failed"
        assert c.problem is not None
        assert (c.problem.field, c.problem.retryable) == ("natnCd", False)
        assert "unknown country code" in c.problem.reason
        assert d.action == "failed"
        assert d.problem is not None
        assert "no result" in d.problem.reason

    def test_invalid_payload_fails_locally_without_sending(
        self, kicox: KicoxConnector, router: respx.MockRouter
    ) -> None:
        route = router.post(BATCH).mock(return_value=httpx.Response(200, json={"results": []}))
        (result,) = kicox.write([MirrorWrite("eccp:x", foreign_payload(country="EL-GR"))])
        assert result.action == "failed"
        assert result.problem is not None
        assert result.problem.field == "natnCd"
        assert route.call_count == 0

    def test_batch_is_retried_after_a_reset_because_upsert_is_idempotent(
        self, kicox: KicoxConnector, router: respx.MockRouter
    ) -> None:
        route = router.post(BATCH).mock(
            side_effect=[
                httpx.ReadError("connection reset"),
                httpx.Response(503, headers={"Retry-After": "0"}),
                httpx.Response(200, json={"results": [{"extrlId": "eccp:a", "status": "created"}]}),
            ]
        )
        (result,) = kicox.write([MirrorWrite("eccp:a", foreign_payload())])
        assert result.action == "created"
        assert route.call_count == 3

    def test_bad_api_key_is_a_configuration_error(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        router.post(BATCH).mock(return_value=httpx.Response(401))
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_KICOX_API_KEY"):
            kicox.write([MirrorWrite("eccp:a", foreign_payload())])


class TestForeignListing:
    """Mirrors are listed page by page (numOfRows ≤ 500), found by extrlId, deleted by an encoded path."""

    def test_iter_mirrors_pages(self, router: respx.MockRouter, transport: Any) -> None:
        connector = create_kicox(make_settings(), transport=transport, foreign_rows=2, **FAST)
        items = [dict(foreign_payload(), extrlId=f"eccp:{i}", frgnClstrId=f"F{i}", srcSysCd="ECCP") for i in range(5)]

        def answer(request: httpx.Request) -> httpx.Response:
            page, rows = int(request.url.params["pageNo"]), int(request.url.params["numOfRows"])
            body = {"items": items[(page - 1) * rows : page * rows], "totalCount": 5, "pageNo": page, "numOfRows": rows}
            return httpx.Response(200, json=body)

        route = router.get(FOREIGN).mock(side_effect=answer)
        pages = list(connector.iter_mirrors())
        assert [len(p) for p in pages] == [2, 2, 1]
        assert route.calls[0].request.headers["X-API-Key"] == API_KEY
        assert route.calls[0].request.url.params["srcSysCd"] == "ECCP"
        found = connector.find_mirror("eccp:3")
        assert found is not None
        assert (found.mirror_id, found.payload["frgnClstrId"]) == ("eccp:3", "F3")
        assert connector.find_mirror("eccp:9") is None

    def test_delete_encodes_the_id_and_treats_404_as_done(
        self, kicox: KicoxConnector, router: respx.MockRouter
    ) -> None:
        uid = "eccp:3f1c/odd id"
        route = router.delete(url__startswith=FOREIGN).mock(side_effect=[httpx.Response(204), httpx.Response(404)])
        kicox.delete(uid, None)
        kicox.delete(uid, uid)
        raw = route.calls[0].request.url.raw_path.decode()
        assert raw == f"/api/v1/foreign-clusters/{quote(uid, safe='')}"
        assert route.call_count == 2
