"""One contract suite, run over both connectors against their simulators: what the sync engine relies on from
any Connector, whatever the platform."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from clusterbridge.abc import Connector, MirrorRecord, MirrorWrite
from clusterbridge.simulators import EccpSimulator, KicoxSimulator
from clusterbridge.testing import eccp_attributes, eccp_seed, foreign_cluster, kicox_cluster, kicox_seed, running
from tests.connectors.support import load_connector

from .conftest import make_settings

FAST: dict[str, Any] = {"backoff_initial": 0.001, "backoff_max": 0.01, "rate_limit": 200, "timeout": 2}
NATIVES = 60


@dataclass
class Platform:
    connector: Connector
    native_ids: set[str]
    payload: Callable[[str], dict[str, Any]]
    external_id: Callable[[int], str]


def _eccp() -> Iterator[Platform]:
    ids = [str(uuid.uuid4()) for _ in range(NATIVES)]
    seed = eccp_seed(*(eccp_attributes(title=f"N{i}", changed=1_780_000_000 + i // 5) for i in range(NATIVES)), ids=ids)
    with running(EccpSimulator(seed=seed)) as sim:
        connector = load_connector("eccp", make_settings(eccp_base_url=sim.url), page_limit=20, **FAST)
        try:
            yield Platform(
                connector,
                set(ids),
                lambda name: eccp_attributes(title=name, field_country="KR"),
                lambda i: f"KC-{i:06}",
            )
        finally:
            connector.close()


def _kicox() -> Iterator[Platform]:
    clusters = [kicox_cluster(f"KC-{i:06}", updtDt=f"202610150930{i // 5:02}") for i in range(NATIVES)]
    with running(KicoxSimulator(seed=kicox_seed(*clusters), service_key="k+/=", api_key="api")) as sim:
        settings = make_settings(
            kicox_base_url=sim.url, kicox_service_key=SecretStr("k+/="), kicox_api_key=SecretStr("api")
        )
        connector = load_connector("kicox", settings, num_of_rows=20, **FAST)
        try:
            yield Platform(
                connector,
                {c["clstrId"] for c in clusters},
                lambda name: foreign_cluster("x", clstrEngNm=name),
                lambda i: f"eccp:{uuid.UUID(int=i)}",
            )
        finally:
            connector.close()


@pytest.fixture(params=["eccp", "kicox"])
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    yield from (_eccp() if request.param == "eccp" else _kicox())


def native_ids(connector: Connector, since: datetime | None = None) -> list[str]:
    ids = []
    for page in connector.iter_natives(since):
        ids.extend(record.native_id for record in page.records)
    return ids


def mirror_of(connector: Connector, external_id: str) -> MirrorRecord | None:
    """The mirror carrying `external_id`, as the target's own listing shows it."""
    return next((m for page in connector.iter_mirrors() for m in page if m.external_id == external_id), None)


class TestContract:
    """Behaviour every connector keeps."""

    def test_full_listing_is_complete_duplicate_free_and_counted(self, platform: Platform) -> None:
        pages = list(platform.connector.iter_natives())
        ids = native_ids(platform.connector)
        assert len(ids) == len(set(ids))
        assert set(ids) == platform.native_ids
        assert pages[0].reported_total == NATIVES

    def test_incremental_from_the_future_is_empty_and_from_the_past_is_everything(self, platform: Platform) -> None:
        future = datetime.now(UTC) + timedelta(days=3650)
        assert native_ids(platform.connector, future) == []
        assert set(native_ids(platform.connector, datetime(2000, 1, 1, tzinfo=UTC))) == platform.native_ids

    def test_mirrors_are_created_once_found_listed_and_deleted(self, platform: Platform) -> None:
        c = platform.connector
        writes = [MirrorWrite(platform.external_id(i), platform.payload(f"Mirror {i}")) for i in range(5)]
        first = c.write(writes)
        assert [r.action for r in first] == ["created"] * 5
        second = c.write(writes)
        assert all(r.action in {"adopted", "unchanged"} for r in second)
        listed = [m for page in c.iter_mirrors() for m in page]
        assert sorted(m.external_id for m in listed) == sorted(w.external_id for w in writes)
        found = mirror_of(c, writes[0].external_id)
        assert found is not None
        assert found.mirror_id == first[0].mirror_id
        c.delete(found.external_id, found.mirror_id)
        c.delete(found.external_id, found.mirror_id)  # already gone: done
        assert mirror_of(c, writes[0].external_id) is None
        c.delete(writes[1].external_id, None)  # found by its external id
        assert mirror_of(c, writes[1].external_id) is None

    def test_mirrors_never_come_back_as_natives(self, platform: Platform) -> None:
        platform.connector.write([MirrorWrite(platform.external_id(99), platform.payload("Echo"))])
        assert set(native_ids(platform.connector)) == platform.native_ids
