"""The ledger's tables (SQLAlchemy Core). Dashboards read sync_runs, sync_status, record_errors, links,
pending_deletions and partner_suggestions; their columns are documented column by column in `docs/tables.md`.
Schema changes go through Alembic migrations only.

Every timestamp is UTC and carries its zone on both databases: `timestamptz` on PostgreSQL, an ISO 8601 string
with `+00:00` on SQLite (which has no time type), so a dashboard never has to guess.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Column widths follow the contracts (contracts/*.openapi.yaml): native ids are at most 64 characters (KICOX
# clstrId) or a UUID (ECCP); external ids add a short prefix; mirror ids are UUIDs or external ids.
ID = 100
EXTERNAL_ID = 120
DIRECTION = 32
SIDE = 16


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime: timestamptz on PostgreSQL; '2026-11-26T05:58:25.000000+00:00' on SQLite, which
    sorts and compares as text in time order. Naive datetimes are refused, never guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the ledger stores UTC times with their zone")
        value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"not a timestamp: {value!r}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(name: str, nullable: bool = True) -> Column[datetime]:
    return Column(name, UtcDateTime(), nullable=nullable)


# One row per native record that has (or had, or is about to have) a mirror on the other side.
# state: "creating" (write intent recorded before the create is sent: a crash here is resolved by looking the
# mirror up by external id), "live", "deleting" (intent recorded before the deletion is sent), "deleted",
# "linked" (rule 11: the native already has its own profile on the target, so no mirror is written).
links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", String(DIRECTION), nullable=False),
    Column("native_id", String(ID), nullable=False),
    Column("external_id", String(EXTERNAL_ID), nullable=False),
    Column("mirror_id", String(EXTERNAL_ID)),
    Column("state", String(16), nullable=False),
    Column("payload_hash", String(64)),
    Column("payload", Text),
    Column("translation_pending", Boolean, nullable=False, default=False),
    Column("withheld", Text),  # JSON counts of personal data withheld from free text, by kind (never values)
    _ts("native_changed"),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("written_at"),
    UniqueConstraint("direction", "native_id"),
    Index("ix_links_direction_state", "direction", "state"),
    Index("ix_links_direction_external_id", "direction", "external_id"),
)

cursors = Table(
    "cursors",
    metadata,
    Column("direction", String(DIRECTION), primary_key=True),
    _ts("value"),
    _ts("full_listing_at"),
    Column("last_full_count", Integer),
    _ts("updated_at", nullable=False),
)

# One row per direction per run. Every record a run handled (pulled from the listing, retried by id, or gone
# from a full listing) has exactly one outcome: pulled + retried + vanished = created + updated + unchanged +
# deleted + linked + skipped + quarantined + held_deletions.
sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trigger", String(16), nullable=False),
    Column("direction", String(DIRECTION), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("dry_run", Boolean, nullable=False, default=False),
    _ts("started_at", nullable=False),
    _ts("finished_at"),
    Column("status", String(16), nullable=False),
    Column("pulled", Integer, nullable=False, default=0),
    Column("retried", Integer, nullable=False, default=0),
    Column("vanished", Integer, nullable=False, default=0),
    Column("created", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("deleted", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("linked", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),  # = quarantined, kept for existing dashboards
    Column("held_deletions", Integer, nullable=False, default=0),
    Column("anomalies", Text),
    Column("error", Text),
    Column("pid", Integer),
    Index("ix_sync_runs_status", "status"),
)

sync_status = Table(
    "sync_status",
    metadata,
    Column("direction", String(DIRECTION), primary_key=True),
    Column("last_run_id", Integer),
    _ts("last_run_at"),  # the last attempt
    Column("last_status", String(16)),
    _ts("last_success_at"),
    Column("last_error", Text),
    _ts("cursor"),
    Column("mirrors_live", Integer, nullable=False, default=0),
    Column("records_failing", Integer, nullable=False, default=0),
    Column("pending_deletions", Integer, nullable=False, default=0),
    Column("records_behind", Integer, nullable=False, default=0),
    Column("budget_stopped", Boolean, nullable=False, default=False),
    _ts("fresh_as_of"),
    Column("freshness_seconds", Float),
    Column("lag_seconds", Float),  # = freshness_seconds, kept for existing dashboards
    Column("run_in_progress", Boolean, nullable=False, default=False),
    Column("current_run_id", Integer),
    _ts("updated_at", nullable=False),
)

# Quarantine: one row per (direction, native record) that failed, kept until a later run succeeds with it.
record_errors = Table(
    "record_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", String(DIRECTION), nullable=False),
    Column("native_id", String(ID), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("field", String(120)),
    Column("raw", Text),
    Column("retryable", Boolean, nullable=False, default=True),
    Column("attempts", Integer, nullable=False, default=1),
    _ts("first_seen", nullable=False),
    _ts("last_seen", nullable=False),
    Column("last_run_id", Integer),
    UniqueConstraint("direction", "native_id"),
)

# Deletions held by the guard rails until an operator decides. state: pending, approved, rejected (the mirror
# stays until the native reappears or an operator resets the decision), done, cleared (the native reappeared),
# reset (an operator withdrew an earlier decision).
pending_deletions = Table(
    "pending_deletions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", String(DIRECTION), nullable=False),
    Column("native_id", String(ID), nullable=False),
    Column("mirror_id", String(EXTERNAL_ID)),
    Column("external_id", String(EXTERNAL_ID), nullable=False),
    Column("name", Text),
    Column("country", String(2)),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("run_id", Integer),
    _ts("held_at", nullable=False),
    _ts("decided_at"),
    Index("ix_pending_deletions_state", "state"),
    Index("ix_pending_deletions_direction_native_id", "direction", "native_id"),
)

# What each side holds: the normalised cluster of every native pulled, kept so that matching, reports and
# retries need no extra request. withdrawn_at is when it stopped being live (or vanished from a full listing);
# suggestions_stale says its partner suggestions wait to be recomputed (set with each change, cleared by the
# refresh that covers it, so a run that ended in between leaves the work to the next).
natives = Table(
    "natives",
    metadata,
    Column("side", String(SIDE), primary_key=True),
    Column("native_id", String(ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("country", String(2), nullable=False),
    Column("live", Boolean, nullable=False),
    _ts("changed", nullable=False),
    Column("snapshot", Text, nullable=False),
    Column("snapshot_hash", String(64), nullable=False),
    _ts("first_seen", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("withdrawn_at"),
    Column("suggestions_stale", Boolean, nullable=False, default=False),
    Index("ix_natives_side_country", "side", "country"),
    Index("ix_natives_suggestions_stale", "suggestions_stale"),
)

# Rule 11: a cluster native to one side (home) that already has its own profile on the other platform.
native_matches = Table(
    "native_matches",
    metadata,
    Column("home_side", String(SIDE), primary_key=True),
    Column("home_id", String(ID), primary_key=True),
    Column("profile_side", String(SIDE), nullable=False),
    Column("profile_id", String(ID), nullable=False),
    Column("score", Float, nullable=False),
    Column("method", String(16), nullable=False),
    _ts("matched_at", nullable=False),
)

# Suggested partners across the two sides, recomputed for the clusters a run changed.
partner_suggestions = Table(
    "partner_suggestions",
    metadata,
    Column("first_side", String(SIDE), primary_key=True),
    Column("first_id", String(ID), primary_key=True),
    Column("second_side", String(SIDE), primary_key=True),
    Column("second_id", String(ID), primary_key=True),
    Column("score", Float, nullable=False),
    Column("rank_first", Integer, nullable=False),
    Column("rank_second", Integer, nullable=False),
    Column("reasons_en", Text, nullable=False),
    Column("reasons_ko", Text, nullable=False),
    _ts("computed_at", nullable=False),
    Index("ix_partner_suggestions_second", "second_side", "second_id"),
)

# A whole recompute's pairs as the matcher finds them, unranked (a pair in both its clusters' top N comes
# twice: the key keeps one): a temporary table of the transaction that replaces the suggestions, which ranks
# them into partner_suggestions in one statement and drops it. Not part of the ledger's schema (no migration
# makes it).
unranked_suggestions = Table(
    "unranked_suggestions",
    MetaData(),
    Column("first_id", String(ID), primary_key=True),
    Column("second_id", String(ID), primary_key=True),
    Column("score", Float, nullable=False),
    Column("reasons_en", Text, nullable=False),
    Column("reasons_ko", Text, nullable=False),
    _ts("computed_at", nullable=False),
    prefixes=["TEMPORARY"],
)

# What a paid translation provider returned, so the same text is never paid for twice.
translation_cache = Table(
    "translation_cache",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("source_lang", String(16), primary_key=True),
    Column("target_lang", String(16), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Column("translation", Text, nullable=False),
    _ts("created_at", nullable=False),
)

# Decisions the service remembers between runs (key → value), e.g. whether mirrors were last rendered with
# their partner suggestions: when that setting changes, every mirror is rendered again.
service_state = Table(
    "service_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    _ts("updated_at", nullable=False),
)

# Scratch space of a run in progress, so that no listing, plan or mirror index is held in memory: one row per
# record the run handles (its planned action, and the payload to write), and one per mirror a full listing of
# the target showed. Rows are removed when the run ends; rows of a run that died are removed by the next.
run_plan = Table(
    "run_plan",
    metadata,
    Column("run_token", String(36), primary_key=True),
    Column("direction", String(DIRECTION), primary_key=True),
    Column("item", String(EXTERNAL_ID + 8), primary_key=True),  # native id, or "mirror:<mirror id>"
    Column("seq", Integer, nullable=False),
    Column("origin", String(16), nullable=False),  # pulled, retried, vanished, orphan
    Column("kind", String(16), nullable=False),
    Column("native_id", String(ID), nullable=False),
    Column("external_id", String(EXTERNAL_ID), nullable=False),
    Column("mirror_id", String(EXTERNAL_ID)),
    Column("reason", Text, nullable=False),
    Column("name", Text),
    Column("country", String(2)),
    Column("payload", Text),
    Column("payload_hash", String(64)),
    _ts("changed"),
    Column("repair", Boolean, nullable=False, default=False),
    Column("held", Boolean, nullable=False, default=False),
    Column("translation_pending", Boolean, nullable=False, default=False),
    Column("withheld", Text),
    Column("outcome", String(16)),
    Index("ix_run_plan_token_direction_kind", "run_token", "direction", "kind"),
    Index("ix_run_plan_token_direction_seq", "run_token", "direction", "seq"),
)

run_mirrors = Table(
    "run_mirrors",
    metadata,
    Column("run_token", String(36), primary_key=True),
    Column("direction", String(DIRECTION), primary_key=True),
    Column("mirror_id", String(EXTERNAL_ID), primary_key=True),
    Column("external_id", String(EXTERNAL_ID), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("claimed", Boolean, nullable=False, default=False),
    Index("ix_run_mirrors_token_direction_external_id", "run_token", "direction", "external_id"),
)

# Which run is using scratch rows, and since when (rows of a token whose run is no longer alive are removed).
run_tokens = Table(
    "run_tokens",
    metadata,
    Column("run_token", String(36), primary_key=True),
    Column("pid", Integer),
    Column("dry_run", Boolean, nullable=False, default=False),
    _ts("started_at", nullable=False),
)


def compare_type(_context: Any, _inspected: Any, metadata_column: Column[Any], inspected_type: TypeEngine[Any],
                 _metadata_type: TypeEngine[Any]) -> bool | None:
    """Alembic's type comparison, told that a UtcDateTime column is a timestamp on PostgreSQL and text on SQLite
    (migrations declare it as a timestamp: SQLite stores any type in any column)."""
    if isinstance(metadata_column.type, UtcDateTime):
        return not isinstance(inspected_type, DateTime | String)
    return None
