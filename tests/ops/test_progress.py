"""Progress of long runs: throttled log lines with rate and time left, a terminal bar, and silence."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from structlog.testing import capture_logs

from clusterbridge.ops.progress import (
    LogProgress,
    RichProgress,
    SilentProgress,
    choose_progress,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def progress_lines(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"].startswith("progress")]


class TestLogProgress:
    """At most one line per interval, carrying done, total, rate per second and seconds left."""

    def test_lines_are_throttled_to_the_interval(self) -> None:
        clock = Clock()
        with capture_logs() as logs:
            direction = LogProgress(interval=10, clock=clock).direction("eccp-to-kicox", total=1000)
            for _ in range(100):  # 100 records over 25 seconds, one every 0.25 s
                clock.now += 0.25
                direction.advance()
        lines = progress_lines(logs)
        assert [line["done"] for line in lines] == [40, 80]
        assert all(line["log_level"] == "info" for line in lines)

    def test_rate_and_eta(self) -> None:
        clock = Clock()
        with capture_logs() as logs:
            direction = LogProgress(interval=5, clock=clock).direction("kicox-to-eccp")
            direction.set_total(300)
            direction.phase("writing")
            clock.now += 10
            direction.advance(50)  # 5 records a second; 250 left is 50 seconds
        (line,) = progress_lines(logs)
        assert line == {
            "event": "progress", "log_level": "info", "direction": "kicox-to-eccp", "done": 50, "total": 300,
            "phase": "writing", "elapsed_seconds": 10.0, "rate_per_second": 5.0, "eta_seconds": 50.0,
        }

    def test_unknown_total_has_no_eta(self) -> None:
        clock = Clock()
        with capture_logs() as logs:
            direction = LogProgress(interval=1, clock=clock).direction("eccp-to-kicox")
            clock.now += 2
            direction.advance(10)
        (line,) = progress_lines(logs)
        assert line["rate_per_second"] == 5.0
        assert "eta_seconds" not in line
        assert "total" not in line

    def test_close_says_the_last_word_once(self) -> None:
        clock = Clock()
        with capture_logs() as logs:
            direction = LogProgress(interval=60, clock=clock).direction("eccp-to-kicox", total=8)
            clock.now += 4
            direction.advance(8)
            direction.close()
            direction.close()
            direction.advance()  # after close: ignored
        assert progress_lines(logs) == [{
            "event": "progress.done", "log_level": "info", "direction": "eccp-to-kicox", "done": 8, "total": 8,
            "elapsed_seconds": 4.0, "rate_per_second": 2.0,
        }]

    def test_interval_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="interval"):
            LogProgress(interval=0)


class TestRichProgress:
    """The bar renders on any console, a terminal or not, and completes each direction."""

    def test_renders_to_a_non_terminal_console(self) -> None:
        out = io.StringIO()
        console = Console(file=out, force_terminal=False, width=100)
        with RichProgress(console) as progress:
            with progress.direction("eccp-to-kicox", total=None) as first:
                first.phase("pulling")
                first.set_total(5)
                first.advance(3)
                first.advance(2)
            with progress.direction("kicox-to-eccp") as second:
                second.advance(7)  # total never announced: complete at close
        text = out.getvalue()
        assert "eccp-to-kicox" in text
        assert "5/5" in text
        assert "7/7" in text


class TestChoice:
    """A bar only for a person at a terminal; log lines for pipes and JSON logs; silence when quiet."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def test_terminal_gets_the_bar(self) -> None:
        assert isinstance(choose_progress(stream=self.Tty()), RichProgress)

    def test_pipe_gets_log_lines_at_the_interval(self) -> None:
        progress = choose_progress(stream=io.StringIO(), interval=3)
        assert isinstance(progress, LogProgress)
        assert progress.interval == 3

    def test_json_logs_get_log_lines_even_on_a_terminal(self) -> None:
        assert isinstance(choose_progress(log_format="json", stream=self.Tty()), LogProgress)

    def test_quiet_is_silent(self) -> None:
        progress = choose_progress(quiet=True, stream=self.Tty())
        assert isinstance(progress, SilentProgress)
        with capture_logs() as logs:
            progress.direction("eccp-to-kicox", total=3).advance(3)
        assert logs == []
