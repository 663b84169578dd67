"""Records and fakes the mapping tests share."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clusterbridge.abc import Translator
from clusterbridge.connectors.eccp.models import EccpCluster
from clusterbridge.connectors.kicox.models import KicoxCluster

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "clusterbridge" / "simulators" / "data"


def load_sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def kicox(**overrides: Any) -> KicoxCluster:
    raw: dict[str, Any] = {
        "clstrId": "KC-000101",
        "clstrNm": "반월시화 기계부품 미니클러스터",
        "clstrEngNm": "",
        "cmplxNm": "반월국가산업단지",
        "ctprvnNm": "경기도",
        "signguNm": "안산시",
        "rdnmadr": "경기도 안산시 단원구 산단로 123",
        "indutyNm": "기계·장비",
        "ksicCd": "29172",
        "mberCo": "153",
        "smeCo": "141",
        "rsrchInsttCo": "4",
        "estblYear": "2005",
        "hmpgUrl": "www.BSMachinery.or.kr ",
        "intrcn": "첫째 줄입니다.<br>둘째 줄입니다.\r\n셋째 줄",
        "cprtnIntrstCn": "유럽 클러스터와 공동 기술개발을 희망합니다.",
        "cprtnNatnCd": "DE,EL,UK",
        "chargerNm": "홍길동",
        "chargerTelno": "031-000-1047",
        "chargerEmail": "gdhong@example.or.kr",
        "chargerOthbcAt": "N",
        "updtDt": "20261106012623",
        "useAt": "Y",
    }
    raw.update(overrides)
    return KicoxCluster.model_validate(raw)


def eccp(attributes: dict[str, Any] | None = None, uuid: str = "307306a0-376c-4adb-9bd5-27a8c6159e7c") -> EccpCluster:
    attrs: dict[str, Any] = {
        "title": "Silicon Saxony",
        "field_acronym": "SiSax",
        "status": True,
        "changed": "2026-09-10T23:01:57+02:00",
        "langcode": "en",
        "field_description": {
            "value": "<p>Europe's largest <strong>microelectronics</strong> network.</p>",
            "format": "basic_html",
        },
        "field_website": {"uri": "https://www.silicon-saxony.de", "title": "silicon-saxony.de"},
        "field_country": "DE",
        "field_nuts_region": "DED2",
        "field_region_name": "Sachsen",
        "field_city": "Dresden",
        "field_year_established": 2000,
        "field_members_sme": 312,
        "field_members_large": 48,
        "field_members_research": 36,
        "field_members_other": 21,
        "field_ecosystems": ["Electronics", "Digital"],
        "field_nace_codes": ["C26.1", "J62"],
        "field_esca_label": "gold",
        "field_cooperation_interest": {
            "seeking": "R&D partners",
            "offering": "Market access",
            "target_countries": ["KR"],
        },
        "field_contact": {
            "name": "Tobias Engel",
            "email": "tobias.engel@example.eu",
            "phone": "+49 79 000 1408",
            "public": False,
        },
        "field_origin": "eccp",
    }
    attrs.update(attributes or {})
    return EccpCluster.model_validate({"type": "node--cluster_organisation", "id": uuid, "attributes": attrs})


class FakeTranslator(Translator):
    """Translates by table; counts what it was asked."""

    def __init__(self, table: dict[str, str], name: str = "fake") -> None:
        self.table = table
        self.name = name
        self.calls: list[tuple[list[str], str, str]] = []

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str) -> list[str | None]:
        self.calls.append((list(texts), source_lang, target_lang))
        return [self.table.get(t) for t in texts]
