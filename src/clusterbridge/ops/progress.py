"""Progress of a long run, per direction: a bar for a person at a terminal, log lines for everyone else.

The engine calls `Progress.direction(name, total)` when a direction starts and reports on the handle it
gets; it never knows which kind it talks to. `choose_progress` picks the kind for the process.
"""

from __future__ import annotations

import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TextIO

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichBar

log = structlog.get_logger("clusterbridge.progress")


class DirectionProgress(ABC):
    """One direction's progress: records done out of a total that may be unknown until the listing ends."""

    @abstractmethod
    def advance(self, n: int = 1) -> None:
        """`n` more records are done."""

    @abstractmethod
    def set_total(self, total: int | None) -> None:
        """The number of records the direction will handle, once known (None: still unknown)."""

    @abstractmethod
    def phase(self, text: str) -> None:
        """What the direction is doing now, in a few words ("pulling", "writing")."""

    @abstractmethod
    def close(self) -> None:
        """The direction ended; further calls are ignored."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Progress(ABC):
    """Hands out a `DirectionProgress` per direction of a run."""

    @abstractmethod
    def direction(self, name: str, total: int | None = None) -> DirectionProgress:
        """Start reporting on direction `name`."""

    @abstractmethod
    def close(self) -> None:
        """The run ended (a bar leaves the terminal clean)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --- silent ----------------------------------------------------------------------------------------------


class _SilentDirection(DirectionProgress):
    def advance(self, n: int = 1) -> None:
        pass

    def set_total(self, total: int | None) -> None:
        pass

    def phase(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class SilentProgress(Progress):
    """Reports nothing: for tests, scripts that parse output, and the quiet flag."""

    def direction(self, name: str, total: int | None = None) -> DirectionProgress:
        return _SilentDirection()

    def close(self) -> None:
        pass


# --- log lines -------------------------------------------------------------------------------------------


class LogProgress(Progress):
    """Structured `progress` lines (done, total, rate per second, seconds left), at most one per `interval`
    seconds per direction, and one `progress.done` line when a direction closes."""

    def __init__(self, interval: float = 10.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self._clock = clock

    def direction(self, name: str, total: int | None = None) -> DirectionProgress:
        return _LoggedDirection(name, total, self.interval, self._clock)

    def close(self) -> None:
        pass  # each direction has said its last line when it closed


class _LoggedDirection(DirectionProgress):
    def __init__(self, name: str, total: int | None, interval: float, clock: Callable[[], float]) -> None:
        self._name = name
        self._total = total
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._started = self._last_line = clock()
        self._done = 0
        self._phase: str | None = None
        self._closed = False

    def advance(self, n: int = 1) -> None:
        with self._lock:
            if self._closed:
                return
            self._done += n
            now = self._clock()
            if now - self._last_line < self._interval:
                return
            self._last_line = now
            fields = self._fields(now)
        log.info("progress", **fields)

    def set_total(self, total: int | None) -> None:
        with self._lock:
            self._total = total

    def phase(self, text: str) -> None:
        with self._lock:
            self._phase = text

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            fields = self._fields(self._clock())
        fields.pop("eta_seconds", None)
        log.info("progress.done", **fields)

    def _fields(self, now: float) -> dict[str, Any]:
        elapsed = now - self._started
        rate = self._done / elapsed if elapsed > 0 else None
        fields: dict[str, Any] = {"direction": self._name, "done": self._done}
        if self._total is not None:
            fields["total"] = self._total
        if self._phase is not None:
            fields["phase"] = self._phase
        fields["elapsed_seconds"] = round(elapsed, 1)
        if rate is not None:
            fields["rate_per_second"] = round(rate, 2)
        if self._total is not None and rate:
            fields["eta_seconds"] = round(max(0, self._total - self._done) / rate, 1)
        return fields


# --- terminal bar ----------------------------------------------------------------------------------------


class RichProgress(Progress):
    """A `rich` bar per direction, on `console` (stderr by default)."""

    def __init__(self, console: Console | None = None) -> None:
        self._bar = RichBar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console if console is not None else Console(stderr=True),
        )
        self._lock = threading.Lock()
        self._live = False

    def direction(self, name: str, total: int | None = None) -> DirectionProgress:
        with self._lock:
            if not self._live:
                self._bar.start()
                self._live = True
        return _RichDirection(self._bar, name, self._bar.add_task(name, total=total))

    def close(self) -> None:
        with self._lock:
            if self._live:
                self._bar.stop()
                self._live = False


class _RichDirection(DirectionProgress):
    def __init__(self, bar: RichBar, name: str, task: TaskID) -> None:
        self._bar = bar
        self._name = name
        self._task = task
        self._closed = False

    def advance(self, n: int = 1) -> None:
        if not self._closed:
            self._bar.advance(self._task, n)

    def set_total(self, total: int | None) -> None:
        if not self._closed:
            self._bar.update(self._task, total=total)

    def phase(self, text: str) -> None:
        if not self._closed:
            self._bar.update(self._task, description=f"{self._name}: {text}")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        task = self._bar.tasks[self._task]
        # a direction that ends is complete, whatever total it announced
        self._bar.update(self._task, total=task.completed, description=self._name)
        self._bar.stop_task(self._task)


def choose_progress(
    *, log_format: str = "console", stream: TextIO | None = None, interval: float = 10.0, quiet: bool = False
) -> Progress:
    """The kind that suits the process: silence when `quiet`; a bar when `stream` (stderr) is a terminal and
    logs are for people; else log lines every `interval` seconds (JSON logs must stay one object a line)."""
    if quiet:
        return SilentProgress()
    out = stream if stream is not None else sys.stderr
    if log_format == "console" and out.isatty():
        return RichProgress(Console(file=out))
    return LogProgress(interval)
