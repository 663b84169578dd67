"""The shared pieces: the connector registry, the request window and the keyset window."""

from __future__ import annotations

import random
import threading
import time
from itertools import pairwise

import httpx
import pytest

from clusterbridge.config import HttpSettings
from clusterbridge.connectors import registry
from clusterbridge.connectors.eccp import EccpConnector
from clusterbridge.connectors.http import RequestWindow, ResilientClient
from clusterbridge.connectors.kicox import KicoxConnector
from clusterbridge.connectors.paging import KeysetWindow
from clusterbridge.errors import ConfigurationError
from clusterbridge.simulators import FaultSpec, KicoxSimulator
from clusterbridge.testing import kicox_seed, running
from tests.connectors.support import load_connector
from tests.simulators.simulator_support import API_KEY

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


class TestRequestWindow:
    """A request holds a place in the window from sending until a window after its answer, across threads."""

    def test_a_place_frees_a_window_after_the_answer(self) -> None:
        window = RequestWindow(2, window=0.3)
        assert window.acquire() == 0  # no wait at all: none is reported
        assert window.acquire() < 0.15 + 0.1  # spaced by window / limit
        third: list[float] = []
        waiter = threading.Thread(target=lambda: third.append(window.acquire()))
        waiter.start()
        time.sleep(0.5)  # both requests are still on the wire: however long that takes, no place frees
        assert third == []
        answered = time.monotonic()
        window.release()
        waiter.join(timeout=5)
        assert third
        assert time.monotonic() - answered >= 0.3 * 0.95
        assert third[0] >= 0.5 + 0.3 * 0.95  # what it waited is reported

    def test_threads_share_the_places(self) -> None:
        window = RequestWindow(5, window=0.2)
        sent: list[float] = []
        lock = threading.Lock()

        def worker() -> None:
            for _ in range(5):
                window.acquire()
                with lock:
                    sent.append(time.monotonic())
                time.sleep(0.05)  # on the wire
                window.release()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # twenty requests, five places: a place frees a window after its request was answered, so each five
        # take a window and a round trip (0.25 s), and the last starts after three of those and four spacings
        # (0.91 s); places freed from the sending, or the spacing alone, would let it start at 0.76 s
        assert len(sent) == 20
        assert max(sent) - started >= 0.9 * 0.95

    def test_the_requests_of_a_window_are_spread_over_it(self) -> None:
        window = RequestWindow(4, window=0.4)
        sent = []
        for _ in range(4):
            window.acquire()
            sent.append(time.monotonic())
            window.release()
        assert all(b - a >= 0.1 * 0.95 for a, b in pairwise(sent))

    @pytest.mark.parametrize(("rate", "limit", "seconds"), [(8, 8, 1.0), (2.5, 2, 1.0), (0.5, 1, 2.0), (1, 1, 1.0)])
    def test_a_rate_a_second_as_a_window(self, rate: float, limit: int, seconds: float) -> None:
        window = RequestWindow.per_second(rate)
        assert (window.limit, window.window) == (limit, seconds)

    def test_no_429_at_the_platforms_own_limit_however_requests_are_delayed(self) -> None:
        """Requests delayed at random on their way (a loaded client, a slow network) still never bunch into one
        second of the server's: the client runs at the simulator's own limit of 10 a second and draws no 429."""
        sim = KicoxSimulator(kicox_seed(), FaultSpec.parse("rate_limit=10,latency=0.01"), api_key=API_KEY)
        delays = random.Random(7)

        class Delayed(httpx.BaseTransport):
            def __init__(self) -> None:
                self.inner = httpx.HTTPTransport()

            def handle_request(self, request: httpx.Request) -> httpx.Response:
                time.sleep(delays.uniform(0, 0.15))  # between the client's window and the server's
                return self.inner.handle_request(request)

            def close(self) -> None:
                self.inner.close()

        with running(sim):
            http = ResilientClient("kicox", HttpSettings(base_url=sim.url, rate_limit=10, backoff_initial=0.01),
                                   transport=Delayed(), headers={"X-API-Key": API_KEY})

            def worker() -> None:
                for _ in range(8):
                    http.call("GET", "/api/v1/foreign-clusters", lambda response: response.raise_for_status())

            started = time.monotonic()
            threads = [threading.Thread(target=worker) for _ in range(5)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.monotonic() - started
            http.close()
            stats = sim.stats()
        assert stats["faults"].get("rate_limit", 0) == 0
        assert stats["requests"] == 40
        assert 40 / seconds > 5  # and it did not get there by crawling


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
