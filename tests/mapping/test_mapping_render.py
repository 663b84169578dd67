"""Mirror payloads for each platform: the fields the contracts name, deterministic, errors naming fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from clusterbridge.connectors.kicox.models import ForeignCluster
from tests.mapping.mapping_samples import FakeTranslator, eccp, kicox
from tests.mapping.pipeline import Pipeline as Mapper


def dump(payload: dict[str, object]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


class TestNormalise:
    def test_kicox_record(self, mapper: Mapper) -> None:
        c = mapper.from_kicox(kicox())
        assert (c.source, c.source_id, c.key, c.live) == ("kr", "KC-000101", "kr:KC-000101", True)
        assert c.source_changed == datetime(2026, 11, 5, 16, 26, 23, tzinfo=UTC)
        assert c.website == "http://www.bsmachinery.or.kr"
        assert c.members.total == 153
        assert c.members.sme == 141
        assert c.members.research == 4
        assert c.members.other == 8
        assert c.ecosystems == ("Mobility-Transport-Automotive",)
        assert c.ksic_codes == ("C29172",)
        assert mapper.rendered(c).codes == ("C28",)  # NACE for European readers, through the crosswalk
        assert c.industry_labels == {"ko": ("기계·장비",), "en": ("Machinery and Equipment",)}
        assert c.industrial_complex == {"ko": "반월국가산업단지", "en": "Banwol National Industrial Complex"}

    def test_withdrawn_kicox_record_is_not_live(self, mapper: Mapper) -> None:
        assert mapper.from_kicox(kicox(useAt="N")).live is False

    def test_inconsistent_member_counts_leave_other_unknown(self, mapper: Mapper) -> None:
        c = mapper.from_kicox(kicox(mberCo="10", smeCo="9", rsrchInsttCo="4"))
        assert c.members.other is None

    def test_eccp_record(self, mapper: Mapper) -> None:
        c = mapper.from_eccp(eccp())
        assert (c.source, c.source_id, c.live, c.name_en_origin) == ("eu", eccp().id, True, "source")
        assert c.source_changed == datetime(2026, 9, 10, 21, 1, 57, tzinfo=UTC)
        assert c.nace_codes == ("C26.1", "J62")
        assert mapper.rendered(c).codes == ("C26", "J62")  # KSIC divisions for Korean readers
        assert c.members.total == 312 + 48 + 36 + 21

    def test_unpublished_eccp_record_is_not_live(self, mapper: Mapper) -> None:
        assert mapper.from_eccp(eccp({"status": False})).live is False


class TestEccpMirror:
    def test_fields(self, mapper: Mapper) -> None:
        p = mapper.to_eccp_mirror(mapper.from_kicox(kicox(ksicCd="29172,28302")))
        assert p["field_origin"] == "kicox"
        assert p["field_external_id"] == "KC-000101"
        assert p["status"] is True
        assert p["field_country"] == "KR"
        assert p["field_source_changed"] == "2026-11-05T16:26:23+00:00"
        assert p["field_original_language"] == "ko"
        assert p["field_nace_codes"] == ["C28", "C27"]
        assert p["field_ecosystems"] == ["Mobility-Transport-Automotive"]
        assert p["field_website"] == {"uri": "http://www.bsmachinery.or.kr", "title": "bsmachinery.or.kr"}
        assert (p["field_members_sme"], p["field_members_research"], p["field_members_other"]) == (141, 4, 8)
        assert p["field_cooperation_interest"] == {
            "seeking": "유럽 클러스터와 공동 기술개발을 희망합니다.",
            "offering": "",
            "target_countries": ["DE", "GR", "GB"],
        }

    def test_ecosystems_come_from_ksic_when_the_label_is_unknown(self, mapper: Mapper) -> None:
        p = mapper.to_eccp_mirror(mapper.from_kicox(kicox(indutyNm="새로운 업종", ksicCd="26110")))
        assert p["field_ecosystems"] == ["Electronics"]
        assert p["field_nace_codes"] == ["C26"]

    def test_korean_text_is_translated_when_a_translator_gives_text(self, settings: object) -> None:
        fake = FakeTranslator(
            {"유럽 클러스터와 공동 기술개발을 희망합니다.": "We seek joint R&D with European clusters."}
        )
        mapper = Mapper.load(settings, translator=fake)  # type: ignore[arg-type]
        p = mapper.to_eccp_mirror(mapper.from_kicox(kicox()))
        assert p["field_cooperation_interest"]["seeking"] == (
            "We seek joint R&D with European clusters.\n\n"
            "[Machine translation from Korean] Original (Korean): 유럽 클러스터와 공동 기술개발을 희망합니다.")
        assert p["field_original_language"] == "ko"
        assert fake.calls
        assert fake.calls[0][1:] == ("ko", "en")

    def test_translated_introduction_is_marked(self, settings: object) -> None:
        fake = FakeTranslator({"첫째 줄입니다.\n둘째 줄입니다.\n셋째 줄": "First line.\nSecond line.\nThird"})
        mapper = Mapper.load(settings, translator=fake)  # type: ignore[arg-type]
        value = mapper.to_eccp_mirror(mapper.from_kicox(kicox()))["field_description"]["value"]
        assert "<p>Machine translation from Korean:</p><p>First line.<br>Second line.<br>Third</p>" in value

    def test_rendering_is_deterministic_and_provider_blind(self, settings: object) -> None:
        table = {"유럽 클러스터와 공동 기술개발을 희망합니다.": "Joint R&D."}
        one = Mapper.load(settings, translator=FakeTranslator(table, name="deepl"))  # type: ignore[arg-type]
        two = Mapper.load(settings, translator=FakeTranslator(table, name="papago"))  # type: ignore[arg-type]
        c = one.from_kicox(kicox())
        assert dump(one.to_eccp_mirror(c)) == dump(one.to_eccp_mirror(c)) == dump(two.to_eccp_mirror(c))
        e = one.from_eccp(eccp())
        assert dump(one.to_kicox_mirror(e)) == dump(two.to_kicox_mirror(e))
        assert "deepl" not in dump(one.to_eccp_mirror(c))


class TestKicoxMirror:
    def test_fields_validate_against_the_contract(self, mapper: Mapper) -> None:
        p = mapper.to_kicox_mirror(mapper.from_eccp(eccp()))
        ForeignCluster.model_validate(p)
        assert p["extrlId"] == "eccp:307306a0-376c-4adb-9bd5-27a8c6159e7c"
        assert p["srcSysCd"] == "ECCP"
        assert p["clstrEngNm"] == "Silicon Saxony"
        assert p["clstrNm"] == ""
        assert p["natnCd"] == "DE"
        assert p["natnNm"] == "독일"
        assert p["rgnNm"] == "Sachsen (DED2)"
        assert p["ctyNm"] == "Dresden"
        assert p["ecsysNm"] == "Electronics; Digital"
        assert p["indutyNm"].split("; ")[:2] == ["전자", "디지털"]
        assert p["ksicCd"] == "C26,J62"
        assert (p["mberCo"], p["smeCo"], p["rsrchInsttCo"]) == (417, 312, 36)
        assert p["qlityLblNm"] == "gold"
        assert p["srcUpdtDt"] == "2026-09-10T21:01:57+00:00"
        assert datetime.fromisoformat(p["srcUpdtDt"]).utcoffset() is not None
        assert p["intrcnLang"] == "en"
        assert p["cprtnNatnCd"] == "KR"
        assert "R&D partners" in p["cprtnIntrstCn"]
        assert "Market access" in p["cprtnIntrstCn"]

    def test_ksic_from_ecosystems_when_no_nace(self, mapper: Mapper) -> None:
        p = mapper.to_kicox_mirror(mapper.from_eccp(eccp({"field_nace_codes": [], "field_ecosystems": ["Textiles"]})))
        assert p["ksicCd"] == "C13,C14,C15"
        assert p["indutyNm"].startswith("섬유")

    def test_external_ids(self, mapper: Mapper) -> None:
        assert mapper.external_id(mapper.from_eccp(eccp())) == "eccp:307306a0-376c-4adb-9bd5-27a8c6159e7c"
        assert mapper.external_id(mapper.from_kicox(kicox())) == "KC-000101"

    def test_unrenderable_record_names_the_field(self, mapper: Mapper) -> None:
        c = mapper.from_eccp(eccp()).model_copy(update={"name_en": "   "})
        with pytest.raises(ValueError, match=r"^name"):
            mapper.to_kicox_mirror(c)
        k = mapper.from_kicox(kicox()).model_copy(update={"name_en": "\x00"})
        with pytest.raises(ValueError, match=r"^name"):
            mapper.to_eccp_mirror(k)


class TestTranslatorFailure:
    def test_a_failing_provider_leaves_the_original_text(self, settings: object) -> None:
        from clusterbridge.abc import Translator
        from clusterbridge.translate import TranslationError

        class Broken(Translator):
            name = "broken"

            def translate(self, texts: object, source_lang: str, target_lang: str) -> list[str | None]:
                raise TranslationError("broken", "HTTP 503")

        mapper = Mapper.load(settings, translator=Broken())  # type: ignore[arg-type]
        payload = mapper.to_eccp_mirror(mapper.from_kicox(kicox()))
        assert payload["field_cooperation_interest"]["seeking"] == "유럽 클러스터와 공동 기술개발을 희망합니다."
        assert "Machine translation" not in payload["field_description"]["value"]
