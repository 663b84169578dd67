"""A hand-made European–Korean pair with every signal, and the English texts the engine would hand over."""

from __future__ import annotations

from clusterbridge.model import Cluster
from clusterbridge.partners import CooperationText, EnglishTexts
from tests.partners.sample_clusters import eccp_record, european, kicox_record, korean

BATTERY_EU_ID = "0b0b0b0b-0000-4000-8000-00000000b001"
BATTERY_KR_ID = "KC-900001"


def battery_eu(uuid: str = BATTERY_EU_ID, **attributes: object) -> Cluster:
    """A German battery cluster: NACE C27.2 (KSIC division C28), SME-heavy, seeking Korean partners."""
    fields: dict[str, object] = {
        "title": "Batterienetzwerk Nordhessen",
        "field_acronym": "BNH",
        "field_website": {"uri": "https://www.batterie-nordhessen.example", "title": "batterie-nordhessen.example"},
        "field_country": "DE",
        "field_nuts_region": "DE73",
        "field_region_name": "Kassel",
        "field_city": "Kassel",
        "field_members_sme": 85,
        "field_members_large": 5,
        "field_members_research": 8,
        "field_members_other": 2,
        "field_ecosystems": ["Energy-renewables", "Electronics"],
        "field_sectors": ["Batteries"],
        "field_technologies": ["Battery cells", "Recycling"],
        "field_nace_codes": ["C27.2"],
        "field_cooperation_interest": {
            "seeking": "Suppliers of cathode materials and battery cell production equipment",
            "offering": "Pilot lines for battery cell manufacturing and recycling",
            "target_countries": ["KR", "JP"],
        },
    }
    fields.update(attributes)
    return european(eccp_record(uuid, **fields))


def battery_kr(cluster_id: str = BATTERY_KR_ID, **fields: str) -> Cluster:
    """A Korean secondary-battery cluster (KSIC 28202), SME-heavy, naming Germany as a target country."""
    values = {
        "clstrNm": "오창 이차전지 소재 미니클러스터",
        "clstrEngNm": "Ochang Battery Materials Mini-Cluster",
        "cmplxNm": "오창과학산업단지",
        "ctprvnNm": "충청북도",
        "signguNm": "청주시",
        "rdnmadr": "충청북도 청주시 청원구 오창읍 과학산업2로 1",
        "indutyNm": "이차전지",
        "ksicCd": "28202",
        "mberCo": "100",
        "smeCo": "92",
        "rsrchInsttCo": "5",
        "hmpgUrl": "http://www.ochang-battery.example.or.kr",
        "cprtnIntrstCn": "유럽 클러스터와 이차전지 셀 제조 파일럿 라인 및 재활용 기술 협력을 희망합니다.",
        "cprtnNatnCd": "DE",
    }
    values.update(fields)
    return korean(kicox_record(cluster_id, **values))


def battery_texts() -> EnglishTexts:
    """The Korean cluster's cooperation texts in English, as the engine's translator would give them."""
    return EnglishTexts(
        kr={
            BATTERY_KR_ID: CooperationText(
                seeking="Cooperation on pilot lines for battery cell manufacturing and recycling with Europe",
                offering="Cathode materials and battery cell production equipment suppliers",
            )
        }
    )
