"""The contract suite every connector keeps (tests/connectors/test_contract.py), run over the file exchange:
a Korean team's XLSX export of natives, and an import file of mirrors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors import test_contract as contract

from .support import kr_row, make, write_export


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[contract.Platform]:
    rows = [kr_row(f"KC-{i:06}", changed=f"2026-10-15T09:30:{i // 5:02}+09:00") for i in range(contract.NATIVES)]
    write_export(tmp_path / "clusters.xlsx", rows)
    connector = make("kr", tmp_path, page_size=20)
    try:
        yield contract.Platform(
            connector,
            {row["id"] for row in rows},
            lambda name: {"name": name, "country": "DE", "country_name": "독일"},
            lambda i: f"eccp:{i:08}",
        )
    finally:
        connector.close()


class TestFilesContract(contract.TestContract):
    """Behaviour every connector keeps, kept by the file exchange."""
