"""The mappings/ data: complete for the sample data, consistent both ways, overridable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clusterbridge.config import Settings, default_dir
from clusterbridge.connectors.kicox.models import KicoxCluster
from clusterbridge.mapping.codes import ksic_division, nace_division
from tests.mapping.mapping_samples import load_sample
from tests.mapping.pipeline import Pipeline as Mapper

ECCP_ECOSYSTEMS = [
    "Aerospace & defence",
    "Agri-food",
    "Construction",
    "Cultural and creative industries (CCI)",
    "Digital",
    "Electronics",
    "Energy-intensive industries (EII)",
    "Energy-renewables",
    "Health",
    "Mobility-Transport-Automotive",
    "Proximity, social economy and civil society",
    "Retail",
    "Textiles",
    "Tourism",
]
INDUSTRY_LABELS = [
    "기계·장비",
    "전기·전자",
    "자동차·부품",
    "석유화학",
    "바이오·의료",
    "정보통신",
    "섬유·의류",
    "철강·금속",
    "조선·해양",
    "에너지·환경",
    "식품",
    "항공·우주",
    "반도체",
    "디스플레이",
    "이차전지",
    "로봇",
    "화장품",
    "뿌리산업",
]


class TestSampleDataMaps:
    """Every term the sample data uses has a mapping."""

    def test_every_kicox_label_and_code_maps(self, mapper: Mapper) -> None:
        for raw in load_sample("kicox.json")["clusters"]:
            rec = KicoxCluster.model_validate(raw)
            c = mapper.from_kicox(rec)
            assert rec.indutyNm in {label.label_ko for label in mapper.data.labels}, rec.indutyNm
            assert c.ecosystems, rec.clstrId
            assert mapper.rendered(c).codes, rec.clstrId  # NACE codes for European readers
            assert c.industry_labels["en"][0]
            assert c.industry_labels["en"][0] != rec.indutyNm
            assert (c.region_code or "").startswith("KR-"), rec.ctprvnNm

    def test_every_eccp_ecosystem_and_nace_code_maps(self, mapper: Mapper) -> None:
        known = {e.name for e in mapper.data.ecosystems}
        for item in load_sample("eccp.json")["data"]:
            attrs = item["attributes"]
            for eco in attrs.get("field_ecosystems") or []:
                assert eco in known, eco
            for code in attrs.get("field_nace_codes") or []:
                assert mapper.ksic_for_nace([code]), code

    def test_all_industry_labels_of_the_issue_map(self, mapper: Mapper) -> None:
        labels = {label.label_ko: label for label in mapper.data.labels}
        for ko in INDUSTRY_LABELS:
            label = labels[ko]
            assert all((label.label_en, label.ksic, label.ecosystems)), ko


class TestEcosystems:
    def test_the_fourteen_in_eccp_wording(self, mapper: Mapper) -> None:
        assert [e.name for e in mapper.data.ecosystems] == ECCP_ECOSYSTEMS
        assert all(e.label_ko for e in mapper.data.ecosystems)

    @pytest.mark.parametrize("name", ECCP_ECOSYSTEMS)
    def test_each_maps_to_ksic_and_back(self, mapper: Mapper, name: str) -> None:
        eco = next(e for e in mapper.data.ecosystems if e.name == name)
        assert eco.ksic
        for division in eco.ksic:
            assert name in mapper.ecosystems_for_ksic([division])


class TestCrosswalk:
    """NACE Rev.2 ↔ KSIC 10 at division level, with the manufacturing shift."""

    def test_covers_all_88_nace_and_77_ksic_divisions(self, mapper: Mapper) -> None:
        pairs = mapper.data.crosswalk.pairs
        assert len({nace_division(n) for n, _ in pairs}) == 88
        assert len({ksic_division(k) for _, k in pairs}) == 77

    def test_nace_ksic_nace_round_trips(self, mapper: Mapper) -> None:
        for nace in {nace_division(n) for n, _ in mapper.data.crosswalk.pairs}:
            back = {nace_division(n) for n in mapper.nace_for_ksic(mapper.ksic_for_nace([nace]))}
            assert nace in back, nace

    def test_ksic_nace_ksic_round_trips(self, mapper: Mapper) -> None:
        for ksic in {ksic_division(k) for _, k in mapper.data.crosswalk.pairs}:
            assert ksic in mapper.ksic_for_nace(mapper.nace_for_ksic([ksic])), ksic

    @pytest.mark.parametrize(
        ("ksic", "nace"),
        [
            ("29172", ["C28"]),
            ("28302", ["C27"]),
            ("30310", ["C29"]),
            ("C30", ["C29"]),
            ("31113", ["C30"]),
            ("26110", ["C26"]),
            ("27112", ["C26.6"]),
            ("27199", ["C32.5"]),
            ("C27", ["C26.5", "C26.6", "C26.7", "C32.5"]),
            ("34", ["C33"]),
            ("70113", ["M72"]),
            ("62010", ["J62"]),
        ],
    )
    def test_ksic_to_nace_honours_the_shift(self, mapper: Mapper, ksic: str, nace: list[str]) -> None:
        assert sorted(mapper.nace_for_ksic([ksic])) == nace

    @pytest.mark.parametrize(
        ("nace", "ksic"),
        [
            ("C28", ["C29"]),
            ("C28.9", ["C29"]),
            ("C27.1", ["C28"]),
            ("C29.3", ["C30"]),
            ("C30.3", ["C31"]),
            ("C26.1", ["C26"]),
            ("C26.5", ["C27"]),
            ("C32.5", ["C27"]),
            ("M72.1", ["M70"]),
            ("N79", ["N75"]),
            ("c26.1", ["C26"]),
        ],
    )
    def test_nace_to_ksic_honours_the_shift(self, mapper: Mapper, nace: str, ksic: list[str]) -> None:
        assert mapper.ksic_for_nace([nace]) == ksic

    def test_codes_of_unknown_divisions_are_ignored(self, mapper: Mapper) -> None:
        assert mapper.ksic_for_nace(["C99", "Z12", "hello"]) == []
        assert mapper.nace_for_ksic(["00000", "X"]) == []


class TestRegions:
    def test_seventeen_iso_regions(self, mapper: Mapper) -> None:
        codes = [r.iso_code for r in mapper.data.regions]
        assert len(codes) == len(set(codes)) == 17
        assert all(c.startswith("KR-") for c in codes)

    @pytest.mark.parametrize(
        ("hangul", "iso", "english"),
        [
            ("경기도", "KR-41", "Gyeonggi-do"),
            ("경기", "KR-41", "Gyeonggi-do"),
            ("강원도", "KR-42", "Gangwon-do"),
            ("강원특별자치도", "KR-42", "Gangwon-do"),
            ("전라북도", "KR-45", "Jeonbuk-do"),
            ("전북특별자치도", "KR-45", "Jeonbuk-do"),
            ("세종특별자치시", "KR-50", "Sejong"),  # legal-district code 36 is not ISO
            ("제주특별자치도", "KR-49", "Jeju-do"),  # legal-district code 50 is not ISO
        ],
    )
    def test_full_short_and_former_names(self, mapper: Mapper, hangul: str, iso: str, english: str) -> None:
        region = mapper.region(hangul)
        assert region is not None
        assert (region.iso_code, region.name_en) == (iso, english)


class TestFiles:
    def test_each_file_names_its_source(self) -> None:
        for path in default_dir("mappings").iterdir():
            if path.suffix in (".csv", ".toml"):
                first = path.read_text(encoding="utf-8").splitlines()[0]
                assert first.startswith("#"), path.name

    def test_links_file_ships_without_entries(self, mapper: Mapper) -> None:
        assert mapper.data.links.force == ()
        assert mapper.data.links.forbid == ()
        assert mapper.data.links.name_threshold == 0.9

    def test_config_dir_overrides_a_file(self, tmp_path: Path) -> None:
        (tmp_path / "mappings").mkdir()
        glossary = tmp_path / "mappings" / "glossary.csv"
        shutil.copy(default_dir("mappings") / "glossary.csv", glossary)
        with glossary.open("a", encoding="utf-8") as fh:
            fh.write("반월시화,Banwol-Sihwa Twin\n")
        mapper = Mapper.load(Settings(_env_file=None, config_dir=tmp_path))  # type: ignore[call-arg]
        assert mapper.romaniser.name("반월시화 미니클러스터") == "Banwol-Sihwa Twin Mini-Cluster"
