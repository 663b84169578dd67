"""The shared pieces: the connector registry, the token bucket and the keyset window."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from clusterbridge.connectors import registry
from clusterbridge.connectors.eccp import EccpConnector
from clusterbridge.connectors.http import TokenBucket
from clusterbridge.connectors.kicox import KicoxConnector
from clusterbridge.connectors.paging import KeysetWindow
from clusterbridge.errors import ConfigurationError
from tests.connectors.support import load_connector

from .conftest import make_settings


class TestRegistry:
    """Connectors are found by entry point, once, in a mapping nobody can change."""

    def test_both_connectors_are_installed(self) -> None:
        assert set(registry()) >= {"eccp", "kicox"}

    def test_registry_is_read_only(self) -> None:
        with pytest.raises(TypeError):
            registry()["x"] = registry()["eccp"]  # type: ignore[index]

    def test_load_builds_with_overrides(self) -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(500))
        eccp = load_connector("eccp", make_settings(), transport=transport, page_limit=10)
        kicox = load_connector("kicox", make_settings(), transport=transport)
        try:
            assert isinstance(eccp, EccpConnector)
            assert eccp.settings.page_limit == 10
            assert isinstance(kicox, KicoxConnector)
        finally:
            eccp.close()
            kicox.close()

    def test_unknown_connector_is_named(self) -> None:
        with pytest.raises(ConfigurationError, match=r"'papago'.*eccp, files, kicox"):
            load_connector("papago", make_settings())


class TestTokenBucket:
    """The client-side rate limit spaces requests at the configured rate, across threads."""

    def test_spacing_with_a_fake_clock(self) -> None:
        now = [0.0]
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)

        bucket = TokenBucket(4, clock=lambda: now[0], sleep=sleep)
        for _ in range(5):
            bucket.acquire()
        # the first is free; the reservations queue up a quarter second apart
        assert slept == pytest.approx([0.25, 0.5, 0.75, 1.0])

    def test_threads_share_the_rate(self) -> None:
        bucket = TokenBucket(100)
        stamps: list[float] = []
        lock = threading.Lock()

        def worker() -> None:
            for _ in range(10):
                bucket.acquire()
                with lock:
                    stamps.append(time.monotonic())

        threads = [threading.Thread(target=worker) for _ in range(4)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(stamps) == 40
        # shared: four threads together wait as long as one thread taking forty tokens would. (The spacing of
        # the reservations is proven with a fake clock elsewhere; real threads may wake late in bunches on a
        # loaded machine, so their wake-up times say nothing about the bucket.)
        assert time.monotonic() - started >= 39 / 100 * 0.95


class TestKeysetWindow:
    """The keyset window moves by `changed`, steps by offset only inside one crowded second."""

    def test_moves_the_floor_and_forgets_older_ids(self) -> None:
        window = KeysetWindow(None, page_size=3)
        rows = [("a", 1), ("b", 2), ("c", 2)]
        assert all(window.fresh(k, c) for k, c in rows)
        assert window.advance(rows, more=True)
        assert (window.floor, window.offset) == (2, 0)
        assert not window.fresh("b", 2)
        assert window.fresh("a", 5)  # changed again since it was given: given again

    def test_crowded_second_steps_by_offset_less_rewind(self) -> None:
        window = KeysetWindow(7, page_size=10, rewind=2)
        rows = [(f"r{i}", 7) for i in range(10)]
        assert window.advance(rows, more=True)
        assert (window.floor, window.offset) == (7, 8)

    def test_ends_without_more(self) -> None:
        assert not KeysetWindow(None, page_size=5).advance([("a", 1)], more=False)
