"""Names, places and countries: own English wins, romanisation reads naturally, CLDR names countries."""

from __future__ import annotations

import pytest
from babel import Locale

from clusterbridge.mapping import romanise
from clusterbridge.mapping.romanise import Romaniser, romanise_word
from tests.mapping.mapping_samples import eccp, kicox
from tests.mapping.pipeline import Pipeline as Mapper


class TestClusterNames:
    def test_own_english_name_wins(self, mapper: Mapper) -> None:
        c = mapper.from_kicox(kicox(clstrEngNm="Banwol-Sihwa Machinery Parts Mini-Cluster"))
        assert c.name_en == "Banwol-Sihwa Machinery Parts Mini-Cluster"
        assert c.name_en_origin == "own"
        assert c.names["ko"] == "반월시화 기계부품 미니클러스터"

    @pytest.mark.parametrize("blank", ["", " ", None])
    def test_blank_english_name_is_romanised_with_the_glossary(self, mapper: Mapper, blank: str | None) -> None:
        c = mapper.from_kicox(kicox(clstrEngNm=blank))
        assert c.name_en == "Banwolsihwa Machinery Parts Mini-Cluster"
        assert c.name_en_origin == "romanised"
        assert c.names["ko"] == "반월시화 기계부품 미니클러스터"

    @pytest.mark.parametrize(
        ("hangul", "english"),
        [
            ("구미 반도체 소재부품 미니클러스터", "Gumi Semiconductor Materials and Parts Mini-Cluster"),
            ("울산 조선해양 미니클러스터", "Ulsan Shipbuilding & Offshore Mini-Cluster"),
            ("반월국가산업단지", "Banwol National Industrial Complex"),
            ("시화MTV 로봇 미니클러스터", "Sihwa MTV Robot Mini-Cluster"),
            ("창원 원전·에너지 미니클러스터", "Changwon Nuclear Power & Energy Mini-Cluster"),
            ("반월·시화 클러스터", "Banwol-Sihwa Cluster"),
        ],
    )
    def test_romanised_names_read_naturally(self, mapper: Mapper, hangul: str, english: str) -> None:
        assert mapper.romaniser.name(hangul) == english

    @pytest.mark.parametrize(("hangul", "latin"), [("신라", "silla"), ("종로", "jongno"), ("설날", "seollal")])
    def test_assimilation_the_library_leaves_out(self, hangul: str, latin: str) -> None:
        assert romanise_word(hangul) == latin

    def test_remembered_words_read_as_fresh_ones(self, mapper: Mapper, monkeypatch: pytest.MonkeyPatch) -> None:
        names = ["창원 원전·에너지 미니클러스터", "반월·시화 클러스터", "창원 기계 미니클러스터",
                 "구미 반도체 미니클러스터", "반월·시화 클러스터", "울산 조선해양 미니클러스터",
                 "창원 원전·에너지 미니클러스터"]
        fresh = [Romaniser(mapper.romaniser.glossary).name(n) for n in names]
        monkeypatch.setattr(romanise, "WORD_CACHE", 3)
        remembering = Romaniser(mapper.romaniser.glossary)
        assert [remembering.name(n) for n in names] == fresh
        assert 0 < len(remembering._words) <= 3  # bounded: emptied when full, then filled again

    def test_hangul_name_is_kept_on_the_eccp_mirror(self, mapper: Mapper) -> None:
        payload = mapper.to_eccp_mirror(mapper.from_kicox(kicox()))
        assert payload["title"] == "Banwolsihwa Machinery Parts Mini-Cluster"
        assert payload["field_description"]["value"].startswith("<p>Korean name: 반월시화 기계부품 미니클러스터</p>")

    def test_long_title_is_cut_at_a_word_boundary(self, mapper: Mapper) -> None:
        long_name = "Very Long Cluster Name " * 20
        payload = mapper.to_eccp_mirror(mapper.from_kicox(kicox(clstrEngNm=long_name)))
        assert len(payload["title"]) <= 255
        assert payload["title"].endswith("Name…") or payload["title"].endswith("Cluster…")


class TestPlaces:
    @pytest.mark.parametrize(
        ("region", "city", "iso", "region_en", "city_en"),
        [
            ("경기도", "안산시", "KR-41", "Gyeonggi-do", "Ansan-si"),
            ("울산광역시", "남구", "KR-31", "Ulsan", "Nam-gu"),
            ("울산광역시", "울주군", "KR-31", "Ulsan", "Ulju-gun"),
            ("경상남도", "창원시 성산구", "KR-48", "Gyeongsangnam-do", "Changwon-si Seongsan-gu"),
            ("서울특별시", "종로구", "KR-11", "Seoul", "Jongno-gu"),
        ],
    )
    def test_official_romanised_forms(
        self, mapper: Mapper, region: str, city: str, iso: str, region_en: str, city_en: str
    ) -> None:
        c = mapper.from_kicox(kicox(ctprvnNm=region, signguNm=city))
        assert c.region_code == iso
        assert c.region == {"ko": region, "en": region_en}
        assert c.city == {"ko": city, "en": city_en}
        payload = mapper.to_eccp_mirror(c)
        assert (payload["field_region_name"], payload["field_city"], payload["field_nuts_region"]) == (
            region_en,
            city_en,
            None,
        )

    def test_former_name_gives_the_current_region(self, mapper: Mapper) -> None:
        c = mapper.from_kicox(kicox(ctprvnNm="전라북도", signguNm="군산시"))
        assert (c.region_code, c.region["en"], c.region["ko"]) == ("KR-45", "Jeonbuk-do", "전북특별자치도")


class TestCountries:
    @pytest.mark.parametrize(("given", "iso"), [("EL", "GR"), ("UK", "GB"), ("DE", "DE")])
    def test_country_code_and_korean_name_from_cldr(self, mapper: Mapper, given: str, iso: str) -> None:
        payload = mapper.to_kicox_mirror(mapper.from_eccp(eccp({"field_country": given})))
        assert payload["natnCd"] == iso
        assert payload["natnNm"] == Locale("ko").territories[iso]

    def test_cooperation_countries_are_iso(self, mapper: Mapper) -> None:
        c = mapper.from_kicox(kicox(cprtnNatnCd="DE, el,UK,,xx1"))
        assert c.cooperation.target_countries == ("DE", "GR", "GB")
