"""Faults: each kind is observable by an ordinary httpx client, reproducible from its seed, and limited to
the platform API (never the admin routes)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from clusterbridge.simulators import EccpSimulator, FaultSpec, KicoxSimulator
from clusterbridge.testing import AdminClient, FakeClock, kicox_cluster, kicox_seed, running
from tests.contracts import validate
from tests.simulators.simulator_support import (
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    COLLECTION,
    SERVICE_KEY,
    eccp_client,
    eccp_natives,
    gateway_code,
    jsonapi,
    mirror_document,
    parse_xml,
    read_url,
)


def outcome(client: httpx.Client, method: str, url: str, **kwargs: Any) -> str:
    """What a client sees: the status, or the kind of transport failure."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        return "timeout"
    except httpx.RemoteProtocolError:
        return "protocol-error"
    except httpx.TransportError:
        return "transport-error"
    return str(response.status_code)


def eccp_with(spec: str, clock: FakeClock | None = None) -> EccpSimulator:
    return EccpSimulator(
        eccp_natives(3), FaultSpec.parse(spec), client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock
    )


class TestFaultSpec:
    """The spec string: every key optional, bad keys and values refused with a reason."""

    def test_parse_and_print_round_trip(self) -> None:
        text = "latency=0.02,rate_limit=10,error503=0.1,reset=0.05,slow=0.05,slow_delay=3,truncate=0.05,garble=0.05"
        spec = FaultSpec.parse(f"{text},retry_after=2,seed=42")
        assert spec.rate_limit == 10
        assert spec.retry_after == 2
        assert spec.seed == 42
        assert FaultSpec.parse(str(spec)) == spec

    def test_empty_spec_means_no_faults(self) -> None:
        assert FaultSpec.parse("") == FaultSpec.parse(None) == FaultSpec()
        assert str(FaultSpec()) == ""

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("colour=blue", "unknown fault key"),
            ("error503", "not key=value"),
            ("error503=often", "not a number"),
            ("error503=1.5", "probability"),
            ("error503=0.6,reset=0.6", "more than 1"),
        ],
    )
    def test_bad_specs_are_refused(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            FaultSpec.parse(text)

    def test_kicox_only_keys_are_refused_by_eccp(self) -> None:
        with pytest.raises(ValueError, match="gateway"):
            EccpSimulator({"data": []}, FaultSpec.parse("gateway=0.1"))
        KicoxSimulator({"clusters": []}, FaultSpec.parse("gateway=0.1,xml=0.1,quota=5"))


class TestRateLimit:
    """Above rate_limit requests a second: 429 with an integer Retry-After (and JSON:API errors on ECCP)."""

    def test_eccp_answers_429_with_retry_after(self) -> None:
        with running(eccp_with("rate_limit=5")) as sim, eccp_client(sim.url) as client:
            responses = [client.get(COLLECTION) for _ in range(12)]
        statuses = [r.status_code for r in responses]
        assert 200 in statuses
        assert 429 in statuses
        limited = next(r for r in responses if r.status_code == 429)
        assert int(limited.headers["Retry-After"]) >= 1
        validate("eccp", "Errors", limited.json())

    def test_the_window_slides(self) -> None:
        with running(eccp_with("rate_limit=3")) as sim, eccp_client(sim.url) as client:
            burst = [client.get(COLLECTION).status_code for _ in range(3)]
            assert client.get(COLLECTION).status_code == 429
            time.sleep(1.05)
            assert client.get(COLLECTION).status_code == 200
        assert burst.count(429) <= 1  # the token request shares the window

    def test_kicox_ingest_answers_429_with_retry_after(self) -> None:
        sim = KicoxSimulator(kicox_seed(), FaultSpec.parse("rate_limit=2"), api_key=API_KEY)
        with running(sim), httpx.Client(base_url=sim.url, headers={"X-API-Key": API_KEY}) as client:
            statuses = [client.get("/api/v1/foreign-clusters") for _ in range(5)]
        limited = [r for r in statuses if r.status_code == 429]
        assert limited
        assert limited[0].headers["Retry-After"].isdigit()


class TestFaultKinds:
    """Each fault kind, forced with probability 1, as a client sees it."""

    def test_error503_has_retry_after(self) -> None:
        with running(eccp_with("error503=1,retry_after=7")) as sim:
            response = httpx.get(f"{sim.url}{COLLECTION}")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "7"

    def test_reset_is_a_connection_reset(self) -> None:
        with running(eccp_with("reset=1")) as sim, pytest.raises(httpx.ReadError):
            httpx.get(f"{sim.url}{COLLECTION}")

    def test_slow_exceeds_the_client_timeout(self) -> None:
        with running(eccp_with("slow=1,slow_delay=0.5")) as sim, pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{sim.url}{COLLECTION}", timeout=0.1)

    def test_slow_answers_when_the_client_waits(self) -> None:
        with running(eccp_with("slow=1,slow_delay=0.2")) as sim:
            started = time.monotonic()
            response = httpx.get(f"{sim.url}{COLLECTION}", timeout=2)
        assert response.status_code == 401  # the answer came, late
        assert time.monotonic() - started >= 0.2

    def test_truncate_sends_less_than_content_length(self) -> None:
        with running(eccp_with("truncate=1")) as sim, pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{sim.url}{COLLECTION}")

    def test_garble_is_a_200_that_does_not_parse(self) -> None:
        with running(eccp_with("garble=1")) as sim:
            response = httpx.get(f"{sim.url}{COLLECTION}")
        assert response.status_code == 200
        with pytest.raises(ValueError):  # noqa: PT011 - any JSON decoding failure is the point
            response.json()

    def test_latency_delays_every_api_answer(self) -> None:
        with running(eccp_with("latency=0.15")) as sim:
            started = time.monotonic()
            httpx.get(f"{sim.url}{COLLECTION}")
        assert time.monotonic() - started >= 0.15

    def test_kicox_gateway_fault_is_a_retryable_code_in_xml(self) -> None:
        sim = KicoxSimulator(kicox_seed(kicox_cluster("KC-1")), FaultSpec.parse("gateway=1"), service_key=SERVICE_KEY)
        with running(sim), httpx.Client(base_url=sim.url) as client:
            codes = {gateway_code(client.get(read_url(type="json")).content) for _ in range(12)}
        assert codes <= {"01", "02", "04", "05"}
        assert len(codes) > 1

    def test_kicox_xml_fault_answers_json_requests_in_xml(self) -> None:
        sim = KicoxSimulator(kicox_seed(kicox_cluster("KC-1")), FaultSpec.parse("xml=1"), service_key=SERVICE_KEY)
        with running(sim):
            response = httpx.get(f"{sim.url}{read_url(type='json')}")
        root = parse_xml(response.content)
        assert root.tag == "response"
        assert root.findtext("body/items/item/clstrId") == "KC-1"

    def test_token_endpoint_only_suffers_outages(self) -> None:
        with running(eccp_with("reset=1")) as sim:
            # the token is fetched despite reset=1; the API call with it is reset
            client = eccp_client(sim.url)
            with client, pytest.raises(httpx.ReadError):
                client.get(COLLECTION)

    def test_admin_routes_never_fail(self) -> None:
        with running(eccp_with("error503=0.5,reset=0.5")) as sim, AdminClient(sim.url) as admin:
            for _ in range(10):
                assert len(admin.records()) == 3
            assert admin.stats()["requests"] == 0


class TestReproducibility:
    """The same seed gives the same faults for the same requests; a write hit by a fault may or may not stand."""

    @staticmethod
    def sequence(spec: str, count: int = 40) -> list[str]:
        with running(eccp_with(spec)) as sim, httpx.Client(base_url=sim.url, timeout=0.5) as client:
            return [outcome(client, "GET", COLLECTION) for _ in range(count)]

    def test_same_seed_same_sequence(self) -> None:
        spec = "error503=0.2,reset=0.1,truncate=0.1,garble=0.1,seed=42"
        first = self.sequence(spec)
        assert first == self.sequence(spec)
        assert len(set(first)) >= 3
        assert first != self.sequence(spec.replace("seed=42", "seed=7"))

    def test_a_reset_write_was_applied_or_not(self) -> None:
        with running(eccp_with("reset=1,seed=3")) as sim, eccp_client(sim.url) as client:
            for n in range(20):
                with pytest.raises(httpx.ReadError):
                    jsonapi(client, "POST", COLLECTION, mirror_document(f"KC-{n}"))
            applied = {r["attributes"]["field_external_id"] for r in sim.records()} - {None}
            stats = sim.stats()
        assert 0 < len(applied) < 20
        assert stats["writes"] == 20
        assert stats["writes_applied"] == len(applied)
        assert stats["faults"] == {"reset": 20}
        assert stats["by_status"]["reset"] == 20


class TestRuntimeSwitches:
    """Faults change at run time through the admin API; stats count what the API answered."""

    def test_faults_and_stats_over_the_admin_api(self) -> None:
        with running(eccp_with("")) as sim, AdminClient(sim.url) as admin:
            assert httpx.get(f"{sim.url}{COLLECTION}").status_code == 401
            assert admin.set_faults("error503=1,retry_after=3") == "error503=1,retry_after=3"
            assert admin.faults() == "error503=1,retry_after=3"
            assert httpx.get(f"{sim.url}{COLLECTION}").status_code == 503
            stats = admin.stats()
            assert stats["requests"] == 2
            assert stats["by_status"] == {"401": 1, "503": 1}
            assert stats["faults"] == {"error503": 1}
            admin.set_faults("")
            admin.reset_stats()
            assert httpx.get(f"{sim.url}{COLLECTION}").status_code == 401
            assert admin.stats()["requests"] == 1

    def test_a_bad_spec_over_the_admin_api_is_400(self) -> None:
        with running(eccp_with("")) as sim, AdminClient(sim.url) as admin:
            with pytest.raises(httpx.HTTPStatusError) as raised:
                admin.set_faults("gateway=0.5")
            assert raised.value.response.status_code == 400
            assert "gateway" in raised.value.response.json()["error"]
