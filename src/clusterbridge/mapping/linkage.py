"""Record linkage (rule 11): which Korean clusters already have their own native ECCP profile.

A link is found by website (same host once scheme, 'www.' and path are stripped) or by name similarity
(rapidfuzz token-sort ratio of the Korean cluster's English and romanised names against the ECCP title),
and an operator can force or forbid any pair in mappings/links.toml. Each side is linked at most once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from clusterbridge.mapping.data import LinkOverrides
from clusterbridge.mapping.text import site_key
from clusterbridge.model import Cluster

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
    """A Korean cluster (KICOX clstrId) linked to its native ECCP profile (uuid)."""

    kicox_id: str
    eccp_id: str
    score: float
    method: Literal["domain", "name", "override"]


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


def _english_names(c: Cluster) -> list[str]:
    return [n for n in dict.fromkeys([c.name_en, *(v for k, v in c.names.items() if k != "ko")]) if n]


def match_natives(
    korean: Iterable[Cluster], eccp_korean: Iterable[Cluster], overrides: LinkOverrides, threshold: float | None = None
) -> list[Match]:
    """Matches ordered by KICOX id. Forced pairs come first; then candidates by score, highest first,
    each KICOX cluster and each ECCP profile used once; forbidden pairs are never proposed."""
    threshold = overrides.name_threshold if threshold is None else threshold
    kicox = {c.source_id: c for c in korean}
    eccp = {c.source_id: c for c in eccp_korean}
    forbidden = {(r.kicox_id, r.eccp_id) for r in overrides.forbid}

    matches: list[Match] = []
    taken_k: set[str] = set()
    taken_e: set[str] = set()
    for rule in overrides.force:
        # a forced pair needs both records present: a stale override must not hide a mirror
        if rule.kicox_id in kicox.keys() - taken_k and rule.eccp_id in eccp.keys() - taken_e:
            matches.append(Match(rule.kicox_id, rule.eccp_id, 1.0, "override"))
            taken_k.add(rule.kicox_id)
            taken_e.add(rule.eccp_id)

    candidates: list[tuple[float, float, str, str, Literal["domain", "name"]]] = []
    for kid, k in kicox.items():
        if kid in taken_k:
            continue
        k_site = site_key(k.website)
        names = _english_names(k)
        for eid, e in eccp.items():
            if eid in taken_e or (kid, eid) in forbidden:
                continue
            similarity = name_score(names, e.name_en)
            e_site = site_key(e.website)
            if k_site and k_site == e_site and k_site not in SHARED_HOSTS:
                candidates.append((1.0, similarity, kid, eid, "domain"))
            elif similarity >= threshold:
                candidates.append((round(similarity, 4), similarity, kid, eid, "name"))
    # best first; ties broken by name similarity, then ids, so the outcome never depends on input order
    for score, _sim, kid, eid, method in sorted(candidates, key=lambda c: (-c[0], -c[1], c[2], c[3])):
        if kid in taken_k or eid in taken_e:
            continue
        matches.append(Match(kid, eid, score, method))
        taken_k.add(kid)
        taken_e.add(eid)
    return sorted(matches, key=lambda m: m.kicox_id)
