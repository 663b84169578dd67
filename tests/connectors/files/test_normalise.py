"""Export rows → the shared model: a Korean-language side's rows get romanised names, Korean regions, KSIC
codes and ecosystems through the vocabulary, like the KICOX connector's; other rows keep their own words."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clusterbridge.abc import NativeRecord

from .support import cluster_of, eu_row, kr_row, make, natives, write_export


class TestKoreanRows:
    """A row of a Korean-language side."""

    def test_a_row_without_an_english_name_gets_a_romanised_one(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1", name="반월시화 기계부품 미니클러스터")])
        cluster = cluster_of(make("kr", kr_folder, export={"file": "clusters.csv"}), "KC-1")
        assert cluster.name_en == "Banwolsihwa Machinery Parts Mini-Cluster"
        assert cluster.name_en_origin == "romanised"
        assert cluster.names == {"ko": "반월시화 기계부품 미니클러스터", "ko-Latn": cluster.name_en}
        assert (cluster.source, cluster.lang, cluster.country) == ("kr", "ko", "KR")

    def test_the_clusters_own_english_name_beats_the_romanisation(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1", name_en="Osong Bio-Health Cluster")])
        cluster = cluster_of(make("kr", kr_folder, export={"file": "clusters.csv"}), "KC-1")
        assert (cluster.name_en, cluster.name_en_origin, cluster.names["en"]) == (
            "Osong Bio-Health Cluster", "own", "Osong Bio-Health Cluster")

    def test_regions_and_cities_are_read_with_their_romanisation(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1", region="경남", city="창원시 성산구")])
        cluster = cluster_of(make("kr", kr_folder, export={"file": "clusters.csv"}), "KC-1")
        assert (cluster.region_code, cluster.region["en"]) == ("KR-48", "Gyeongsangnam-do")
        assert cluster.city == {"ko": "창원시 성산구", "en": "Changwon-si Seongsan-gu"}

    def test_industry_labels_give_english_labels_and_ecosystems_and_codes_are_ksic(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1", industries="전기·전자; 디스플레이",
                                                         ksic_codes="26211, 26299")])
        cluster = cluster_of(make("kr", kr_folder, export={"file": "clusters.csv"}), "KC-1")
        assert cluster.industry_labels == {"ko": ("전기·전자", "디스플레이"),
                                           "en": ("Electrical and Electronics", "Displays")}
        assert cluster.ksic_codes == ("C26211", "C26299")
        assert cluster.ecosystems == ("Electronics",)
        assert cluster.nace_codes == ()

    def test_ecosystems_come_from_ksic_codes_when_no_label_is_known(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1", industries="", ksic_codes="29172")])
        cluster = cluster_of(make("kr", kr_folder, export={"file": "clusters.csv"}), "KC-1")
        assert cluster.ecosystems == ("Mobility-Transport-Automotive",)

    @pytest.mark.parametrize(("flag", "public"), [("예", True), ("Y", True), ("아니오", False), ("", False)])
    def test_a_contact_crosses_only_when_marked_public(self, kr_folder: Path, flag: str, public: bool) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1", contact_name="홍길동", contact_email="a@b.kr",
                                                         contact_public=flag)])
        cluster = cluster_of(make("kr", kr_folder, export={"file": "clusters.csv"}), "KC-1")
        assert cluster.contact is not None
        assert cluster.contact.public is public

    def test_markup_in_a_description_is_removed(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1", description="<p>소개<script>x()</script></p>")])
        cluster = cluster_of(make("kr", kr_folder, export={"file": "clusters.csv"}), "KC-1")
        assert cluster.description is not None
        assert cluster.description.text == "소개"


class TestOtherRows:
    """A row of an English-language side keeps its own words; a row may name its language."""

    def test_an_english_row(self, eu_folder: Path) -> None:
        write_export(eu_folder / "clusters.csv", [eu_row("E-1", members_sme="10", members_large="2",
                                                         target_countries="KR, JP", region_code="ded2")])
        cluster = cluster_of(make("eu", eu_folder), "E-1")
        assert (cluster.name_en, cluster.name_en_origin, cluster.lang) == ("Cluster E-1", "source", "en")
        assert (cluster.members.total, cluster.region_code) == (12, "DED2")
        assert (cluster.nace_codes, cluster.ecosystems) == (("J62",), ("Digital",))
        assert cluster.cooperation.target_countries == ("KR", "JP")
        assert cluster.source_changed == datetime(2026, 10, 15, 7, 30, tzinfo=UTC)

    def test_a_french_row_with_its_own_english_name(self, eu_folder: Path) -> None:
        write_export(eu_folder / "clusters.csv", [eu_row("E-1", name="Pôle Mer", name_en="Sea Cluster", language="fr",
                                                         description="Le pôle maritime.")])
        cluster = cluster_of(make("eu", eu_folder), "E-1")
        assert cluster.names == {"fr": "Pôle Mer", "en": "Sea Cluster"}
        assert cluster.description is not None
        assert cluster.description.lang == "fr"

    def test_a_withdrawn_row_is_not_live(self, eu_folder: Path) -> None:
        write_export(eu_folder / "clusters.csv", [eu_row("E-1", live="no")])
        assert cluster_of(make("eu", eu_folder), "E-1").live is False

    def test_external_ids_carry_the_configured_prefix(self, eu_folder: Path) -> None:
        assert make("eu", eu_folder).external_id("E-1") == "eccp:E-1"
        assert make("eu", eu_folder, id_prefix="eu-team:").external_id("E-1") == "eu-team:E-1"


class TestRetryFromQuarantine:
    """A quarantined row is kept raw; read again, it passes once it is right and fails naming the field."""

    def test_a_raw_row_is_read_again(self, kr_folder: Path) -> None:
        write_export(kr_folder / "clusters.csv", [kr_row("KC-1", country="??")])
        connector = make("kr", kr_folder, export={"file": "clusters.csv"})
        _, problems = natives(connector)
        with pytest.raises(ValueError, match=r"^country: not an ISO"):
            connector.normalise(NativeRecord("KC-1", datetime.now(UTC), problems[0].raw))
        fixed = {**problems[0].raw, "country": "KR"}
        assert connector.normalise(NativeRecord("KC-1", datetime.now(UTC), fixed)).name_en == "Siheom Mini-Cluster"
