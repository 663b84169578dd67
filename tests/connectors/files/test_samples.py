"""The sample exports shipped with the package read cleanly with the shipped settings: a KICOX team's XLSX
with Korean text and KSIC codes, and an ECCP team's CSV."""

from __future__ import annotations

import shutil
from pathlib import Path

from clusterbridge.mapping.romanise import is_hangul

from .support import SAMPLES, make, natives


class TestSamples:
    """Each side's sample is a valid export in the default layout."""

    def test_the_korean_teams_workbook(self, kr_folder: Path) -> None:
        shutil.copy(SAMPLES / "kr-export.xlsx", kr_folder / "clusters.xlsx")
        connector = make("kr", kr_folder)
        records, problems = natives(connector)
        assert problems == []
        clusters = [connector.normalise(r) for r in records]
        assert len(clusters) == 6
        assert all(is_hangul(c.names["ko"]) and c.ksic_codes and c.country == "KR" for c in clusters)
        assert [c.live for c in clusters].count(False) == 1
        assert {c.name_en_origin for c in clusters} == {"own", "romanised"}

    def test_the_european_teams_csv(self, eu_folder: Path) -> None:
        shutil.copy(SAMPLES / "eu-export.csv", eu_folder / "clusters.csv")
        connector = make("eu", eu_folder)
        records, problems = natives(connector)
        assert problems == []
        clusters = [connector.normalise(r) for r in records]
        assert len(clusters) == 6
        assert all(c.nace_codes and c.country != "KR" for c in clusters)
        assert {c.lang for c in clusters} == {"en", "fr", "es"}
        assert [c.live for c in clusters].count(False) == 1
