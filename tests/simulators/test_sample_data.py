"""The sample data shipped with the simulators: shape, variety and the traps it must carry."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from datetime import datetime
from difflib import SequenceMatcher
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.contracts import ECOSYSTEMS, INDUSTRY_LABELS
from tests.contracts import validator as contract_validator

KOREAN_REGIONS = frozenset(
    {
        "서울특별시",
        "부산광역시",
        "대구광역시",
        "인천광역시",
        "광주광역시",
        "대전광역시",
        "울산광역시",
        "세종특별자치시",
        "경기도",
        "강원특별자치도",
        "충청북도",
        "충청남도",
        "전북특별자치도",
        "전라남도",
        "경상북도",
        "경상남도",
        "제주특별자치도",
        "강원도",
        "전라북도",  # older names still found in records
    }
)
OLD_REGION_NAMES = {"강원도": "강원특별자치도", "전라북도": "전북특별자치도"}
KOREAN_CLUSTER_FIELDS = frozenset(
    {
        "clstrId",
        "clstrNm",
        "clstrEngNm",
        "cmplxNm",
        "ctprvnNm",
        "signguNm",
        "rdnmadr",
        "indutyNm",
        "ksicCd",
        "mberCo",
        "smeCo",
        "rsrchInsttCo",
        "estblYear",
        "hmpgUrl",
        "intrcn",
        "cprtnIntrstCn",
        "cprtnNatnCd",
        "chargerNm",
        "chargerTelno",
        "chargerEmail",
        "chargerOthbcAt",
        "updtDt",
        "useAt",
    }
)


def _load(name: str) -> dict[str, Any]:
    text = resources.files("clusterbridge.simulators.data").joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.fixture(scope="module")
def eccp() -> list[dict[str, Any]]:
    data = _load("eccp.json")
    assert set(data) == {"data"}
    return list(data["data"])


@pytest.fixture(scope="module")
def kicox() -> list[dict[str, str]]:
    data = _load("kicox.json")
    assert set(data) == {"clusters"}
    return list(data["clusters"])


@pytest.fixture(scope="module")
def attrs(eccp: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["attributes"] for r in eccp]




def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# ---------------------------------------------------------------------------------------------------------------
# ECCP


def test_eccp_counts_and_countries(attrs: list[dict[str, Any]]) -> None:
    european = [a for a in attrs if a["field_country"] != "KR"]
    korean = [a for a in attrs if a["field_country"] == "KR"]
    assert len(european) >= 44
    assert len(korean) >= 2
    countries = Counter(a["field_country"] for a in european)
    assert len(countries) >= 13
    assert {"DE", "FR", "IT", "ES", "NL", "BE", "AT", "DK", "SE", "FI", "PL", "CZ", "EL", "PT", "IE"} <= set(countries)
    assert "GR" not in countries  # ECCP writes Greece as EL
    assert len({a["field_nuts_region"] for a in european}) >= 10
    assert all(
        a["field_nuts_region"] and re.fullmatch(r"[A-Z]{2}[0-9A-Z]{2}", a["field_nuts_region"]) for a in european
    )
    assert all(a["field_nuts_region"].startswith(a["field_country"]) for a in european)


def test_eccp_ids_unique(eccp: list[dict[str, Any]], attrs: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in eccp]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids)
    nids = [a["drupal_internal__nid"] for a in attrs]
    assert nids == sorted(set(nids))  # unique and increasing
    titles = [a["title"] for a in attrs]
    assert len(set(titles)) == len(titles)


def test_eccp_exactly_one_unpublished(attrs: list[dict[str, Any]]) -> None:
    assert sum(1 for a in attrs if a["status"] is False) == 1
    assert all(isinstance(a["status"], bool) for a in attrs)


def test_eccp_timestamps(attrs: list[dict[str, Any]]) -> None:
    stamp = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")
    for a in attrs:
        assert stamp.fullmatch(a["created"])
        assert stamp.fullmatch(a["changed"])
        created, changed = datetime.fromisoformat(a["created"]), datetime.fromisoformat(a["changed"])
        assert created <= changed
        assert 2024 <= created.year <= 2026
        assert 2024 <= changed.year <= 2026
    assert {datetime.fromisoformat(a["changed"]).year for a in attrs} == {2024, 2025, 2026}
    assert Counter(a["changed"] for a in attrs).most_common(1)[0][1] >= 3


def test_eccp_vocabularies(attrs: list[dict[str, Any]]) -> None:
    used = {e for a in attrs for e in a["field_ecosystems"]}
    assert used <= ECOSYSTEMS
    assert used == ECOSYSTEMS  # every ecosystem occurs, so mappings see all of them
    assert all(a["field_ecosystems"] for a in attrs)
    nace = re.compile(r"[A-U]\d{2}(\.\d{1,2})?")
    assert all(nace.fullmatch(code) for a in attrs for code in a["field_nace_codes"])
    assert {a["field_esca_label"] for a in attrs} == {"gold", "silver", "bronze", None}
    assert all(a["langcode"] == "en" and a["field_origin"] == "eccp" and a["field_external_id"] is None for a in attrs)


def test_eccp_contacts_public_and_private(attrs: list[dict[str, Any]]) -> None:
    contacts = [a["field_contact"] for a in attrs if a["field_contact"]]
    assert {c["public"] for c in contacts} == {True, False}
    assert all(c["email"].endswith(("@example.org", "@example.eu")) for c in contacts)
    assert all(" 000 " in c["phone"] for c in contacts)


def test_eccp_hostile_markup(attrs: list[dict[str, Any]]) -> None:
    html = [a["field_description"]["value"] for a in attrs]
    assert all(a["field_description"]["format"] == "basic_html" for a in attrs)
    assert sum("<script>alert('x')</script>" in h for h in html) == 1
    assert sum("onclick=" in h for h in html) == 1
    assert sum("javascript:" in h for h in html) == 1
    assert any("<ul>" in h and "<li>" in h for h in html)
    assert any("<strong>" in h for h in html)
    assert any("<a href=" in h for h in html)


def test_eccp_cooperation_interest(attrs: list[dict[str, Any]]) -> None:
    interests = [a["field_cooperation_interest"] for a in attrs if a["field_cooperation_interest"]]
    assert len(interests) >= len(attrs) // 2
    assert any("KR" in i["target_countries"] for i in interests)
    assert all(i["seeking"] and i["offering"] for i in interests)


def test_eccp_validates_against_contract(eccp: list[dict[str, Any]]) -> None:
    validator = contract_validator("eccp", "ClusterAttributes")
    for record in eccp:
        errors = [e.message for e in validator.iter_errors(record["attributes"])]
        assert not errors, (record["id"], errors)


def test_contract_accepts_el() -> None:
    validator = contract_validator("eccp", "ClusterAttributes")
    assert validator.is_valid({"title": "x", "field_country": "EL", "field_origin": "eccp"})
    assert not validator.is_valid({"title": "x", "field_country": "Greece", "field_origin": "eccp"})


# ---------------------------------------------------------------------------------------------------------------
# KICOX


def test_kicox_counts_and_regions(kicox: list[dict[str, str]]) -> None:
    assert len(kicox) >= 42
    regions = {r["ctprvnNm"] for r in kicox}
    assert regions <= KOREAN_REGIONS
    assert len({OLD_REGION_NAMES.get(r, r) for r in regions}) >= 11
    assert {"강원도", "전라북도"} <= regions  # the older names still occur


def test_kicox_every_value_a_string(kicox: list[dict[str, str]]) -> None:
    for record in kicox:
        assert set(record) == KOREAN_CLUSTER_FIELDS
        assert all(isinstance(v, str) for v in record.values()), record["clstrId"]


def test_kicox_ids_unique(kicox: list[dict[str, str]]) -> None:
    ids = [r["clstrId"] for r in kicox]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"KC-\d{6}", i) for i in ids)
    names = [r["clstrNm"] for r in kicox]
    assert len(set(names)) == len(names)


def test_kicox_exactly_one_withdrawn(kicox: list[dict[str, str]]) -> None:
    assert Counter(r["useAt"] for r in kicox) == {"Y": len(kicox) - 1, "N": 1}


def test_kicox_labels_and_codes(kicox: list[dict[str, str]]) -> None:
    labels = {r["indutyNm"] for r in kicox}
    assert labels <= INDUSTRY_LABELS
    assert len(labels) >= 15
    code = re.compile(r"\d{5}|C\d{2}")
    for r in kicox:
        assert all(code.fullmatch(c) for c in r["ksicCd"].split(",")), r["ksicCd"]
    assert any("," in r["ksicCd"] for r in kicox)
    assert any(r["ksicCd"].startswith("C") for r in kicox)


def test_kicox_habits(kicox: list[dict[str, str]]) -> None:
    english = [r["clstrEngNm"] for r in kicox]
    assert english.count(" ") >= 2  # the unknown habit
    named = sum(1 for e in english if e.strip())
    assert 0.35 <= named / len(kicox) <= 0.65
    assert any(r["rsrchInsttCo"] == " " for r in kicox)
    assert any(r["hmpgUrl"] == "" for r in kicox)
    assert any(r["cprtnIntrstCn"] == "" for r in kicox)
    assert any(r["cprtnNatnCd"] == "" for r in kicox)
    assert any("<br>" in r["intrcn"] for r in kicox)
    assert any("\r\n" in r["intrcn"] for r in kicox)
    assert any("<script>" in r["intrcn"] for r in kicox)
    assert {r["chargerOthbcAt"] for r in kicox} == {"Y", "N"}
    assert all(r["chargerEmail"].endswith("@example.or.kr") for r in kicox)
    assert all(re.fullmatch(r"0\d{1,2}-000-\d{4}", r["chargerTelno"]) for r in kicox)
    for r in kicox:
        for field in ("mberCo", "smeCo", "rsrchInsttCo", "estblYear"):
            assert r[field] == " " or r[field].isdigit()
        if r["cprtnNatnCd"]:
            assert all(re.fullmatch(r"[A-Z]{2}", c) for c in r["cprtnNatnCd"].split(","))


def test_kicox_timestamps(kicox: list[dict[str, str]]) -> None:
    stamps = [r["updtDt"] for r in kicox]
    for s in stamps:
        datetime.strptime(s, "%Y%m%d%H%M%S")  # KST wall time: checked for form only
    assert {s[:4] for s in stamps} == {"2024", "2025", "2026"}
    assert Counter(stamps).most_common(1)[0][1] >= 2


def test_kicox_validates_against_contract(kicox: list[dict[str, str]]) -> None:
    validator = contract_validator("kicox", "KoreanCluster")
    for record in kicox:
        errors = [e.message for e in validator.iter_errors(record)]
        assert not errors, (record["clstrId"], errors)


# ---------------------------------------------------------------------------------------------------------------
# the Korean clusters that also keep a native ECCP profile


def test_korean_profiles_on_eccp_match_kicox(attrs: list[dict[str, Any]], kicox: list[dict[str, str]]) -> None:
    korean = [a for a in attrs if a["field_country"] == "KR"]
    assert len(korean) >= 2
    kicox_hosts = {_host(r["hmpgUrl"]): r for r in kicox if r["hmpgUrl"]}
    by_domain = [a for a in korean if a["field_website"] and _host(a["field_website"]["uri"]) in kicox_hosts]
    assert len(by_domain) == 1
    match = kicox_hosts[_host(by_domain[0]["field_website"]["uri"])]
    assert by_domain[0]["field_website"]["uri"] != match["hmpgUrl"]  # same domain, written differently

    def best(title: str) -> tuple[float, dict[str, str]]:
        return max(
            (SequenceMatcher(None, _normalised(title), _normalised(r["clstrEngNm"])).ratio(), r)
            for r in kicox
            if r["clstrEngNm"].strip()
        )

    by_name = [a for a in korean if a not in by_domain]
    assert by_name
    score, twin = best(by_name[0]["title"])
    assert score >= 0.9
    assert by_name[0]["title"] != twin["clstrEngNm"]  # near-identical, not identical
    assert not by_name[0]["field_website"] or _host(by_name[0]["field_website"]["uri"]) != _host(twin["hmpgUrl"])
    assert twin is not match
