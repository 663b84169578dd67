"""A stop asked for by a signal (SIGTERM, SIGINT), safe whenever the signal lands.

Python runs a signal handler in the main thread between two steps of whatever that thread was doing, even of
another handler. A handler that takes a lock deadlocks when the signal lands while the main thread holds that
lock: `threading.Event.set()` takes its condition's lock, which the main thread holds for a moment inside every
`Event.wait()` (the daemon's idle loop) and inside the `set()` of a first signal's handler when a second signal
follows it at once. The handler here therefore takes no lock: it notes the signal and writes one byte to a pipe.
A watcher thread reads the pipe, logs the request and sets the event that sleeping threads wait on.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

import structlog

log = structlog.get_logger("clusterbridge.stopping")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequest:
    """Whether a stop was asked for, by a signal or by `set()`; `wait()` sleeps until it is."""

    def __init__(self) -> None:
        self._signal: int | None = None  # assigned by the handler: one store, no lock
        self._event = threading.Event()  # set by the watcher thread or by `set()`, never by the handler

    def is_set(self) -> bool:
        return self._signal is not None or self._event.is_set()

    def set(self) -> None:
        """Ask for a stop from code (any thread; never from a signal handler: use `on_signals`)."""
        self._event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until a stop is asked for or `timeout` passes; whether one was asked for."""
        return self._event.wait(timeout) or self.is_set()

    @contextmanager
    def on_signals(self, event: str, note: str, *, level: int = logging.WARNING,
                   second_interrupt_raises: bool = False) -> Iterator[StopRequest]:
        """Within the block, SIGTERM and SIGINT ask for a stop, each logged as `event` with `note`. With
        `second_interrupt_raises`, a SIGINT after the first stop request raises KeyboardInterrupt at once (an
        operator pressing Ctrl-C twice). The handlers in place before are put back when the block ends."""
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            if second_interrupt_raises and signum == signal.SIGINT and self._signal is not None:
                raise KeyboardInterrupt
            if self._signal is None:
                self._signal = signum
            with suppress(OSError):  # the pipe is full: the watcher has signals enough to read already
                os.write(write_end, bytes([signum]))

        def watch() -> None:
            while chunk := os.read(read_end, 64):
                for signum in chunk:
                    log.log(level, event, signal=signal.Signals(signum).name, note=note)
                self._event.set()

        watcher = threading.Thread(target=watch, name="stop-signals", daemon=True)
        watcher.start()
        previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            os.close(write_end)  # the watcher reads what is left, then the end of the pipe
            watcher.join(timeout=5)
            if not watcher.is_alive():
                os.close(read_end)

