"""The ECCP connector against respx fakes: one test per habit of the contract; each fails if it is ignored."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr

from clusterbridge.abc import MirrorWrite
from clusterbridge.connectors.eccp import EccpConnector
from clusterbridge.connectors.eccp.models import EccpCluster
from clusterbridge.errors import ConfigurationError, PlatformError, RetryableError
from tests.connectors.support import create_eccp

from .conftest import ECCP_URL, FAST, FakeDrupal, eccp_resource, iso, make_settings

COLLECTION = f"{ECCP_URL}/jsonapi/node/cluster_organisation"
T0 = 1_780_000_000  # a unix second in 2026


def natives(connector: EccpConnector, since: datetime | None = None) -> list[EccpCluster]:
    return [r.wire for page in connector.iter_natives(since) for r in page.records if isinstance(r.wire, EccpCluster)]


def listing(data: list[dict[str, Any]], count: int | None = None, next_href: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"data": data, "links": {}, "meta": {"count": count if count is not None else len(data)}}
    if next_href:
        body["links"]["next"] = {"href": next_href}
    return httpx.Response(200, json=body)


def created(uid: str, **attrs: Any) -> httpx.Response:
    return httpx.Response(201, json={"data": {"type": "node--cluster_organisation", "id": uid, "attributes": attrs}})


class TestSettings:
    """Credentials come from the environment only, and a missing one names its variable."""

    def test_missing_secret_names_the_variable(self) -> None:
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_ECCP_CLIENT_SECRET"):
            create_eccp(make_settings(eccp_client_secret=None))

    def test_missing_client_id_names_the_variable(self) -> None:
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_ECCP_CLIENT_ID"):
            create_eccp(make_settings(eccp_client_id=None))

    def test_page_limit_above_the_cap_is_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="page_limit"):
            create_eccp(make_settings(), page_limit=51)

    def test_defaults_come_from_the_toml_and_env_url_wins(self) -> None:
        connector = create_eccp(make_settings())
        try:
            assert connector.settings.base_url == ECCP_URL
            assert connector.settings.rate_limit == 10
            assert connector.settings.partner_code == "kicox"
            assert connector.settings.page_limit == 50
        finally:
            connector.close()


class TestToken:
    """OAuth2 client credentials: fetched once, cached, refreshed early, re-fetched once on 401."""

    def test_token_is_fetched_once_and_sent_as_bearer(
        self, eccp: EccpConnector, router: respx.MockRouter, token_route: respx.Route
    ) -> None:
        route = router.get(COLLECTION).mock(return_value=listing([]))
        natives(eccp)
        natives(eccp)
        assert token_route.call_count == 1
        form = parse_qs(token_route.calls.last.request.content.decode())
        assert form == {
            "grant_type": ["client_credentials"],
            "client_id": ["demo-client"],
            "client_secret": ["demo-secret"],
        }
        assert route.calls.last.request.headers["Authorization"] == "Bearer tok-1"

    def test_token_is_refreshed_shortly_before_it_expires(
        self, settings: Any, transport: httpx.MockTransport, router: respx.MockRouter, token_route: respx.Route
    ) -> None:
        now = [1000.0]
        connector = create_eccp(settings, transport=transport, clock=lambda: now[0], **FAST)
        router.get(COLLECTION).mock(return_value=listing([]))
        natives(connector)
        now[0] += 250  # expires_in 300, margin 30: still good
        natives(connector)
        assert token_route.call_count == 1
        now[0] += 25  # 275 s: inside the margin
        natives(connector)
        assert token_route.call_count == 2

    def test_401_refetches_the_token_and_replays_once(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        tokens = router.post(f"{ECCP_URL}/oauth/token").mock(
            side_effect=[
                httpx.Response(200, json={"access_token": "old", "token_type": "Bearer", "expires_in": 300}),
                httpx.Response(200, json={"access_token": "new", "token_type": "Bearer", "expires_in": 300}),
            ]
        )
        sent: list[str] = []
        answers = [httpx.Response(401, json={"errors": []}), listing([])]

        def answer(request: httpx.Request) -> httpx.Response:
            sent.append(request.headers["Authorization"])  # read now: the replay reuses the request object
            return answers.pop(0)

        router.get(COLLECTION).mock(side_effect=answer)
        natives(eccp)
        assert tokens.call_count == 2
        assert sent == ["Bearer old", "Bearer new"]

    def test_401_twice_is_fatal(self, eccp: EccpConnector, router: respx.MockRouter, token_route: respx.Route) -> None:
        route = router.get(COLLECTION).mock(return_value=httpx.Response(401, json={"errors": []}))
        with pytest.raises(PlatformError, match="401"):
            natives(eccp)
        assert route.call_count == 2

    def test_bad_credentials_are_a_configuration_error(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        router.post(f"{ECCP_URL}/oauth/token").mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))
        with pytest.raises(ConfigurationError, match="CLUSTERBRIDGE_ECCP_CLIENT_SECRET") as info:
            natives(eccp)
        assert "demo-secret" not in str(info.value)

    def test_token_endpoint_503_is_retried(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        router.post(f"{ECCP_URL}/oauth/token").mock(
            side_effect=[
                httpx.Response(503, headers={"Retry-After": "0"}),
                httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": "300"}),
            ]
        )
        router.get(COLLECTION).mock(return_value=listing([]))
        assert natives(eccp) == []


@pytest.mark.usefixtures("token_route")
class TestNatives:
    """Native listing: origin filter, sort, paging, validation problems, mirrors never returned."""

    def test_query_asks_for_natives_sorted_by_changed_then_nid(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        route = router.get(COLLECTION).mock(return_value=listing([eccp_resource("a", T0, 1)]))
        assert [r.id for r in natives(eccp)] == ["a"]
        params = dict(route.calls.last.request.url.params)
        assert params["filter[field_origin]"] == "eccp"
        assert params["sort"] == "changed,drupal_internal__nid"
        assert params["page[limit]"] == "50"
        assert route.calls.last.request.headers["Accept"] == "application/vnd.api+json"

    def test_a_mirror_slipping_through_the_filter_is_dropped(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        router.get(COLLECTION).mock(
            return_value=listing([eccp_resource("a", T0, 1), eccp_resource("m", T0, 2, origin="kicox")])
        )
        assert [r.id for r in natives(eccp)] == ["a"]

    def test_full_listing_reports_meta_count(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        router.get(COLLECTION).mock(return_value=listing([eccp_resource("a", T0, 1)], count=1))
        pages = list(eccp.iter_natives())
        assert pages[0].reported_total == 1

    def test_bad_record_becomes_a_problem_and_the_page_goes_on(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        bad = eccp_resource("bad", T0, 1, field_country="Germany")
        greek = eccp_resource("gr", T0, 2, field_country="EL")
        router.get(COLLECTION).mock(return_value=listing([bad, greek]))
        (page,) = list(eccp.iter_natives())
        assert [r.native_id for r in page.records] == ["gr"]
        assert page.records[0].wire.attributes.field_country == "GR"
        (problem,) = page.problems
        assert (problem.source_id, problem.field) == ("bad", "field_country")
        assert problem.raw == bad

    def test_listing_walks_every_page(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        fake = FakeDrupal([eccp_resource(f"r{i:03}", T0 + i // 7, i) for i in range(130)])
        router.get(COLLECTION).mock(side_effect=fake)
        ids = [r.id for r in natives(eccp)]
        assert sorted(ids) == sorted(fake.records)
        assert len(ids) == len(set(ids))

    def test_more_than_a_page_sharing_one_second_is_complete(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        fake = FakeDrupal([eccp_resource(f"r{i:03}", T0, i) for i in range(120)] + [eccp_resource("z", T0 + 1, 999)])
        router.get(COLLECTION).mock(side_effect=fake)
        ids = [r.id for r in natives(eccp)]
        assert sorted(ids) == sorted(fake.records)
        assert len(ids) == len(set(ids))

    def test_a_record_edited_between_page_fetches_is_not_missed(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        # 100 records, two per second; after the first page, the first record is edited: it jumps to the
        # end, everything moves up one place, and plain offset paging would never see record r050
        fake = FakeDrupal([eccp_resource(f"r{i:03}", T0 + i // 2, i) for i in range(100)])

        def edit_once(server: FakeDrupal) -> None:
            if server.pages_served == 1:
                server.edit("r000", T0 + 1000)

        fake.after_page = edit_once
        router.get(COLLECTION).mock(side_effect=fake)
        seen = natives(eccp)
        assert {r.id for r in seen} == set(fake.records)
        # the edited record comes again, in its new version, so the caller ends with the latest one
        assert [r.attributes.changed for r in seen if r.id == "r000"][-1] == datetime.fromtimestamp(T0 + 1000, UTC)

    def test_plain_offset_paging_would_miss_it(self, router: respx.MockRouter) -> None:
        """Control for the test above: following links.next alone over the same fake loses a record."""
        fake = FakeDrupal([eccp_resource(f"r{i:03}", T0 + i // 2, i) for i in range(100)])
        fake.after_page = lambda s: s.edit("r000", T0 + 1000) if s.pages_served == 1 else None
        router.get(COLLECTION).mock(side_effect=fake)
        seen: set[str] = set()
        url: str | None = f"{COLLECTION}?filter[field_origin]=eccp&sort=changed,drupal_internal__nid&page[limit]=50"
        with httpx.Client(transport=httpx.MockTransport(router.handler)) as client:
            while url:
                body = client.get(url).json()
                seen.update(r["id"] for r in body["data"])
                url = body["links"].get("next", {}).get("href")
        assert "r050" not in seen

    def test_incremental_pull_overlaps_the_cursor_and_deduplicates(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        # three records share the cursor's second; one changed inside the overlap window
        records = [eccp_resource("early", T0 - 100, 1)] + [eccp_resource(f"s{i}", T0, 10 + i) for i in range(3)]
        fake = FakeDrupal([*records, eccp_resource("old", T0 - 10000, 0)])
        router.get(COLLECTION).mock(side_effect=fake)
        since = datetime.fromtimestamp(T0, UTC)
        ids = [r.id for r in natives(eccp, since)]
        assert sorted(ids) == ["early", "s0", "s1", "s2"]
        first = fake.queries[0]
        assert first["filter[changed][condition][value]"] == str(T0 - 300)
        assert first["filter[changed][condition][operator]"] == ">="
        assert first["filter[changed][condition][path]"] == "changed"

    def test_incremental_pages_are_duplicate_free_across_keyset_requeries(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        fake = FakeDrupal([eccp_resource(f"r{i:03}", T0 + i // 30, i) for i in range(200)])
        router.get(COLLECTION).mock(side_effect=fake)
        ids = [r.id for r in natives(eccp, datetime.fromtimestamp(T0, UTC))]
        assert len(ids) == len(set(ids)) == 200


@pytest.mark.usefixtures("token_route")
class TestResilience:
    """Passing faults are retried with backoff and Retry-After; the budget ends in a named PlatformError."""

    def test_429_waits_at_least_retry_after(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        router.get(COLLECTION).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), listing([])])
        started = time.monotonic()
        natives(eccp)
        assert time.monotonic() - started >= 1.0

    def test_503_timeouts_resets_and_garbled_bodies_are_retried_on_reads(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        route = router.get(COLLECTION).mock(
            side_effect=[
                httpx.Response(503, headers={"Retry-After": "0"}),
                httpx.ReadTimeout("timed out"),
                httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
                httpx.Response(200, content=b'{"data": [{"id'),
            ]
        )
        with pytest.raises(RetryableError):
            natives(eccp)
        assert route.call_count == 4  # max_attempts
        route.side_effect = None
        route.return_value = listing([eccp_resource("a", T0, 1)])
        assert [r.id for r in natives(eccp)] == ["a"]

    def test_spent_budget_names_platform_method_and_path_without_query(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        router.get(COLLECTION).mock(return_value=httpx.Response(503, headers={"Retry-After": "0"}))
        with pytest.raises(RetryableError) as info:
            natives(eccp)
        message = str(info.value)
        assert message.startswith("eccp: GET /jsonapi/node/cluster_organisation")
        assert "503" in message
        assert "filter" not in message
        assert "?" not in message

    def test_total_retry_time_is_bounded_even_against_a_long_retry_after(
        self, settings: Any, transport: httpx.MockTransport, router: respx.MockRouter
    ) -> None:
        connector = create_eccp(settings, transport=transport, **{**FAST, "max_retry_seconds": 0.5})
        route = router.get(COLLECTION).mock(return_value=httpx.Response(503, headers={"Retry-After": "30"}))
        started = time.monotonic()
        with pytest.raises(RetryableError, match="503"):
            natives(connector)
        assert time.monotonic() - started < 2
        assert route.call_count == 1  # waiting 30 s would overrun the budget: stop instead

    def test_every_request_has_a_timeout(self, eccp: EccpConnector) -> None:
        timeout = eccp.http._client.timeout
        assert timeout.read == FAST["timeout"]
        assert timeout.connect == FAST["connect_timeout"]


@pytest.mark.usefixtures("token_route")
class TestWrites:
    """Creates, updates and deletes of KICOX mirrors, with adoption and record-level problems."""

    def test_create_posts_json_api_with_origin_and_external_id(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        route = router.post(COLLECTION).mock(return_value=created("m-1"))
        (result,) = eccp.write([MirrorWrite("KC-000101", {"title": "Busan", "field_country": "KR"})])
        assert (result.action, result.mirror_id) == ("created", "m-1")
        request = route.calls.last.request
        assert request.headers["Content-Type"] == "application/vnd.api+json"
        assert request.headers["Accept"] == "application/vnd.api+json"
        body = json.loads(request.content)
        assert body["data"]["type"] == "node--cluster_organisation"
        assert body["data"]["attributes"]["field_origin"] == "kicox"
        assert body["data"]["attributes"]["field_external_id"] == "KC-000101"

    def test_409_adopts_the_existing_mirror_and_patches_it(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        router.post(COLLECTION).mock(
            return_value=httpx.Response(409, json={"errors": [{"status": "409", "meta": {"id": "m-9"}}]})
        )
        patch = router.patch(f"{COLLECTION}/m-9").mock(return_value=created("m-9"))
        (result,) = eccp.write([MirrorWrite("KC-1", {"title": "Busan", "field_country": "KR"})])
        assert (result.action, result.mirror_id) == ("adopted", "m-9")
        attributes = json.loads(patch.calls.last.request.content)["data"]["attributes"]
        assert attributes["title"] == "Busan"
        assert attributes["field_country"] == "KR"

    def test_patch_sends_only_changed_attributes(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        patch = router.patch(f"{COLLECTION}/m-1").mock(return_value=created("m-1"))
        previous = {"title": "Old", "field_country": "KR", "field_city": "Busan", "field_contact": {"name": "Kim"}}
        payload = {"title": "New", "field_country": "KR", "field_city": "Busan"}
        (result,) = eccp.write([MirrorWrite("KC-1", payload, mirror_id="m-1", previous=previous)])
        assert result.action == "updated"
        body = json.loads(patch.calls.last.request.content)
        assert body["data"]["id"] == "m-1"
        # the title changed; the contact is no longer rendered (it turned private) and is cleared
        assert body["data"]["attributes"] == {"title": "New", "field_contact": None}

    def test_unchanged_update_costs_no_request(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        patch = router.patch(f"{COLLECTION}/m-1").mock(return_value=created("m-1"))
        payload = {"title": "Same"}
        (result,) = eccp.write([MirrorWrite("KC-1", payload, mirror_id="m-1", previous=payload)])
        assert result.action == "unchanged"
        assert patch.call_count == 0

    def test_patch_404_recreates_the_mirror(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        router.patch(f"{COLLECTION}/m-1").mock(return_value=httpx.Response(404))
        post = router.post(COLLECTION).mock(return_value=created("m-2"))
        (result,) = eccp.write([MirrorWrite("KC-1", {"title": "T"}, mirror_id="m-1", previous={"title": "S"})])
        assert (result.action, result.mirror_id) == ("created", "m-2")
        assert json.loads(post.calls.last.request.content)["data"]["attributes"]["title"] == "T"

    def test_422_is_a_record_problem_naming_the_field(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        error = {
            "status": "422",
            "detail": "field_country: not a country code",
            "source": {"pointer": "/data/attributes/field_country"},
        }
        router.post(COLLECTION).mock(return_value=httpx.Response(422, json={"errors": [error]}))
        ok = router.patch(f"{COLLECTION}/m-2").mock(return_value=created("m-2"))
        results = eccp.write(
            [MirrorWrite("KC-1", {"field_country": "XX"}), MirrorWrite("KC-2", {"title": "N"}, "m-2", {"title": "O"})]
        )
        assert results[0].action == "failed"
        assert results[0].problem is not None
        assert results[0].problem.field == "field_country"
        assert results[0].problem.reason == "field_country: not a country code"
        assert results[0].problem.retryable is False
        assert results[1].action == "updated"
        assert ok.call_count == 1

    def test_403_is_a_non_retryable_record_problem(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        route = router.patch(f"{COLLECTION}/m-1").mock(
            return_value=httpx.Response(403, json={"errors": [{"detail": "not your mirror"}]})
        )
        (result,) = eccp.write([MirrorWrite("KC-1", {"title": "T"}, mirror_id="m-1")])
        assert result.action == "failed"
        assert result.problem is not None
        assert not result.problem.retryable
        assert route.call_count == 1

    def test_delete_treats_404_as_done(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        router.delete(f"{COLLECTION}/m-1").mock(return_value=httpx.Response(204))
        router.delete(f"{COLLECTION}/m-2").mock(return_value=httpx.Response(404))
        eccp.delete("KC-1", "m-1")
        eccp.delete("KC-2", "m-2")

    def test_timed_out_create_that_landed_is_adopted_not_resent(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        post = router.post(COLLECTION).mock(side_effect=httpx.ReadTimeout("timed out"))
        mirror = eccp_resource(
            "m-7", T0, 7, origin="kicox", field_external_id="KC-7", title="Busan", field_country="KR"
        )
        lookup = router.get(COLLECTION).mock(return_value=listing([mirror]))
        (result,) = eccp.write([MirrorWrite("KC-7", {"title": "Busan", "field_country": "KR"})])
        assert (result.action, result.mirror_id) == ("adopted", "m-7")
        assert post.call_count == 1
        params = dict(lookup.calls.last.request.url.params)
        assert params["filter[field_external_id]"] == "KC-7"
        assert params["filter[field_origin]"] == "kicox"

    def test_gateway_error_on_create_is_resolved_by_lookup(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        post = router.post(COLLECTION).mock(return_value=httpx.Response(502))
        mirror = eccp_resource("m-6", T0, 6, origin="kicox", field_external_id="KC-6", title="T")
        router.get(COLLECTION).mock(return_value=listing([mirror]))
        (result,) = eccp.write([MirrorWrite("KC-6", {"title": "T"})])
        assert (result.action, result.mirror_id) == ("adopted", "m-6")
        assert post.call_count == 1

    def test_truncated_create_answer_that_did_not_land_is_sent_again(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        post = router.post(COLLECTION).mock(
            side_effect=[httpx.RemoteProtocolError("incomplete message body"), created("m-8")]
        )
        router.get(COLLECTION).mock(return_value=listing([]))
        (result,) = eccp.write([MirrorWrite("KC-8", {"title": "T"})])
        assert (result.action, result.mirror_id) == ("created", "m-8")
        assert post.call_count == 2

    def test_garbled_201_is_resolved_by_lookup(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        post = router.post(COLLECTION).mock(return_value=httpx.Response(201, content=b'{"data": {"id": "m-'))
        mirror = eccp_resource("m-5", T0, 5, origin="kicox", field_external_id="KC-5", title="T")
        router.get(COLLECTION).mock(return_value=listing([mirror]))
        (result,) = eccp.write([MirrorWrite("KC-5", {"title": "T"})])
        assert (result.action, result.mirror_id) == ("adopted", "m-5")
        assert post.call_count == 1

    def test_connect_error_before_sending_is_retried_directly(
        self, eccp: EccpConnector, router: respx.MockRouter
    ) -> None:
        post = router.post(COLLECTION).mock(side_effect=[httpx.ConnectError("refused"), created("m-3")])
        lookup = router.get(COLLECTION).mock(return_value=listing([]))
        (result,) = eccp.write([MirrorWrite("KC-3", {"title": "T"})])
        assert result.action == "created"
        assert post.call_count == 2
        assert lookup.call_count == 0

    def test_create_429_is_retried_without_lookup(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        post = router.post(COLLECTION).mock(
            side_effect=[httpx.Response(429, headers={"Retry-After": "0"}), created("m")]
        )
        lookup = router.get(COLLECTION).mock(return_value=listing([]))
        (result,) = eccp.write([MirrorWrite("KC-4", {"title": "T"})])
        assert result.action == "created"
        assert post.call_count == 2
        assert lookup.call_count == 0


@pytest.mark.usefixtures("token_route")
class TestMirrors:
    """The partner's own mirrors: listed by origin, found by external id."""

    def test_iter_mirrors_filters_on_the_partner_code(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        m = eccp_resource("m-1", T0, 1, origin="kicox", field_external_id="KC-1")
        route = router.get(COLLECTION).mock(return_value=listing([m, eccp_resource("n", T0, 2)]))
        (page,) = list(eccp.iter_mirrors())
        assert [(x.mirror_id, x.external_id) for x in page] == [("m-1", "KC-1")]
        assert page[0].changed == datetime.fromisoformat(iso(T0))
        assert dict(route.calls.last.request.url.params)["filter[field_origin]"] == "kicox"

    def test_find_mirror(self, eccp: EccpConnector, router: respx.MockRouter) -> None:
        m = eccp_resource("m-1", T0, 1, origin="kicox", field_external_id="KC-1")
        router.get(COLLECTION).mock(side_effect=FakeDrupal([m]))
        found = eccp.find_mirror("KC-1")
        assert found is not None
        assert found.mirror_id == "m-1"
        assert eccp.find_mirror("KC-2") is None


def test_secret_never_in_errors(router: respx.MockRouter, transport: httpx.MockTransport) -> None:
    settings = make_settings(eccp_client_secret=SecretStr("s3cr3t-value"))
    connector = create_eccp(settings, transport=transport, **FAST)
    router.post(f"{ECCP_URL}/oauth/token").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(RetryableError) as info:
        natives(connector)
    assert "s3cr3t-value" not in str(info.value)
