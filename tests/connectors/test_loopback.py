"""Both connectors against the real simulators on loopback, with faults and rate limits switched on: listings
come back complete and duplicate-free, writes are idempotent, and a client at its configured rate is never
answered 429."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from clusterbridge.abc import Connector, MirrorWrite
from clusterbridge.connectors.eccp import EccpConnector
from clusterbridge.connectors.kicox import KicoxConnector
from clusterbridge.errors import QuotaExhausted
from clusterbridge.simulators import EccpSimulator, FaultSpec, KicoxSimulator
from clusterbridge.testing import AdminClient, eccp_attributes, foreign_cluster, kicox_cluster, kicox_seed, running
from tests.connectors.support import create_eccp, create_kicox

from .conftest import make_settings

T0 = 1_780_000_000
# ≈20 % of requests fail: 503, connection reset, truncated body, garbled body (Retry-After 0 keeps it fast)
FAULTS = "error503=0.1,reset=0.05,truncate=0.03,garble=0.02,retry_after=0,seed=7"
KICOX_FAULTS = FAULTS + ",gateway=0.04,xml=0.04"
# a budget that rides out a 20 % fault rate; waits stay tiny so the suite is fast
RESILIENT: dict[str, Any] = {
    "backoff_initial": 0.001,
    "backoff_max": 0.01,
    "max_attempts": 10,
    "max_retry_seconds": 20,
    "rate_limit": 200,
    "timeout": 2,
    "connect_timeout": 1,
}
SERVICE_KEY = "Zm9v+YmFy/YmF6==dGVzdA=="


def eccp_seed_data() -> dict[str, Any]:
    """180 natives (70 of them sharing one second: more than a page) and 20 KICOX mirrors."""
    data = []
    for i in range(180):
        changed = T0 + 10 if i < 70 else T0 + 20 + i // 3
        data.append({"id": str(uuid.uuid4()), "attributes": eccp_attributes(title=f"Native {i}", changed=changed)})
    for i in range(20):
        attrs = eccp_attributes(title=f"Mirror {i}", field_origin="kicox", field_external_id=f"KC-{i:06}")
        data.append({"id": str(uuid.uuid4()), "attributes": {**attrs, "changed": T0 + 15}})
    return {"data": data}


@pytest.fixture
def eccp_sim() -> Iterator[EccpSimulator]:
    with running(EccpSimulator(seed=eccp_seed_data(), client_id="demo-client", client_secret="demo-secret")) as sim:
        yield sim


@pytest.fixture
def kicox_sim() -> Iterator[KicoxSimulator]:
    clusters = [kicox_cluster(f"KC-{i:06}", updtDt=f"2026101509{i // 60:02}{(i // 4) % 60:02}") for i in range(300)]
    sim = KicoxSimulator(seed=kicox_seed(*clusters), service_key=SERVICE_KEY, api_key="demo-api-key")
    with running(sim):
        yield sim


_made: list[Connector] = []


@pytest.fixture(autouse=True)
def _close_connectors() -> Iterator[None]:
    yield
    while _made:
        _made.pop().close()


def eccp_for(sim: EccpSimulator, **overrides: Any) -> EccpConnector:
    settings = make_settings(eccp_base_url=sim.url)
    connector = create_eccp(settings, **{**RESILIENT, **overrides})
    _made.append(connector)
    return connector


def kicox_for(sim: KicoxSimulator, key: str = SERVICE_KEY, **overrides: Any) -> KicoxConnector:
    settings = make_settings(
        kicox_base_url=sim.url, kicox_service_key=SecretStr(key), kicox_api_key=SecretStr("demo-api-key")
    )
    connector = create_kicox(settings, **{**RESILIENT, **overrides})
    _made.append(connector)
    return connector


def faults(sim: EccpSimulator | KicoxSimulator, spec: str) -> None:
    sim.set_faults(FaultSpec.parse(spec))
    sim.reset_stats()


class TestEccpLoopback:
    """ECCP connector against the ECCP simulator."""

    def test_full_listing_is_complete_and_duplicate_free_under_faults(self, eccp_sim: EccpSimulator) -> None:
        faults(eccp_sim, FAULTS)
        connector = eccp_for(eccp_sim, page_limit=10)  # small pages: more requests, so more faults
        pages = list(connector.iter_natives())
        ids = [r.native_id for p in pages for r in p.records]  # type: ignore[attr-defined]
        expected = {r["id"] for r in eccp_sim.records() if r["attributes"]["field_origin"] == "eccp"}
        assert len(ids) == len(set(ids))
        assert set(ids) == expected
        assert pages[0].reported_total == 180
        assert not [p for p in pages if p.problems]
        assert sum(eccp_sim.stats()["faults"].values()) > 0  # the faults really happened

    def test_writes_are_idempotent_under_faults(self, eccp_sim: EccpSimulator) -> None:
        faults(eccp_sim, FAULTS)
        connector = eccp_for(eccp_sim)
        writes = [
            MirrorWrite(f"KC-{i:06}", eccp_attributes(title=f"Korean {i}", field_country="KR")) for i in range(20, 60)
        ]
        first = connector.write(writes)
        assert {r.action for r in first} <= {"created", "adopted"}
        # a crash lost the ledger: the same creates again adopt, never duplicate
        again = connector.write(writes)
        assert {r.action for r in again} == {"adopted"}
        assert [r.mirror_id for r in again] == [r.mirror_id for r in first]
        mirrors = [r for r in eccp_sim.records() if r["attributes"]["field_origin"] == "kicox"]
        per_external = Counter(r["attributes"]["field_external_id"] for r in mirrors)
        assert len(per_external) == 60
        assert max(per_external.values()) == 1
        listed = [m.external_id for page in connector.iter_mirrors() for m in page]
        assert sorted(listed) == sorted(per_external)

    def test_update_delete_and_recreate(self, eccp_sim: EccpSimulator) -> None:
        faults(eccp_sim, FAULTS)
        connector = eccp_for(eccp_sim)
        payload = eccp_attributes(title="Busan Cluster", field_country="KR")
        (made,) = connector.write([MirrorWrite("KC-900", payload)])
        assert made.mirror_id is not None
        changed = {**payload, "title": "Busan Cluster II"}
        (updated,) = connector.write([MirrorWrite("KC-900", changed, made.mirror_id, payload)])
        assert updated.action == "updated"
        assert eccp_sim.record(made.mirror_id)["attributes"]["title"] == "Busan Cluster II"  # type: ignore[index]
        connector.delete(made.external_id, made.mirror_id)
        connector.delete(made.external_id, made.mirror_id)  # already gone: done
        (back,) = connector.write([MirrorWrite("KC-900", payload, made.mirror_id, changed)])
        assert back.action in {"created", "adopted"}  # "adopted" when a fault hid the create's answer
        assert back.mirror_id != made.mirror_id
        found = connector.find_mirror("KC-900")
        assert found is not None
        assert found.mirror_id == back.mirror_id

    def test_expired_token_is_fetched_again(self, eccp_sim: EccpSimulator) -> None:
        connector = eccp_for(eccp_sim)
        assert connector.find_mirror("KC-000001") is not None
        with AdminClient(eccp_sim.url) as admin:
            admin.expire_tokens()
        assert connector.find_mirror("KC-000002") is not None
        assert "401" in eccp_sim.stats()["by_status"]

    def test_validation_error_is_a_record_problem(self, eccp_sim: EccpSimulator) -> None:
        connector = eccp_for(eccp_sim)
        bad, good = connector.write(
            [
                MirrorWrite("KC-901", eccp_attributes(field_country="Korea")),
                MirrorWrite("KC-902", eccp_attributes(field_country="KR")),
            ]
        )
        assert bad.action == "failed"
        assert bad.problem is not None
        assert bad.problem.field == "field_country"
        assert good.action == "created"

    def test_client_at_its_configured_rate_gets_no_429(self, eccp_sim: EccpSimulator) -> None:
        faults(eccp_sim, "rate_limit=10")
        # the shipped rate: the site's own 10 a second; small pages make ~25 requests
        connector = eccp_for(eccp_sim, rate_limit=10, page_limit=10)
        ids = [r.native_id for p in connector.iter_natives() for r in p.records]  # type: ignore[attr-defined]
        assert len(set(ids)) == 180
        stats = eccp_sim.stats()
        assert stats["requests"] >= 20
        assert "429" not in stats["by_status"]

    def test_control_an_unlimited_client_is_answered_429(self, eccp_sim: EccpSimulator) -> None:
        """Shows the test above can fail: without the client-side limit the simulator does answer 429."""
        faults(eccp_sim, "rate_limit=10")
        connector = eccp_for(eccp_sim, rate_limit=1000)
        for _ in range(15):
            assert connector.find_mirror("KC-000001") is not None  # still answered, after the Retry-After
        assert "429" in eccp_sim.stats()["by_status"]


class TestKicoxLoopback:
    """KICOX connector against the KICOX simulator."""

    @pytest.mark.parametrize("form", ["decoded", "encoded"])
    def test_full_listing_is_complete_and_duplicate_free_under_faults(
        self, kicox_sim: KicoxSimulator, form: str
    ) -> None:
        faults(kicox_sim, KICOX_FAULTS)
        key = SERVICE_KEY if form == "decoded" else quote(SERVICE_KEY, safe="")
        connector = kicox_for(kicox_sim, key, num_of_rows=50)
        pages = list(connector.iter_natives())
        ids = [r.native_id for p in pages for r in p.records]  # type: ignore[attr-defined]
        assert len(ids) == len(set(ids))
        assert set(ids) == {c["clstrId"] for c in kicox_sim.clusters()}
        assert pages[0].reported_total == 300
        assert sum(kicox_sim.stats()["faults"].values()) > 0

    def test_batch_writes_are_idempotent_under_faults(self, kicox_sim: KicoxSimulator) -> None:
        faults(kicox_sim, FAULTS)
        connector = kicox_for(kicox_sim)
        writes = [
            MirrorWrite(f"eccp:{uuid.UUID(int=i)}", foreign_cluster("x", clstrEngNm=f"EU {i}")) for i in range(230)
        ]
        first = connector.write(writes)
        assert {r.action for r in first} <= {"created", "unchanged"}  # a retried batch may find it stored
        again = connector.write(writes)
        assert {r.action for r in again} == {"unchanged"}
        stored = kicox_sim.foreign()
        assert sorted(f["extrlId"] for f in stored) == sorted(w.external_id for w in writes)
        listed = [m.mirror_id for page in connector.iter_mirrors() for m in page]
        assert sorted(listed) == sorted(w.external_id for w in writes)
        connector.delete(writes[0].external_id, None)
        connector.delete(writes[0].external_id, None)
        assert connector.find_mirror(writes[0].external_id) is None
        assert len(kicox_sim.foreign()) == 229

    def test_item_error_is_a_record_problem(self, kicox_sim: KicoxSimulator) -> None:
        connector = kicox_for(kicox_sim)
        bad, good = connector.write(
            [
                MirrorWrite("eccp:bad", foreign_cluster("x", natnCd="XX")),
                MirrorWrite("eccp:good", foreign_cluster("x")),
            ]
        )
        assert good.action == "created"
        assert bad.action == "failed"
        assert bad.problem is not None
        assert bad.problem.field == "natnCd"

    def test_quota_exhausted_stops_cleanly(self, kicox_sim: KicoxSimulator) -> None:
        kicox_sim.set_quota(2)
        connector = kicox_for(kicox_sim, num_of_rows=50)
        with pytest.raises(QuotaExhausted):
            list(connector.iter_natives())
        assert kicox_sim.stats()["requests"] == 3  # two pages, then 22 once: never retried

    def test_client_at_its_configured_rate_gets_no_429(self, kicox_sim: KicoxSimulator) -> None:
        faults(kicox_sim, "rate_limit=5")
        connector = kicox_for(kicox_sim, rate_limit=4, num_of_rows=25)
        ids = [r.native_id for p in connector.iter_natives() for r in p.records]  # type: ignore[attr-defined]
        assert len(set(ids)) == 300
        stats = kicox_sim.stats()
        assert stats["requests"] >= 12
        assert "429" not in stats["by_status"]
