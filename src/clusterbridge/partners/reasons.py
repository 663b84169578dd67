"""The sentences that explain a suggestion, in English and Korean, each naming its evidence.

Country names come from CLDR (Babel) in the sentence's own language; ecosystem names in Korean come from
the ecosystem table (mappings/ecosystems.csv).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from clusterbridge.mapping.countries import country_name
from clusterbridge.partners.facts import Facts

Sentence = tuple[str, str]  # (English, Korean)


def ecosystems(shared: Sequence[str], eu: Facts, ecosystems_ko: Mapping[str, str]) -> Sentence:
    """The shared ecosystems as the European cluster writes them, and their Korean labels."""
    names = [eu.ecosystem_names.get(key, key) for key in shared]
    korean = [ecosystems_ko.get(name.casefold(), name) for name in names]
    noun = "ecosystem" if len(names) == 1 else "ecosystems"
    return (
        f"both belong to the {_and(names)} {noun}",
        f"두 클러스터 모두 {', '.join(korean)} 산업생태계에 속합니다",
    )


def industries(divisions: Sequence[str], eu: Facts, kr: Facts) -> Sentence:
    """The Korean cluster's industry label, and each side's own codes in the shared KSIC divisions."""
    evidence = "; ".join(f"NACE {', '.join(eu.codes[d])} / KSIC {', '.join(kr.codes[d])}" for d in divisions)
    en = f"both work in {', '.join(kr.industry_en)}" if kr.industry_en else "both work in the same industry"
    ko = (
        f"두 클러스터 모두 {', '.join(kr.industry_ko)} 분야에서 활동합니다"
        if kr.industry_ko
        else "두 클러스터가 같은 업종에서 활동합니다"
    )
    return f"{en} ({evidence})", f"{ko} ({evidence})"


@cache
def countries(country: str, eu_names_korea: bool, kr_names_country: bool) -> Sentence:
    """Mutual or one-sided interest; `country` is the European cluster's. Cached: a country's sentences
    repeat across many suggestions."""
    country_en = country_name(country, "en") or country
    country_ko = country_name(country, "ko") or country
    if eu_names_korea and kr_names_country:
        return (
            f"the European cluster seeks Korean partners; the Korean cluster names {country_en}",
            f"유럽 클러스터는 한국 파트너를 찾고 있고, 한국 클러스터는 {_object(country_ko)} 협력 희망 국가로 "
            "꼽았습니다",
        )
    if eu_names_korea:
        return "the European cluster seeks Korean partners", "유럽 클러스터가 한국 파트너를 찾고 있습니다"
    return (
        f"the Korean cluster names {country_en} as a target country",
        f"한국 클러스터가 {_object(country_ko)} 협력 희망 국가로 꼽았습니다",
    )


def texts(eu_seeks: float | None, kr_seeks: float | None) -> Sentence:
    """`eu_seeks`: similarity (0..100) of the European cluster's seeking text to the Korean one's offering."""
    en: list[str] = []
    ko: list[str] = []
    if eu_seeks is not None:
        en.append(f"the European cluster seeks what the Korean cluster offers (similarity {eu_seeks:.0f} %)")
        ko.append(f"유럽 클러스터의 협력 희망 분야가 한국 클러스터의 제공 가능 분야와 맞습니다 ({_similar(eu_seeks)})")
    if kr_seeks is not None:
        en.append(f"the Korean cluster seeks what the European cluster offers (similarity {kr_seeks:.0f} %)")
        ko.append(f"한국 클러스터의 협력 희망 분야가 유럽 클러스터의 제공 가능 분야와 맞습니다 ({_similar(kr_seeks)})")
    return "; ".join(en), "; ".join(ko)


def _similar(ratio: float) -> str:
    return f"유사도 {ratio:.0f} %"


def members(eu_share: float, kr_share: float) -> Sentence:
    eu_pct, kr_pct = round(eu_share * 100), round(kr_share * 100)
    return (
        f"both are SME-heavy ({eu_pct} % / {kr_pct} % SMEs)",
        f"두 클러스터 모두 중소기업 중심입니다 (중소기업 비중 {eu_pct} % / {kr_pct} %)",
    )


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _object(word: str) -> str:
    """`word` with the Korean object particle its last syllable takes (독일을, 프랑스를)."""
    last = word[-1:] if word else ""
    if not "가" <= last <= "힣":
        return f"{word}을(를)"
    has_final_consonant = (ord(last) - ord("가")) % 28 != 0
    return f"{word}{'을' if has_final_consonant else '를'}"
