"""What the partner matcher reads from a `Cluster`: ecosystems, KSIC divisions, target countries, SME share,
and the English cooperation texts, each ready to compare.

Industries are compared as KSIC divisions: a European cluster's NACE codes go through the crosswalk (which
honours the manufacturing shift, NACE C28 ↔ KSIC C29), a Korean cluster's KSIC codes are read as they are.
Code strings of the two systems are never compared with each other.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from dataclasses import field as default
from typing import TypeVar, cast

from rapidfuzz import utils

from clusterbridge.mapping.codes import Crosswalk, ksic_division, unique
from clusterbridge.model import Cluster, Text
from clusterbridge.partners.weights import Weights

KOREA = "KR"
H = TypeVar("H", bound=Hashable)


@dataclass(frozen=True)
class CooperationText:
    """English wording of one cluster's cooperation texts, e.g. the engine's translations of Korean ones."""

    seeking: str | None = None
    offering: str | None = None


@dataclass(frozen=True)
class EnglishTexts:
    """English cooperation texts the caller holds, by side and source id. A cluster's own text is used when it
    is in English; otherwise the text given here, if any."""

    eu: Mapping[str, CooperationText] = default(default_factory=dict)
    kr: Mapping[str, CooperationText] = default(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Field:
    """A cluster's field of activity: what the industry and ecosystem signals compare."""

    ecosystems: frozenset[str]  # casefolded ECCP names
    divisions: frozenset[str]  # KSIC divisions, e.g. "C29"


@dataclass(frozen=True, slots=True)
class Profile:
    """What the structured signals see of a cluster: two clusters with equal profiles score alike against
    anyone, so the matcher scores a profile once. A European profile keeps only whether it targets Korea."""

    field: Field
    country: str
    targets: frozenset[str]
    sme_heavy: bool


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a cluster's reasons name besides its profile: clusters with the same codes, ecosystems and labels
    share one."""

    ecosystem_names: Mapping[str, str]  # casefolded → as the cluster writes it
    codes: Mapping[str, tuple[str, ...]]  # KSIC division → the cluster's own codes in it (NACE or KSIC)
    industry_en: tuple[str, ...]
    industry_ko: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Facts:
    """One cluster as the matcher sees it, with the evidence its reasons name. The matcher holds every
    cluster's facts at once, so they are six references: what clusters have in common is shared."""

    id: str
    profile: Profile
    evidence: Evidence
    sme_share: float | None
    seeking: str | None  # English, prepared for comparison
    offering: str | None

    @property
    def ecosystem_names(self) -> Mapping[str, str]:
        return self.evidence.ecosystem_names

    @property
    def codes(self) -> Mapping[str, tuple[str, ...]]:
        return self.evidence.codes

    @property
    def industry_en(self) -> tuple[str, ...]:
        return self.evidence.industry_en

    @property
    def industry_ko(self) -> tuple[str, ...]:
        return self.evidence.industry_ko


class FactReader:
    """Turns clusters into `Facts`; remembers crosswalk lookups, which every cluster of a run repeats.

    The matcher holds the facts of every cluster at once, and clusters repeat a few distinct fields, profiles,
    codes, labels, shares and cooperation texts: the facts of one run share one copy of each equal value
    (`begin` starts a run, `end` lets go of what found them once its facts are read)."""

    def __init__(self, crosswalk: Crosswalk, weights: Weights) -> None:
        self.crosswalk = crosswalk
        self.weights = weights
        self._ignore = frozenset(w.casefold() for w in weights.texts.ignore_words)
        self._nace_divisions: dict[str, tuple[str, ...]] = {}
        self._shared: dict[Hashable, Hashable] = {}
        self._evidence: dict[Hashable, Evidence] = {}
        self._shares: dict[float, float] = {}

    def begin(self) -> None:
        """A new run: the values shared by the facts of the last one are let go."""
        self.end()

    def end(self) -> None:
        """The run's facts are all read: the tables that found their equal values are let go (the facts keep
        the values they share)."""
        self._shared = {}
        self._evidence = {}
        self._shares = {}

    def european(self, c: Cluster, texts: CooperationText | None = None) -> Facts:
        """Facts of a European cluster: its NACE codes placed in KSIC divisions through the crosswalk."""
        codes: dict[str, list[str]] = {}
        for nace in unique(n for n in (self.crosswalk.parse_nace(raw) for raw in c.nace_codes) if n):
            for division in self._divisions_of_nace(nace):
                codes.setdefault(division, []).append(nace)
        targets = frozenset(c.cooperation.target_countries) & {KOREA}
        return self._facts(c, codes, targets, texts)

    def korean(self, c: Cluster, texts: CooperationText | None = None) -> Facts:
        """Facts of a Korean cluster: its KSIC codes by division (without any, its NACE codes' divisions)."""
        codes: dict[str, list[str]] = {}
        for ksic in unique(k for k in (self.crosswalk.parse_ksic(raw) for raw in c.ksic_codes) if k):
            codes.setdefault(ksic_division(ksic), []).append(ksic)
        if not codes:
            for nace in unique(n for n in (self.crosswalk.parse_nace(raw) for raw in c.nace_codes) if n):
                for division in self._divisions_of_nace(nace):
                    codes.setdefault(division, [division])
        return self._facts(c, codes, frozenset(c.cooperation.target_countries), texts)

    def prepare(self, text: str | None) -> str | None:
        """Text ready for the similarity scorer: lower case, punctuation gone, common cooperation words dropped."""
        if not text:
            return None
        words = [w for w in utils.default_process(text).split() if w not in self._ignore]
        return " ".join(words) or None

    def _facts(
        self, c: Cluster, codes: Mapping[str, list[str]], targets: frozenset[str], texts: CooperationText | None
    ) -> Facts:
        ecosystems = {name.casefold(): name for name in reversed(c.ecosystems) if name.strip()}
        share = _sme_share(c)
        one = self._one
        profile = one(Profile(
            field=one(Field(one(frozenset(ecosystems)), one(frozenset(codes)))),
            country=one(c.country),
            targets=one(targets),
            sme_heavy=share is not None and share >= self.weights.members.sme_heavy,
        ))
        own_codes = {division: tuple(unique(found)) for division, found in codes.items()}
        labels = tuple(c.industry_labels.get("en", ())), tuple(c.industry_labels.get("ko", ()))
        key = (tuple(ecosystems.items()), tuple(own_codes.items()), labels)
        evidence = self._evidence.get(key)
        if evidence is None:
            evidence = self._evidence[key] = Evidence(ecosystems, own_codes, *labels)
        return Facts(
            id=c.source_id,
            profile=profile,
            evidence=evidence,
            sme_share=None if share is None else self._shares.setdefault(share, share),
            seeking=one(self.prepare(_english(c.cooperation.seeking, texts.seeking if texts else None))),
            offering=one(self.prepare(_english(c.cooperation.offering, texts.offering if texts else None))),
        )

    def _one(self, value: H) -> H:
        """The run's one copy of a value equal to `value` (strings, sets and profiles: no two kinds compare
        equal; shares, numbers, have a table of their own)."""
        return cast(H, self._shared.setdefault(value, value))

    def _divisions_of_nace(self, nace: str) -> tuple[str, ...]:
        found = self._nace_divisions.get(nace)
        if found is None:
            found = tuple(unique(ksic_division(k) for k in self.crosswalk.nace_to_ksic(nace)))
            self._nace_divisions[nace] = found
        return found


def _english(own: Text | None, translated: str | None) -> str | None:
    """The cluster's own text when it is English, else the caller's English version of it."""
    if own is not None and own.lang.split("-")[0].lower() == "en":
        return own.text
    return translated


def _sme_share(c: Cluster) -> float | None:
    total, sme = c.members.total, c.members.sme
    if total is None or sme is None or total <= 0:
        return None
    return min(1.0, sme / total)
