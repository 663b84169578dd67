"""Logging: one set-up for structlog and the standard library, JSON lines for collectors, secrets masked."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from clusterbridge import logs

SECRET = "Zx9+Qk/3w-s3cr3t=="

# Logs through every path the service has: structlog, the standard library (as the mapper and alembic do),
# APScheduler (whose job error carries a traceback), a warning, handled exceptions and an uncaught one.
SCRIPT = textwrap.dedent(
    """
    import logging
    import threading
    import warnings
    from datetime import UTC, datetime

    import structlog
    from apscheduler.schedulers.background import BackgroundScheduler

    from clusterbridge import logs
    from clusterbridge.config import load_settings

    settings = load_settings()
    secret = settings.kicox_service_key.get_secret_value()
    logs.configure(settings.log_format, settings.log_level, secrets=[secret])

    log = structlog.get_logger("clusterbridge.sync")
    mapper = logging.getLogger("clusterbridge.mapping.mapper")
    log.info("sync.started", direction="eccp-to-kicox", service_key=secret)
    log.info("sync.called", url=f"/openapi/clusters?serviceKey={secret}&pageNo=1")
    log.debug("sync.detail")
    log.warning("sync.slow", seconds=12)
    mapper.info("mapped %d records", 3)
    mapper.debug("mapper detail")
    mapper.warning("no KSIC code for %s (called with key %s)", "C10", secret)
    logging.getLogger("alembic.runtime.migration").info("Running upgrade  -> 0001, ledger")

    ran = threading.Event()

    def job():
        ran.set()
        raise ZeroDivisionError("job broke with " + secret)

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(job, "interval", hours=1, next_run_time=datetime.now(UTC), id="sync")
    scheduler.start()
    ran.wait(10)
    scheduler.shutdown(wait=True)

    try:
        raise ValueError("bad record\\nsecond line " + secret)
    except ValueError:
        log.exception("sync.record_failed")
        mapper.exception("mapper failed")
    warnings.warn("setting X is deprecated\\nuse Y", UserWarning, stacklevel=1)
    raise RuntimeError("fatal: " + secret)
    """
)


def run_script(tmp_path: Path, log_format: str, level: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "log_everything.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERBRIDGE_")}
    env.update(CLUSTERBRIDGE_LOG_FORMAT=log_format, CLUSTERBRIDGE_LOG_LEVEL=level,
               CLUSTERBRIDGE_KICOX_SERVICE_KEY=SECRET, PYTHONWARNINGS="default")
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def json_lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """Every line of stdout and stderr, each of which must be one JSON object."""
    lines = (result.stdout + result.stderr).splitlines()
    parsed = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line!r}\n--- stderr ---\n{result.stderr}")
        assert isinstance(entry, dict), line
        parsed.append(entry)
    return parsed


def events(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["event"]: entry for entry in entries}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One run of the script with JSON lines at level Info (mixed case on purpose)."""
    return run_script(tmp_path_factory.mktemp("json"), "json", "Info")


@pytest.fixture(scope="module")
def entries(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return json_lines(result)


class TestJsonLines:
    """With CLUSTERBRIDGE_LOG_FORMAT=json every line on stdout and stderr is one JSON object."""

    def test_every_line_parses_and_the_secret_never_appears(
        self, result: subprocess.CompletedProcess[str], entries: list[dict[str, Any]]
    ) -> None:
        assert result.returncode == 1  # the uncaught error still fails the process
        assert len(entries) >= 12
        assert SECRET not in result.stdout + result.stderr
        assert all({"event", "level", "timestamp"} <= entry.keys() for entry in entries)

    def test_structlog_lines_are_redacted_fields(self, entries: list[dict[str, Any]]) -> None:
        by_event = events(entries)
        assert by_event["sync.started"]["service_key"] == "***"
        assert by_event["sync.called"]["url"] == "/openapi/clusters?serviceKey=***&pageNo=1"
        assert by_event["sync.slow"]["level"] == "warning"

    def test_standard_library_lines_carry_their_logger(self, entries: list[dict[str, Any]]) -> None:
        by_event = events(entries)
        assert by_event["mapped 3 records"]["logger"] == "clusterbridge.mapping.mapper"
        assert by_event["no KSIC code for C10 (called with key ***)"]["level"] == "warning"
        assert by_event["Running upgrade  -> 0001, ledger"]["logger"] == "alembic.runtime.migration"
        assert "Scheduler started" in by_event
        assert by_event["Scheduler started"]["logger"] == "apscheduler.scheduler"

    def test_tracebacks_are_a_field(self, entries: list[dict[str, Any]]) -> None:
        with_traceback = {entry["event"]: entry["exception"] for entry in entries if "exception" in entry}
        job_error = next(text for event, text in with_traceback.items() if "raised an exception" in event)
        assert "ZeroDivisionError: job broke with ***" in job_error
        assert with_traceback["sync.record_failed"].startswith("Traceback (most recent call last):")
        assert "ValueError: bad record\nsecond line ***" in with_traceback["sync.record_failed"]
        assert "ValueError: bad record" in with_traceback["mapper failed"]
        assert "RuntimeError: fatal: ***" in with_traceback["uncaught_exception"]

    def test_warnings_are_captured(self, entries: list[dict[str, Any]]) -> None:
        (warning,) = [entry for entry in entries if entry.get("logger") == "py.warnings"]
        assert "UserWarning: setting X is deprecated\nuse Y" in warning["event"]

    def test_debug_lines_stay_below_info(self, entries: list[dict[str, Any]]) -> None:
        assert not {"sync.detail", "mapper detail"} & {entry["event"] for entry in entries}


class TestLevels:
    """CLUSTERBRIDGE_LOG_LEVEL, in any letter case, holds for structlog and standard library loggers alike."""

    def test_warning_level_silences_info_everywhere(self, tmp_path: Path) -> None:
        entries = json_lines(run_script(tmp_path, "json", "WARNING"))
        levels = {entry["level"] for entry in entries}
        assert levels <= {"warning", "error", "critical"}
        names = {entry["event"] for entry in entries}
        assert "sync.slow" in names
        assert "no KSIC code for C10 (called with key ***)" in names
        assert not {"sync.started", "mapped 3 records", "Scheduler started"} & names

    def test_debug_level_lets_debug_through(self, tmp_path: Path) -> None:
        names = {entry["event"] for entry in json_lines(run_script(tmp_path, "json", "debug"))}
        assert {"sync.detail", "mapper detail"} <= names

    @pytest.mark.parametrize("name", ["INFO", "Info", "info", " info "])
    def test_level_names_in_any_case(self, name: str) -> None:
        assert logs.parse_level(name) == logging.INFO

    def test_unknown_level_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown log level 'loud'"):
            logs.parse_level("loud")


class TestConsole:
    """The console format stays readable lines for people, redacted the same way."""

    def test_console_lines(self, tmp_path: Path) -> None:
        result = run_script(tmp_path, "console", "info")
        assert result.returncode == 1
        assert SECRET not in result.stdout + result.stderr
        first = result.stderr.splitlines()[0]
        assert "[info     ] sync.started" in first
        assert "service_key=***" in first
        assert "[clusterbridge.mapping.mapper]" in result.stderr
        assert "RuntimeError: fatal: ***" in result.stderr
        with pytest.raises(json.JSONDecodeError):
            json.loads(first)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Give back the process's logging set-up after an in-process configure()."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    hooks = sys.excepthook, threading.excepthook
    yield
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)
    structlog.reset_defaults()
    sys.excepthook = hooks[0]
    threading.excepthook = hooks[1]


@pytest.mark.usefixtures("restore_logging")
class TestConfigure:
    """configure() replaces any earlier set-up rather than stacking handlers, and refuses unknown formats."""

    def test_second_call_replaces_the_first(self) -> None:
        stream = _Lines()
        logs.configure("console", "info", stream=stream)
        logs.configure("json", "info", stream=stream)
        structlog.get_logger("clusterbridge.test").info("once", token="t0ps3cret")
        logging.getLogger("some.library").info("also once")
        assert [json.loads(line)["event"] for line in stream.lines()] == ["once", "also once"]
        assert "t0ps3cret" not in stream.getvalue()

    def test_unknown_format_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown log format 'xml'"):
            logs.configure("xml")


class _Lines:
    """A text stream that keeps what was written."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        return "".join(self._parts)

    def lines(self) -> list[str]:
        return self.getvalue().splitlines()


class TestRedactor:
    """The redaction processor masks secret-named fields and secret values inside any text."""

    def test_named_fields_and_values_in_text(self) -> None:
        event = logs.Redactor(["abc123"])(None, "info", {
            "event": "called", "client_secret": "x", "detail": "token abc123 in text", "count": 3,
            "header": "Authorization: Bearer eyJhbGciOi.J9", "url": "/x?serviceKey=k%2B1&page=2",
        })
        assert event == {
            "event": "called", "client_secret": "***", "detail": "token *** in text", "count": 3,
            "header": "Authorization: Bearer ***", "url": "/x?serviceKey=***&page=2",
        }
