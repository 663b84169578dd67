"""The ledger's tables (SQLAlchemy Core). Dashboards read sync_runs, sync_status, record_errors and links;
their columns are documented in the README. Schema changes go through Alembic migrations only."""

from __future__ import annotations

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

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _ts(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


# One row per native record that has (or had, or is about to have) a mirror on the other platform.
# state: "creating" (write intent recorded before the HTTP create: a crash here is resolved by looking the
# mirror up by external id), "live", "deleting" (intent recorded before the HTTP delete), "deleted",
# "linked" (rule 11: the native already has its own profile on the target, so no mirror is written).
links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", String(16), nullable=False),
    Column("native_id", String(100), nullable=False),
    Column("external_id", String(120), nullable=False),
    Column("mirror_id", String(100)),
    Column("state", String(16), nullable=False),
    Column("payload_hash", String(64)),
    Column("payload", Text),
    _ts("native_changed"),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("written_at"),
    UniqueConstraint("direction", "native_id"),
    Index("ix_links_direction_state", "direction", "state"),
)

cursors = Table(
    "cursors",
    metadata,
    Column("direction", String(16), primary_key=True),
    _ts("value"),
    _ts("full_listing_at"),
    Column("last_full_count", Integer),
    _ts("updated_at", nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trigger", String(16), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("dry_run", Boolean, nullable=False, default=False),
    _ts("started_at", nullable=False),
    _ts("finished_at"),
    Column("status", String(16), nullable=False),
    Column("pulled", Integer, nullable=False, default=0),
    Column("created", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("deleted", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("held_deletions", Integer, nullable=False, default=0),
    Column("anomalies", Text),
    Column("error", Text),
)

sync_status = Table(
    "sync_status",
    metadata,
    Column("direction", String(16), primary_key=True),
    Column("last_run_id", Integer),
    _ts("last_run_at"),
    Column("last_status", String(16)),
    _ts("last_success_at"),
    Column("last_error", Text),
    _ts("cursor"),
    Column("mirrors_live", Integer, nullable=False, default=0),
    Column("records_failing", Integer, nullable=False, default=0),
    Column("pending_deletions", Integer, nullable=False, default=0),
    Column("budget_stopped", Boolean, nullable=False, default=False),
    Column("lag_seconds", Float),
    _ts("updated_at", nullable=False),
)

# Quarantine: one row per (direction, native record) that failed, kept until a later run succeeds.
record_errors = Table(
    "record_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", String(16), nullable=False),
    Column("native_id", String(100), nullable=False),
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

# Deletions held by the guard rails until an operator decides (state: pending, approved, rejected, done,
# cleared when the native reappeared).
pending_deletions = Table(
    "pending_deletions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("direction", String(16), nullable=False),
    Column("native_id", String(100), nullable=False),
    Column("mirror_id", String(100)),
    Column("external_id", String(120), nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("run_id", Integer),
    _ts("held_at", nullable=False),
    _ts("decided_at"),
    Index("ix_pending_deletions_state", "state"),
)

# Rule 11: a Korean cluster that already has a native ECCP profile, with how the match was made.
native_matches = Table(
    "native_matches",
    metadata,
    Column("kicox_id", String(100), primary_key=True),
    Column("eccp_id", String(100), nullable=False),
    Column("score", Float, nullable=False),
    Column("method", String(16), nullable=False),
    _ts("matched_at", nullable=False),
)

# ECCP native profiles located in Korea: the candidates for rule 11, kept so that a run of the
# kicox-to-eccp direction alone can still match Korean clusters against them.
eccp_kr_profiles = Table(
    "eccp_kr_profiles",
    metadata,
    Column("eccp_id", String(100), primary_key=True),
    Column("cluster", Text, nullable=False),
    _ts("changed", nullable=False),
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
