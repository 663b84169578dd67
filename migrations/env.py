"""Alembic environment: runs on the engine clusterbridge hands over (SQLite or PostgreSQL alike)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from clusterbridge.store.tables import compare_type, metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked by the alembic CLI: take the URL from the ini file or the environment
    from clusterbridge.config import load_settings
    from clusterbridge.store.db import normalise_url

    engine = create_engine(normalise_url(config.get_main_option("sqlalchemy.url") or load_settings().database_url))

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=compare_type,
    )
    with context.begin_transaction():
        context.run_migrations()
