"""natives.suggestions_stale: the partner suggestions of a native wait to be recomputed

A run stores what it pulled before it recomputes the partner suggestions of the natives that changed; a run
that ends in between (its lock lost, its process killed) left those suggestions stale with nothing to say so,
because the next run saw no change. Each native now carries the flag, set when its snapshot changes or it
leaves its platform and cleared once its suggestions are recomputed: the next run picks up what is left.
Natives stored before this revision count as current.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("natives") as batch:
        batch.add_column(sa.Column("suggestions_stale", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_natives_suggestions_stale", ["suggestions_stale"])


def downgrade() -> None:
    with op.batch_alter_table("natives") as batch:
        batch.drop_index("ix_natives_suggestions_stale")
        batch.drop_column("suggestions_stale")
