"""Logging set-up, done once at the entry point (never at import), with secrets redacted (rule 9)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

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


def configure(fmt: str = "console", level: str = "info", secrets: Iterable[str] = ()) -> None:
    """Configure structlog for the process: console lines for people, JSON lines for log collectors."""
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            Redactor(secrets),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
