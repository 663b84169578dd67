"""Hostile listings and refusals at the connector's edge: one bad element is one problem, never a bad page, and a
write the platform refuses fails that record alone (issue "Hostile input", items 2, 3, 5 and 6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from clusterbridge.abc import MirrorWrite, NativePage
from clusterbridge.connectors.eccp import EccpConnector
from clusterbridge.connectors.kicox import KicoxConnector
from tests.connectors.conftest import KICOX_URL, eccp_resource, envelope, kicox_item

T0 = 1_780_000_000
COLLECTION = "http://eccp.test/jsonapi/node/cluster_organisation"
LIST = f"{KICOX_URL}/openapi/service/ClusterInfoService/getClusterList"
BATCH = f"{KICOX_URL}/api/v1/foreign-clusters/batch"
UUID = "307306a0-376c-4adb-9bd5-27a8c6159e7c"


def pages(connector: EccpConnector | KicoxConnector) -> list[NativePage]:
    return list(connector.iter_natives())


class TestEccpListingElements:
    """ECCP `data` may hold anything; each element that is not a readable resource is a problem of its own."""

    @pytest.mark.usefixtures("token_route")
    def test_non_objects_bad_ids_and_bad_attributes_are_problems_and_the_rest_is_read(
            self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        good = eccp_resource(UUID, T0, 1)
        no_attributes = {"type": "node--cluster_organisation", "id": "a1b2", "attributes": "nope"}
        data: list[Any] = ["oops", None, 42, [1, 2], eccp_resource("<script>alert(1)</script>", T0, 2),
                           eccp_resource("x" * 150, T0, 3), no_attributes, good]
        router.get(COLLECTION).mock(return_value=httpx.Response(200, json={
            "data": data, "links": {}, "meta": {"count": len(data)}}))
        (page,) = pages(eccp)
        assert [r.native_id for r in page.records] == [UUID]
        unidentified = [p for p in page.problems if p.source_id is None]
        assert len(unidentified) == 6
        assert {p.field for p in unidentified if p.field} == {"id"}
        (bad_attributes,) = [p for p in page.problems if p.source_id == "a1b2"]
        assert bad_attributes.field == "attributes"

    @pytest.mark.usefixtures("token_route")
    def test_lone_surrogates_are_dropped_at_the_edge(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        import json

        resource = eccp_resource(UUID, T0, 1, title="A\ud800B", langcode="\ud800")
        body = json.dumps({"data": [resource], "links": {}, "meta": {"count": 1}})  # "\ud800" escapes: valid JSON
        assert "\\ud800" in body
        router.get(COLLECTION).mock(return_value=httpx.Response(200, content=body.encode(),
                                                                 headers={"Content-Type": "application/json"}))
        (page,) = pages(eccp)
        (record,) = page.records
        cluster = eccp.normalise(record)
        assert (cluster.name_en, cluster.lang) == ("AB", "en")
        cluster.model_dump_json().encode("utf-8")  # encodes: nothing of the surrogate is left


class TestKicoxListingElements:
    def test_non_objects_long_ids_duplicates_and_numeric_times_are_problems(
            self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        items: list[Any] = [
            "oops", None, 42, [1], kicox_item("K" * 123, T0), kicox_item("<b>x</b>", T0),
            kicox_item("KC-DUP", T0), kicox_item("KC-DUP", T0, clstrNm="다른 클러스터"),
            {**kicox_item("KC-EPOCH", T0), "updtDt": 4102444800000}, kicox_item("KC-OK", T0),
        ]
        router.get(LIST).mock(return_value=httpx.Response(200, json=envelope({"item": items}, len(items))))
        (page,) = pages(kicox)
        assert [r.native_id for r in page.records] == ["KC-OK"]
        assert sum(1 for p in page.problems if p.source_id is None) == 6
        by_id = {p.source_id: p for p in page.problems if p.source_id}
        assert by_id["KC-DUP"].field == "clstrId"
        assert "two different records" in by_id["KC-DUP"].reason
        assert by_id["KC-EPOCH"].field == "updtDt"

    def test_a_single_non_object_item_is_one_problem(self, kicox: KicoxConnector, router: respx.MockRouter) -> None:
        router.get(LIST).mock(return_value=httpx.Response(200, json=envelope({"item": "oops"}, 1)))
        (page,) = pages(kicox)
        assert page.records == []
        assert len(page.problems) == 1


class TestRefusedWrites:
    """A record-level refusal (400, 501 …) fails that record; the direction goes on."""

    @pytest.mark.usefixtures("token_route")
    @pytest.mark.parametrize("status", [400, 501])
    def test_eccp_refusing_one_create_fails_only_that_record(self, eccp: EccpConnector, router: respx.MockRouter,
                                                            status: int) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            external = request.content.decode()
            if "KC-BAD" in external:
                return httpx.Response(status, json={"errors": [{"status": str(status), "detail": "no"}]})
            return httpx.Response(201, json={"data": {"type": "node--cluster_organisation", "id": "m-1",
                                                      "attributes": {}}})

        router.post(COLLECTION).mock(side_effect=answer)
        results = eccp.write([MirrorWrite("KC-OK", {"title": "A"}), MirrorWrite("KC-BAD", {"title": "B"})])
        assert [r.action for r in results] == ["created", "failed"]
        assert results[1].problem is not None

    def test_kicox_refusing_a_batch_narrows_it_to_the_item_at_fault(self, kicox: KicoxConnector,
                                                                    router: respx.MockRouter) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            import json

            items = json.loads(request.content)["items"]
            if any(i["extrlId"] == "eccp:bad" for i in items):
                return httpx.Response(400, json={"errorCode": "E400", "errorMessage": "bad batch"})
            return httpx.Response(200, json={"results": [
                {"extrlId": i["extrlId"], "status": "created", "frgnClstrId": "F1"} for i in items]})

        router.post(BATCH).mock(side_effect=answer)
        payload = {"clstrEngNm": "X", "natnCd": "DE", "srcUpdtDt": "2026-01-01T00:00:00+00:00"}
        writes = [MirrorWrite(f"eccp:{n}", dict(payload)) for n in ("a", "bad", "c", "d")]
        results = kicox.write(writes)
        assert [r.action for r in results] == ["created", "failed", "created", "created"]
