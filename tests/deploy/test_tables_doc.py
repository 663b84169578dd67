"""docs/tables.md cannot drift from the schema: every column of the tables dashboards read is documented in
its table's section, and no section documents a column that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clusterbridge.store.tables import metadata
from clusterbridge.sync.result import INPUTS, OUTCOMES

DOC = Path(__file__).resolve().parents[2] / "docs" / "tables.md"
DOCUMENTED = ("sync_runs", "sync_status", "record_errors", "links", "pending_deletions", "natives",
              "native_matches", "partner_suggestions")


def _sections() -> dict[str, str]:
    """The text under each `## \\`table\\`` heading, by table name."""
    parts = re.split(r"^## `(\w+)`\s*$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _documented_columns(section: str) -> list[str]:
    """The first cell of each row of the section's column table (the one headed `| column | type |`)."""
    table = re.search(r"^\| column \| type \|.*?(?=^\s*$|\Z)", section, flags=re.MULTILINE | re.DOTALL)
    assert table is not None, "no column table"
    return re.findall(r"^\| `(\w+)` \|", table.group(0), flags=re.MULTILINE)


class TestTablesDoc:
    """Each table has a section; each column a row in it, once; no row for a column the table lacks."""

    def test_every_table_has_a_section(self) -> None:
        assert set(DOCUMENTED) <= set(_sections())

    @pytest.mark.parametrize("table", DOCUMENTED)
    def test_every_column_is_documented_in_its_section(self, table: str) -> None:
        rows = _documented_columns(_sections()[table])
        columns = [c.name for c in metadata.tables[table].columns]
        assert sorted(set(columns) - set(rows)) == [], "columns missing from docs/tables.md"
        assert sorted(set(rows) - set(columns)) == [], "docs/tables.md documents columns the table lacks"
        assert len(rows) == len(set(rows)), "a column documented twice"

    def test_states_of_a_run_are_all_explained(self) -> None:
        section = _sections()["sync_runs"]
        for status in ("running", "success", "partial", "failed", "stopped", "interrupted"):
            assert f"| `{status}` |" in section, status

    def test_the_identity_of_the_counts_is_the_one_the_engine_keeps(self) -> None:
        text = DOC.read_text(encoding="utf-8")
        identity = f"{' + '.join(INPUTS)} = {' + '.join(OUTCOMES)}"
        assert identity in text

    def test_freshness_is_explained_from_fresh_as_of(self) -> None:
        assert "now() - sync_status.fresh_as_of" in DOC.read_text(encoding="utf-8")

