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
from operator import attrgetter
from typing import Literal

from rapidfuzz import fuzz, process

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


@dataclass(frozen=True, slots=True)
class Match:
    """A home native linked to its own profile on the other platform."""

    home_id: str
    profile_id: str
    score: float
    method: Method


@dataclass(frozen=True, slots=True)
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


class ProfileIndex:
    """The candidate profiles, prepared once: comparable names and website keys, so that each home native costs
    one pass of rapidfuzz's C loop over the names and one dictionary look-up for its website."""

    def __init__(self, profiles: Iterable[Cluster], overrides: LinkOverrides, threshold: float | None = None):
        self.overrides = overrides
        self.threshold = overrides.name_threshold if threshold is None else threshold
        self.ids: list[str] = []
        self.names: list[str] = []
        self.by_site: dict[str, list[int]] = {}
        for profile in profiles:
            index = len(self.ids)
            self.ids.append(profile.source_id)
            self.names.append(comparable_name(profile.name_en))
            site = site_key(profile.website)
            if site and site not in SHARED_HOSTS:
                self.by_site.setdefault(site, []).append(index)
        self.known = set(self.ids)
        self.forced = {(r.home_id, r.profile_id) for r in overrides.force}
        self.forbidden = {(r.home_id, r.profile_id) for r in overrides.forbid}

    def pairs(self, home: Cluster) -> list[Pair]:
        """Every pair this home native could form: forced, same website, or names at least `threshold` alike;
        forbidden pairs never."""
        out: list[Pair] = []
        for rule in self.overrides.force:
            if rule.home_id == home.source_id and rule.profile_id in self.known:
                out.append(Pair(home.source_id, rule.profile_id, 1.0, 1.0, "override"))
        names = [name for name in map(comparable_name, _latin_names(home)) if name]
        site = site_key(home.website)
        same_site = set(self.by_site.get(site, ())) if site and site not in SHARED_HOSTS else set()
        # rapidfuzz's C loop returns only the names at or over the threshold (from a hair under it, so that a
        # score exactly on it counts however threshold * 100 rounds); a same-website profile gets its
        # similarity however low, which settling uses to order two pairs of one website
        cutoff = max(self.threshold * 100 - 1e-6, 0)
        similarity: dict[int, float] = {}
        for name in names:
            for _choice, score, index in process.extract(name, self.names, scorer=fuzz.token_sort_ratio,
                                                         score_cutoff=cutoff, limit=None):
                similarity[index] = max(similarity.get(index, 0.0), score / 100)
        for index in same_site - similarity.keys():
            similarity[index] = max((fuzz.token_sort_ratio(name, self.names[index]) / 100 for name in names),
                                    default=0.0)
        for index in sorted(same_site | {i for i, v in similarity.items() if v >= self.threshold}):
            profile_id = self.ids[index]
            key = (home.source_id, profile_id)
            if key in self.forbidden or key in self.forced:
                continue
            value = similarity.get(index, 0.0)
            if index in same_site:
                out.append(Pair(home.source_id, profile_id, 1.0, value, "domain"))
            else:
                out.append(Pair(home.source_id, profile_id, round(value, 4), value, "name"))
        return out


def candidate_pairs(
    homes: Iterable[Cluster], profiles: Iterable[Cluster], overrides: LinkOverrides, threshold: float | None = None
) -> list[Pair]:
    """Every pair that could be one cluster's two profiles: forced pairs, same website, or names at least
    `threshold` alike; forbidden pairs never."""
    index = ProfileIndex(profiles, overrides, threshold)
    return [pair for home in homes for pair in index.pairs(home)]


def settle_pairs(pairs: Iterable[Pair]) -> list[Match]:
    """One partner each: forced pairs first, then by score, name similarity and ids (never by input order)."""
    order = {"override": 0, "domain": 1, "name": 1}
    taken_home: set[str] = set()
    taken_profile: set[str] = set()
    matches: list[Match] = []
    # sorted key by key, the last first (each sort keeps the order of the ones before among equals): a listing's
    # pairs are sorted at once, and one key tuple a pair, with two negated numbers, took more than the pairs
    ranked = sorted(pairs, key=attrgetter("profile_id"))
    ranked.sort(key=attrgetter("home_id"))
    ranked.sort(key=attrgetter("similarity"), reverse=True)
    ranked.sort(key=attrgetter("score"), reverse=True)
    ranked.sort(key=lambda p: order[p.method])
    for p in ranked:
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
