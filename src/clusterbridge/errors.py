"""The exceptions that cross layers; each one tells the CLI which exit code and message fit."""

from __future__ import annotations


class ClusterbridgeError(Exception):
    """Base of every error the service raises on purpose."""


class ConfigurationError(ClusterbridgeError):
    """Settings or credentials are wrong; no retry mends it. The CLI exits 2 with the message."""


class DatabaseNotMigrated(ConfigurationError):
    """The ledger database is missing tables or lags behind the migrations."""


class SyncLocked(ClusterbridgeError):
    """Another sync holds the database's sync lock (rule 10)."""


class LockLost(ClusterbridgeError):
    """The sync lock vanished under a running sync (its database session ended): the run stops at once."""


class PlatformError(ClusterbridgeError):
    """A platform could not be reached or kept failing after the retry budget was spent."""

    def __init__(self, platform: str, message: str) -> None:
        super().__init__(f"{platform}: {message}")
        self.platform = platform


class RetryableError(PlatformError):
    """A passing fault (429, 503, timeout, reset, gateway codes 01/02/04/05): worth another try."""

    def __init__(self, platform: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(platform, message)
        self.retry_after = retry_after


class QuotaExhausted(PlatformError):
    """KICOX gateway code 22: the daily call budget is spent until midnight KST; stop cleanly, resume later."""


class ListingIncomplete(PlatformError):
    """A listing ended before its last page; it must not be trusted for deletions."""


class RecordRefused(ClusterbridgeError):
    """The platform refused one write or deletion for reasons of that record: it is quarantined and retried on
    a later run; the rest of the run goes on."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
