"""Logging set-up, done once at the entry point (never at import), with secrets redacted (rule 9)."""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable, MutableMapping
from types import TracebackType
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

_SECRET_KEYS = re.compile(r"(secret|password|token|api[_-]?key|service[_-]?key|authorization)", re.IGNORECASE)
# query-string and header forms of the same secrets, wherever they hide in a message
_SECRET_IN_TEXT = re.compile(
    r"(?i)((?:serviceKey|client_secret|access_token|api[_-]?key|auth_key)=)[^&\s\"']+"
    r"|((?:Bearer|DeepL-Auth-Key)\s+)[A-Za-z0-9._~+/=-]+"
)
REDACTED = "***"


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask secrets in free text: known parameter forms, plus any literal secret value given."""
    text = _SECRET_IN_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class Redactor:
    """structlog processor: masks secret-named fields and secret values inside any string field."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = tuple(s for s in secrets if s)

    def __call__(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            if _SECRET_KEYS.search(key) and value is not None:
                event[key] = REDACTED
            elif isinstance(value, str):
                event[key] = redact_text(value, self.secrets)
        return event


# Loggers whose info lines repeat, request by request, what the client already logs at debug (with full
# URLs): they speak at the configured level only when that is debug, else from warnings up.
# libraries whose info lines say nothing to an operator (httpx: every request, with its URL, which the client
# logs itself; alembic: the plugins it sets up when loaded): shown from warnings up unless the level is debug
_CHATTY = ("httpx", "alembic.runtime.plugins")
_HANDLER_NAME = "clusterbridge"


def parse_level(level: str) -> int:
    """The logging level named by `level`, in any letter case (`INFO`, `Info`, `info`)."""
    name = level.strip().upper()
    levels = logging.getLevelNamesMapping()
    if name not in levels or name == "NOTSET":
        raise ValueError(f"unknown log level {level!r}; use debug, info, warning, error or critical")
    return levels[name]


def configure(
    fmt: str = "console", level: str = "info", secrets: Iterable[str] = (), *, stream: TextIO | None = None
) -> None:
    """Configure every logger of the process once, at the entry point: structlog's and the standard library's
    (APScheduler, httpx, alembic, our own) go through one handler, one level and the same redaction.

    `json` writes one JSON object a line, tracebacks in the `exception` field; `console` writes lines for
    people. Warnings and uncaught exceptions are logged the same way. Calling it again replaces the set-up.
    """
    fmt = fmt.strip().lower()
    if fmt not in ("console", "json"):
        raise ValueError(f"unknown log format {fmt!r}; use console or json")
    threshold = parse_level(level)
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=(stream or sys.stderr).isatty())
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        # lines of the standard library get what structlog's own lines get, plus the logger's name
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # a traceback becomes one string field before redaction, so a secret in it is masked too
            structlog.processors.format_exc_info,
            Redactor(secrets),
            renderer,
        ],
    )
    handler: logging.Handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in root.handlers[:]:
        # like basicConfig(force=True): any earlier handler would write lines in another format
        root.removeHandler(old)
        if old.get_name() == _HANDLER_NAME:
            old.close()
    root.addHandler(handler)
    root.setLevel(threshold)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(threshold if threshold <= logging.DEBUG else max(threshold, logging.WARNING))
    logging.captureWarnings(True)

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


class _StderrHandler(logging.Handler):
    """Writes each line to `sys.stderr` as it is at that moment, so that a progress bar that redirects
    stderr keeps log lines above itself."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        except Exception:  # the logging module's own policy: report the failure and keep the process alive
            self.handleError(record)


def _log_uncaught(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    structlog.get_logger("clusterbridge").critical("uncaught_exception", exc_info=(exc_type, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    structlog.get_logger("clusterbridge").error(
        "uncaught_exception_in_thread",
        thread=args.thread.name if args.thread is not None else None,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
