"""Reading a listing one page ahead keeps its order, its end and its errors, and stops when asked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from clusterbridge.errors import QuotaExhausted
from clusterbridge.sync.prefetch import Prefetched


def test_items_the_end_and_nothing_after_it_come_in_order() -> None:
    pages = Prefetched(iter(range(50)), ahead=2)
    assert list(pages) == list(range(50))
    assert list(pages) == []
    pages.close()


def test_an_error_arrives_after_the_pages_before_it_and_ends_the_listing() -> None:
    def listing() -> Iterator[int]:
        yield 1
        yield 2
        raise QuotaExhausted("KICOX", "daily quota spent")

    pages = Prefetched(listing())
    assert next(pages) == 1
    assert next(pages) == 2
    with pytest.raises(QuotaExhausted, match="daily quota spent"):
        next(pages)
    with pytest.raises(StopIteration):
        next(pages)
    pages.close()


def test_the_next_page_is_read_while_the_consumer_works_on_this_one() -> None:
    asked: list[int] = []
    second_asked = threading.Event()

    def listing() -> Iterator[int]:
        for n in range(3):
            asked.append(n)
            if n == 1:
                second_asked.set()
            yield n

    with Prefetched(listing()) as pages:
        assert next(pages) == 0
        # the consumer has not asked for page 1, yet it is read
        assert second_asked.wait(5), "the second page was not read ahead"
        assert list(pages) == [1, 2]


def test_close_stops_the_reading_and_closes_the_source_in_its_thread() -> None:
    closed = threading.Event()
    read: list[int] = []

    def listing() -> Iterator[int]:
        try:
            for n in range(1_000):
                read.append(n)
                yield n
        finally:
            closed.set()

    pages = Prefetched(listing(), ahead=1)
    assert next(pages) == 0
    pages.close()
    assert closed.wait(5), "the source was not closed"
    assert len(read) <= 3  # at most the pages already read ahead: the reading stopped
    with pytest.raises(StopIteration):
        next(pages)


def test_a_stop_is_not_held_up_by_a_page_still_on_the_wire() -> None:
    release = threading.Event()

    def listing() -> Iterator[int]:
        yield 0
        release.wait(30)  # the next page's request waits out a long Retry-After
        yield 1

    pages = Prefetched(listing())
    assert next(pages) == 0
    started = time.monotonic()
    pages.close()
    assert time.monotonic() - started < 3
    release.set()


def test_ahead_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Prefetched(iter(()), ahead=0)
