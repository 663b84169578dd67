"""Reading a listing one page ahead: the next page is on the wire while the engine plans the one it has.

A listing's pages still come one after the other (ECCP's keyset paging needs each page to ask for the next), in
one thread of their own; what changes is that the engine no longer waits for the network between pages. Pages,
the end and any error reach the consumer in the order the listing produced them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar, cast

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"
# how long `close()` waits for the reading thread to end. A thread still reading then (a request on the wire, or
# waiting out a Retry-After) is left to end on its own: it holds no lock and writes nothing, and the page it
# brings is dropped, so a stop request is never held up by a page nobody will plan.
CLOSE_WAIT_SECONDS = 0.5


class Prefetched(Generic[T]):
    """Iterate `source` in a thread of its own, at most `ahead` items ahead of the consumer.

    `close()` (also on leaving a `with` block) asks the reading thread to stop after the item it is reading,
    and closes `source` there; an item read ahead that nobody takes is dropped (a listing page: a read, never a
    write)."""

    def __init__(self, source: Iterator[T], *, ahead: int = 1, name: str = "prefetch") -> None:
        if ahead < 1:
            raise ValueError("ahead must be at least 1")
        self._source = source
        self._queue: queue.Queue[tuple[str, T | BaseException | None]] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for item in self._source:
                if not self._offer(_ITEM, item):
                    return
            self._offer(_END, None)
        except BaseException as exc:  # handed to the consumer, who raises it where the listing broke
            self._offer(_ERROR, exc)
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()

    def _offer(self, kind: str, value: T | BaseException | None) -> bool:
        """Queue one entry, waiting for room; False when the consumer has closed the iterator."""
        while not self._stop.is_set():
            try:
                self._queue.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == _ITEM:
            return cast(T, value)
        self._finished = True
        if isinstance(value, BaseException):
            raise value
        raise StopIteration

    def close(self) -> None:
        self._finished = True
        self._stop.set()
        while True:  # make room, so a reading thread waiting to queue sees the stop
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(CLOSE_WAIT_SECONDS)

    def __enter__(self) -> Prefetched[T]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
