"""How the ledger's batched upserts cost on SQLite and PostgreSQL: executemany against one multi-row statement.

    .venv/bin/python benchmarks/upsert_batching.py [--rows 20000] [--postgres URL]

The ledger writes a batch of rows as one `INSERT … ON CONFLICT DO UPDATE` executed for every row
(`Ledger._upsert`: SQLAlchemy hands the rows to the driver's executemany, which psycopg 3 pipelines). The
alternative is one statement with a VALUES row per record (`insert(table).values(rows)`, 256 rows a
statement). Both are timed on a table shaped like `links` (two key columns, nine values), in transactions of
500 rows (a page) and of 4 (one write call's answer), twice each, alternated, with the cost of a transaction
that only reads `SELECT 1` beside them. The engines are the ledger's own (`store.db.make_engine`); a URL option
such as `?options=-csynchronous_commit%3Doff` shows what the commit's WAL flush costs. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from harness import POSTGRES_SERVER
from sqlalchemy.dialects import postgresql, sqlite

from clusterbridge.store.db import make_engine

COLUMNS = [f"c{i}" for i in range(8)]
metadata = sa.MetaData()
table = sa.Table("bench_upsert", metadata, sa.Column("direction", sa.String, primary_key=True),
                 sa.Column("native_id", sa.String, primary_key=True), *[sa.Column(c, sa.String) for c in COLUMNS],
                 sa.Column("n", sa.Integer))
Upsert = Callable[[sa.Connection, list[dict[str, Any]]], None]


def _statement(engine: sa.Engine, rows: list[dict[str, Any]] | None = None) -> Any:
    insert = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(table)
    if rows is not None:
        insert = insert.values(rows)
    return insert.on_conflict_do_update(index_elements=["direction", "native_id"],
                                        set_={c: getattr(insert.excluded, c) for c in [*COLUMNS, "n"]})


def executemany(engine: sa.Engine) -> Upsert:
    def upsert(conn: sa.Connection, batch: list[dict[str, Any]]) -> None:
        conn.execute(_statement(engine), batch)
    return upsert


def multi_row(engine: sa.Engine, size: int = 256) -> Upsert:
    def upsert(conn: sa.Connection, batch: list[dict[str, Any]]) -> None:
        for start in range(0, len(batch), size):
            conn.execute(_statement(engine, batch[start:start + size]))
    return upsert


def rows(count: int, version: int) -> list[dict[str, Any]]:
    return [{"direction": "eu-to-kr", "native_id": f"eccp-{i:07d}", "n": version,
             **{c: f"value {version} {i} {c} " * 3 for c in COLUMNS}} for i in range(count)]


def measure(url: str, count: int) -> None:
    engine = make_engine(url)  # configured as the ledger's (SQLite: WAL, synchronous=NORMAL)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    try:
        for _ in range(2):
            started = time.perf_counter()
            for _ in range(count // 4):
                with engine.begin() as conn:
                    conn.execute(sa.select(1))
            print(f"{engine.dialect.name}: {count // 4} transactions of one `SELECT 1`: "
                  f"{time.perf_counter() - started:.2f} s")
            for name, make in (("executemany", executemany), ("multi-row VALUES", multi_row)):
                upsert = make(engine)
                for per_transaction in (500, 4):
                    data = rows(count, per_transaction)
                    started = time.perf_counter()
                    for start in range(0, count, per_transaction):
                        with engine.begin() as conn:
                            upsert(conn, data[start:start + per_transaction])
                    print(f"{engine.dialect.name}: {name}, transactions of {per_transaction} rows: "
                          f"{time.perf_counter() - started:.2f} s for {count} rows")
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--postgres", default=POSTGRES_SERVER, help="a PostgreSQL server's URL (a table of its own is "
                        "made and dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cb-bench-") as folder:
        measure(f"sqlite:///{folder}/upsert.db", args.rows)
    measure(args.postgres, args.rows)


if __name__ == "__main__":
    main()
