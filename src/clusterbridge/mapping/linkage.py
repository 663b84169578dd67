"""Record linkage (rule 11): which clusters native to one side (home: Korean clusters on KICOX) already have
their own native profile on the other platform (ECCP profiles located in Korea).

A pair is found by website (same host once scheme, 'www.' and path are stripped) or by name similarity
(rapidfuzz token-sort ratio of the home cluster's English and romanised names against the profile's name),
and an operator can force or forbid any pair in mappings/links.toml. Each side is linked at most once.
Scoring (`candidate_pairs`) and settling (`settle_pairs`) are separate, so the engine can score the home
natives page by page and settle every pair once both sides were read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from clusterbridge.mapping.clean import site_key
from clusterbridge.mapping.data import LinkOverrides
from clusterbridge.model import Cluster

Method = Literal["domain", "name", "override"]

# hosts many unrelated organisations share; a match on them proves nothing
SHARED_HOSTS = frozenset(
    {
        "blog.naver.com",
        "cafe.naver.com",
        "naver.com",
        "cafe.daum.net",
        "sites.google.com",
        "facebook.com",
        "linkedin.com",
        "tistory.com",
        "instagram.com",
        "youtube.com",
    }
)


@dataclass(frozen=True)
class Match:
    """A home native linked to its own profile on the other platform."""

    home_id: str
    profile_id: str
    score: float
    method: Method


@dataclass(frozen=True)
class Pair:
    """A possible match, before each side is settled to one partner. `rank` orders forced pairs first."""

    home_id: str
    profile_id: str
    score: float
    similarity: float
    method: Method


def comparable_name(name: str) -> str:
    """Lower case, accents and punctuation gone, hyphens as spaces: 'Mini-Cluster' ≈ 'Mini Cluster'."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def name_score(names: Iterable[str], title: str) -> float:
    target = comparable_name(title)
    if not target:
        return 0.0
    scores = [fuzz.token_sort_ratio(comparable_name(n), target) / 100 for n in names if comparable_name(n)]
    return max(scores, default=0.0)


def _latin_names(c: Cluster) -> list[str]:
    return [n for n in dict.fromkeys([c.name_en, *(v for k, v in c.names.items() if k != "ko")]) if n]


def candidate_pairs(
    homes: Iterable[Cluster], profiles: Iterable[Cluster], overrides: LinkOverrides, threshold: float | None = None
) -> list[Pair]:
    """Every pair that could be one cluster's two profiles: forced pairs, same website, or names at least
    `threshold` alike; forbidden pairs never."""
    threshold = overrides.name_threshold if threshold is None else threshold
    profile_list = list(profiles)
    profile_ids = {p.source_id for p in profile_list}
    forced = {(r.home_id, r.profile_id) for r in overrides.force}
    forbidden = {(r.home_id, r.profile_id) for r in overrides.forbid}
    out: list[Pair] = []
    for home in homes:
        for rule in overrides.force:
            if rule.home_id == home.source_id and rule.profile_id in profile_ids:
                out.append(Pair(home.source_id, rule.profile_id, 1.0, 1.0, "override"))
        site = site_key(home.website)
        names = _latin_names(home)
        for profile in profile_list:
            key = (home.source_id, profile.source_id)
            if key in forbidden or key in forced:
                continue
            similarity = name_score(names, profile.name_en)
            if site and site == site_key(profile.website) and site not in SHARED_HOSTS:
                out.append(Pair(home.source_id, profile.source_id, 1.0, similarity, "domain"))
            elif similarity >= threshold:
                out.append(Pair(home.source_id, profile.source_id, round(similarity, 4), similarity, "name"))
    return out


def settle_pairs(pairs: Iterable[Pair]) -> list[Match]:
    """One partner each: forced pairs first, then by score, name similarity and ids (never by input order)."""
    order = {"override": 0, "domain": 1, "name": 1}
    taken_home: set[str] = set()
    taken_profile: set[str] = set()
    matches: list[Match] = []
    for p in sorted(pairs, key=lambda p: (order[p.method], -p.score, -p.similarity, p.home_id, p.profile_id)):
        if p.home_id in taken_home or p.profile_id in taken_profile:
            continue
        matches.append(Match(p.home_id, p.profile_id, p.score, p.method))
        taken_home.add(p.home_id)
        taken_profile.add(p.profile_id)
    return sorted(matches, key=lambda m: m.home_id)


def match_natives(
    homes: Iterable[Cluster], profiles: Iterable[Cluster], overrides: LinkOverrides, threshold: float | None = None
) -> list[Match]:
    """Matches ordered by home id: `candidate_pairs` settled at once."""
    return settle_pairs(candidate_pairs(homes, profiles, overrides, threshold))
