"""sides, truthful status, natives store, run scratch

Moves a ledger of the first release to the second:
- directions are named by side ("eu-to-kr", "kr-to-eu") instead of by platform;
- sync_runs counts every outcome (retried, vanished, linked, skipped, quarantined) and the process id;
- sync_status says how fresh the mirrors are (fresh_as_of, freshness_seconds), how many records are behind,
  and whether a run is in progress;
- links remember whether a translation is pending and what personal data rendering withheld (counts);
- pending deletions carry the cluster's name and country;
- the natives store (every side's clusters), rule-11 matches by side, partner suggestions, the service's
  remembered decisions, and a run's scratch tables (plan, mirror listing, tokens);
- SQLite timestamps are rewritten with their zone ("…+00:00"), as the ledger now writes them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RENAMES = {"eccp-to-kicox": "eu-to-kr", "kicox-to-eccp": "kr-to-eu"}
DIRECTION_TABLES = ("links", "cursors", "sync_runs", "sync_status", "record_errors", "pending_deletions")
TIMESTAMPS = {
    "links": ("native_changed", "created_at", "updated_at", "written_at"),
    "cursors": ("value", "full_listing_at", "updated_at"),
    "sync_runs": ("started_at", "finished_at"),
    "sync_status": ("last_run_at", "last_success_at", "cursor", "updated_at"),
    "record_errors": ("first_seen", "last_seen"),
    "pending_deletions": ("held_at", "decided_at"),
    "native_matches": ("matched_at",),
    "translation_cache": ("created_at",),
}


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"

    for table in DIRECTION_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("direction", type_=sa.String(32), existing_nullable=False)
        for old, new in RENAMES.items():
            op.execute(sa.text(f"UPDATE {table} SET direction = :new WHERE direction = :old").bindparams(
                new=new, old=old))

    with op.batch_alter_table("links") as batch:
        batch.alter_column("mirror_id", type_=sa.String(120), existing_nullable=True)
        batch.add_column(sa.Column("translation_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("withheld", sa.Text(), nullable=True))
        batch.create_index("ix_links_direction_external_id", ["direction", "external_id"])

    with op.batch_alter_table("sync_runs") as batch:
        for column in ("retried", "vanished", "linked", "skipped", "quarantined"):
            batch.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.create_index("ix_sync_runs_status", ["status"])
    op.execute("UPDATE sync_runs SET quarantined = failed")
    # a run the first release left 'running' belonged to a process that is gone
    op.execute("UPDATE sync_runs SET status = 'interrupted' WHERE status = 'running'")

    with op.batch_alter_table("sync_status") as batch:
        batch.add_column(sa.Column("records_behind", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(_ts("fresh_as_of"))
        batch.add_column(sa.Column("freshness_seconds", sa.Float(), nullable=True))
        batch.add_column(sa.Column("run_in_progress", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("current_run_id", sa.Integer(), nullable=True))
    # the old lag measured the age of the newest source change: not a freshness; it is recomputed by the next run
    op.execute("UPDATE sync_status SET lag_seconds = NULL, records_behind = records_failing + pending_deletions")

    with op.batch_alter_table("pending_deletions") as batch:
        batch.alter_column("mirror_id", type_=sa.String(120), existing_nullable=True)
        batch.add_column(sa.Column("name", sa.Text(), nullable=True))
        batch.add_column(sa.Column("country", sa.String(2), nullable=True))
        batch.create_index("ix_pending_deletions_direction_native_id", ["direction", "native_id"])

    # rule-11 matches by side: a Korean cluster (home side kr) linked to its own ECCP profile (profile side eu)
    op.create_table(
        "native_matches_v2",
        sa.Column("home_side", sa.String(16), nullable=False),
        sa.Column("home_id", sa.String(100), nullable=False),
        sa.Column("profile_side", sa.String(16), nullable=False),
        sa.Column("profile_id", sa.String(100), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        _ts("matched_at", nullable=False),
        sa.PrimaryKeyConstraint("home_side", "home_id", name=op.f("pk_native_matches_v2")),
    )
    op.execute(
        "INSERT INTO native_matches_v2 (home_side, home_id, profile_side, profile_id, score, method, matched_at) "
        "SELECT 'kr', kicox_id, 'eu', eccp_id, score, method, matched_at FROM native_matches"
    )
    op.drop_table("native_matches")
    op.rename_table("native_matches_v2", "native_matches")
    if not sqlite:
        op.execute("ALTER TABLE native_matches RENAME CONSTRAINT pk_native_matches_v2 TO pk_native_matches")
    # the candidates of rule 11 now come from the natives store, filled again by the next run
    op.drop_table("eccp_kr_profiles")

    op.create_table(
        "natives",
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column("native_id", sa.String(100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        _ts("changed", nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("snapshot_hash", sa.String(64), nullable=False),
        _ts("first_seen", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("withdrawn_at"),
        sa.PrimaryKeyConstraint("side", "native_id", name=op.f("pk_natives")),
    )
    op.create_index("ix_natives_side_country", "natives", ["side", "country"])

    op.create_table(
        "partner_suggestions",
        sa.Column("first_side", sa.String(16), nullable=False),
        sa.Column("first_id", sa.String(100), nullable=False),
        sa.Column("second_side", sa.String(16), nullable=False),
        sa.Column("second_id", sa.String(100), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank_first", sa.Integer(), nullable=False),
        sa.Column("rank_second", sa.Integer(), nullable=False),
        sa.Column("reasons_en", sa.Text(), nullable=False),
        sa.Column("reasons_ko", sa.Text(), nullable=False),
        _ts("computed_at", nullable=False),
        sa.PrimaryKeyConstraint("first_side", "first_id", "second_side", "second_id",
                                name=op.f("pk_partner_suggestions")),
    )
    op.create_index("ix_partner_suggestions_second", "partner_suggestions", ["second_side", "second_id"])

    op.create_table(
        "service_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_service_state")),
    )
    op.create_table(
        "run_plan",
        sa.Column("run_token", sa.String(36), nullable=False),
        sa.Column("direction", sa.String(32), nullable=False),
        sa.Column("item", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("native_id", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(120), nullable=False),
        sa.Column("mirror_id", sa.String(120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("payload_hash", sa.String(64), nullable=True),
        _ts("changed"),
        sa.Column("repair", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("translation_pending", sa.Boolean(), nullable=False),
        sa.Column("withheld", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("run_token", "direction", "item", name=op.f("pk_run_plan")),
    )
    op.create_index("ix_run_plan_token_direction_kind", "run_plan", ["run_token", "direction", "kind"])
    op.create_index("ix_run_plan_token_direction_seq", "run_plan", ["run_token", "direction", "seq"])
    op.create_table(
        "run_mirrors",
        sa.Column("run_token", sa.String(36), nullable=False),
        sa.Column("direction", sa.String(32), nullable=False),
        sa.Column("mirror_id", sa.String(120), nullable=False),
        sa.Column("external_id", sa.String(120), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("claimed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("run_token", "direction", "mirror_id", name=op.f("pk_run_mirrors")),
    )
    op.create_index("ix_run_mirrors_token_direction_external_id", "run_mirrors",
                    ["run_token", "direction", "external_id"])
    op.create_table(
        "run_tokens",
        sa.Column("run_token", sa.String(36), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        _ts("started_at", nullable=False),
        sa.PrimaryKeyConstraint("run_token", name=op.f("pk_run_tokens")),
    )

    if sqlite:
        # SQLAlchemy's SQLite DateTime wrote 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC by the ledger's own rule)
        for table, columns in TIMESTAMPS.items():
            for column in columns:
                op.execute(
                    f"UPDATE {table} SET {column} = replace({column}, ' ', 'T') || '+00:00' "
                    f"WHERE {column} IS NOT NULL AND {column} NOT LIKE '%+%'"
                )


def downgrade() -> None:
    """Back to the first release's schema (what it cannot hold is dropped: natives, suggestions, scratch)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for table, columns in TIMESTAMPS.items():
            for column in columns:
                op.execute(
                    f"UPDATE {table} SET {column} = replace(substr({column}, 1, 26), 'T', ' ') "
                    f"WHERE {column} IS NOT NULL AND {column} LIKE '%+00:00'"
                )
    for table in ("run_tokens", "run_mirrors", "run_plan", "service_state", "partner_suggestions", "natives"):
        op.drop_table(table)
    op.create_table(
        "eccp_kr_profiles",
        sa.Column("eccp_id", sa.String(length=100), nullable=False),
        sa.Column("cluster", sa.Text(), nullable=False),
        _ts("changed", nullable=False),
        sa.PrimaryKeyConstraint("eccp_id", name=op.f("pk_eccp_kr_profiles")),
    )
    op.create_table(
        "native_matches_v1",
        sa.Column("kicox_id", sa.String(length=100), nullable=False),
        sa.Column("eccp_id", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        _ts("matched_at", nullable=False),
        sa.PrimaryKeyConstraint("kicox_id", name=op.f("pk_native_matches_v1")),
    )
    op.execute("INSERT INTO native_matches_v1 (kicox_id, eccp_id, score, method, matched_at) "
               "SELECT home_id, profile_id, score, method, matched_at FROM native_matches WHERE home_side = 'kr'")
    op.drop_table("native_matches")
    op.rename_table("native_matches_v1", "native_matches")
    if not sqlite:
        op.execute("ALTER TABLE native_matches RENAME CONSTRAINT pk_native_matches_v1 TO pk_native_matches")
    with op.batch_alter_table("pending_deletions") as batch:
        batch.drop_index("ix_pending_deletions_direction_native_id")
        batch.drop_column("country")
        batch.drop_column("name")
    with op.batch_alter_table("sync_status") as batch:
        for column in ("current_run_id", "run_in_progress", "freshness_seconds", "fresh_as_of", "records_behind"):
            batch.drop_column(column)
    op.execute("UPDATE sync_runs SET status = 'stopped' WHERE status = 'interrupted'")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_index("ix_sync_runs_status")
        for column in ("pid", "quarantined", "skipped", "linked", "vanished", "retried"):
            batch.drop_column(column)
    with op.batch_alter_table("links") as batch:
        batch.drop_index("ix_links_direction_external_id")
        batch.drop_column("withheld")
        batch.drop_column("translation_pending")
    for table in DIRECTION_TABLES:
        for old, new in RENAMES.items():
            op.execute(sa.text(f"UPDATE {table} SET direction = :old WHERE direction = :new").bindparams(
                new=new, old=old))
