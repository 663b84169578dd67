"""initial ledger

Revision ID: 0001
Revises:
Create Date: 2026-11-25 22:08:08.112797
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cursors",
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("value", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_listing_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_full_count", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("direction", name=op.f("pk_cursors")),
    )
    op.create_table(
        "eccp_kr_profiles",
        sa.Column("eccp_id", sa.String(length=100), nullable=False),
        sa.Column("cluster", sa.Text(), nullable=False),
        sa.Column("changed", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("eccp_id", name=op.f("pk_eccp_kr_profiles")),
    )
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("native_id", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=False),
        sa.Column("mirror_id", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("native_changed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint("direction", "native_id", name=op.f("uq_links_direction_native_id")),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index("ix_links_direction_state", ["direction", "state"], unique=False)

    op.create_table(
        "native_matches",
        sa.Column("kicox_id", sa.String(length=100), nullable=False),
        sa.Column("eccp_id", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kicox_id", name=op.f("pk_native_matches")),
    )
    op.create_table(
        "pending_deletions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("native_id", sa.String(length=100), nullable=False),
        sa.Column("mirror_id", sa.String(length=100), nullable=True),
        sa.Column("external_id", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_deletions")),
    )
    with op.batch_alter_table("pending_deletions", schema=None) as batch_op:
        batch_op.create_index("ix_pending_deletions_state", ["state"], unique=False)

    op.create_table(
        "record_errors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("native_id", sa.String(length=100), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("retryable", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_errors")),
        sa.UniqueConstraint("direction", "native_id", name=op.f("uq_record_errors_direction_native_id")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pulled", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("held_deletions", sa.Integer(), nullable=False),
        sa.Column("anomalies", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_table(
        "sync_status",
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mirrors_live", sa.Integer(), nullable=False),
        sa.Column("records_failing", sa.Integer(), nullable=False),
        sa.Column("pending_deletions", sa.Integer(), nullable=False),
        sa.Column("budget_stopped", sa.Boolean(), nullable=False),
        sa.Column("lag_seconds", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("direction", name=op.f("pk_sync_status")),
    )
    op.create_table(
        "translation_cache",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("source_lang", sa.String(length=16), nullable=False),
        sa.Column("target_lang", sa.String(length=16), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("translation", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "provider", "source_lang", "target_lang", "text_hash", name=op.f("pk_translation_cache")
        ),
    )


def downgrade() -> None:
    op.drop_table("translation_cache")
    op.drop_table("sync_status")
    op.drop_table("sync_runs")
    op.drop_table("record_errors")
    with op.batch_alter_table("pending_deletions", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_deletions_state")

    op.drop_table("pending_deletions")
    op.drop_table("native_matches")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index("ix_links_direction_state")

    op.drop_table("links")
    op.drop_table("eccp_kr_profiles")
    op.drop_table("cursors")
