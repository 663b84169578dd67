"""Partner suggestions: European–Korean cluster pairs worth introducing to each other, each with its reasons.

Pure: no I/O but `Matcher.load`, which reads the mappings and the weights; everything else is tested without
servers. Which pairs can appear at all: a pair is *eligible* only when the two clusters share an EU
industrial ecosystem, or share a KSIC division (industry signal), or each names the other's country (mutual
interest: the European cluster names KR and the Korean cluster names the European cluster's country).
Text similarity, a one-sided country interest and the member mix only refine an eligible pair's score.

The score is the weighted mean of the signal values (mappings/partner_weights.toml), rounded to 4 decimals;
a cluster's partners are ranked by score, then by id, so nothing depends on the order of the records.

Scale (10,000 clusters a side): clusters with the same structured profile score alike against anyone, so
they are grouped; an inverted index over ecosystems, divisions and target countries gives each group only
the groups it is eligible with (blocking: no other pair is ever scored), and for each cluster only the
candidates whose structured score plus the best possible text score can still reach its N-th best
structured score get their texts compared.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz

from clusterbridge.config import Settings
from clusterbridge.mapping.codes import Crosswalk
from clusterbridge.model import Cluster
from clusterbridge.partners import reasons
from clusterbridge.partners.facts import KOREA, EnglishTexts, FactReader, Facts, Profile, overlap
from clusterbridge.partners.weights import Weights, load_weights

Signal = Literal["industries", "ecosystems", "countries", "texts", "members"]
DECIMALS = 4
TEXT_CACHE = 1 << 16  # text pairs remembered within one run (generated and template texts repeat a lot)


@dataclass(frozen=True)
class Reason:
    """One signal's evidence: a short sentence in English and in Korean, and what it adds to the score."""

    signal: Signal
    en: str
    ko: str
    weight: float


@dataclass(frozen=True)
class Suggestion:
    """A European cluster (`eu_id`, its source id) and a Korean one (`kr_id`) worth introducing."""

    eu_id: str
    kr_id: str
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Refresh:
    """The result of `Matcher.refresh`: replace every stored suggestion that involves an affected cluster
    (either side) by `suggestions`; every other stored suggestion stays as it is."""

    affected_eu: frozenset[str]
    affected_kr: frozenset[str]
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True, slots=True)
class _Values:
    """The structured signals of a pair of profiles (texts are per cluster, so apart)."""

    ecosystems: tuple[str, ...]
    divisions: tuple[str, ...]
    eu_names_korea: bool
    kr_names_country: bool
    contributions: tuple[float, float, float, float]  # industries, ecosystems, countries, members
    base: float


class _Group:
    """Clusters of one side with equal profiles."""

    __slots__ = ("members", "offers", "profile", "seeks")

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.members: list[Facts] = []
        self.seeks = False
        self.offers = False

    def add(self, facts: Facts) -> None:
        self.members.append(facts)
        self.seeks = self.seeks or facts.seeking is not None
        self.offers = self.offers or facts.offering is not None


_Candidate = tuple[float, float, _Group]  # structured score, best text share, the other side's group


class _Candidates:
    """The groups one group is eligible with, sorted by structured score and by its upper bound."""

    __slots__ = ("by_base", "by_bound")

    def __init__(self, found: list[_Candidate]) -> None:
        self.by_base = sorted(found, key=lambda c: c[0], reverse=True)
        self.by_bound = sorted(found, key=lambda c: c[0] + c[1], reverse=True)


class _Side:
    """One side's clusters of a run: facts by id, groups by profile, and the inverted index for blocking."""

    def __init__(self, facts: Iterable[Facts], side: str) -> None:
        self.facts: dict[str, Facts] = {}
        self.groups: dict[Profile, _Group] = {}
        self.group_of: dict[str, _Group] = {}
        self.by_ecosystem: dict[str, list[_Group]] = {}
        self.by_division: dict[str, list[_Group]] = {}
        self.by_target: dict[str, list[_Group]] = {}  # Korean groups by the countries they name
        self.by_country: dict[str, list[_Group]] = {}  # European groups that name Korea, by their country
        for f in facts:
            if f.id in self.facts:
                raise ValueError(f"{side} cluster {f.id!r} is given twice")
            self.facts[f.id] = f
            group = self.groups.get(f.profile)
            if group is None:
                group = self.groups[f.profile] = _Group(f.profile)
                self._index(group)
            group.add(f)
            self.group_of[f.id] = group

    def _index(self, group: _Group) -> None:
        p = group.profile
        for key in p.ecosystems:
            self.by_ecosystem.setdefault(key, []).append(group)
        for key in p.divisions:
            self.by_division.setdefault(key, []).append(group)
        for key in p.targets:
            self.by_target.setdefault(key, []).append(group)
        if KOREA in p.targets:
            self.by_country.setdefault(p.country, []).append(group)

    def blocks(self, p: Profile, mutual: Iterable[_Group]) -> list[_Group]:
        """This side's groups sharing an ecosystem or division with `p`, plus `mutual` (deduplicated)."""
        found: dict[int, _Group] = {}
        for key in p.ecosystems:
            found.update((id(g), g) for g in self.by_ecosystem.get(key, ()))
        for key in p.divisions:
            found.update((id(g), g) for g in self.by_division.get(key, ()))
        found.update((id(g), g) for g in mutual)
        return list(found.values())


class _Run:
    """Both sides of one call, with the exclusions and a bounded memory of compared texts."""

    def __init__(self, eu: _Side, kr: _Side, exclude: Collection[tuple[str, str]]) -> None:
        self.eu, self.kr = eu, kr
        self.excluded_eu: dict[str, set[str]] = {}
        self.excluded_kr: dict[str, set[str]] = {}
        for eu_id, kr_id in exclude:
            self.excluded_eu.setdefault(eu_id, set()).add(kr_id)
            self.excluded_kr.setdefault(kr_id, set()).add(eu_id)
        self.ratio: Callable[[str, str], float] = lru_cache(maxsize=TEXT_CACHE)(_token_set_ratio)


def _token_set_ratio(a: str, b: str) -> float:
    return float(fuzz.token_set_ratio(a, b))


class Matcher:
    """Scores European–Korean pairs and keeps each cluster's best partners."""

    def __init__(self, weights: Weights, crosswalk: Crosswalk, ecosystems_ko: Mapping[str, str]) -> None:
        self.weights = weights
        self.reader = FactReader(crosswalk, weights)
        self.ecosystems_ko = {name.casefold(): label for name, label in ecosystems_ko.items()}
        signals = weights.signals
        total = signals.total
        self._w = (
            signals.industries / total,
            signals.ecosystems / total,
            signals.countries / total,
            signals.members / total,
        )
        self._w_texts = signals.texts / total

    @classmethod
    def load(cls, settings: Settings | None = None) -> Matcher:
        """A matcher on this deployment's mappings and weights (CLUSTERBRIDGE_CONFIG_DIR first)."""
        from clusterbridge.mapping.data import load_data

        data = load_data(settings)
        return cls(load_weights(settings), data.crosswalk, {e.name: e.label_ko for e in data.ecosystems})

    # ---------------------------------------------------------------- one pair

    def score(self, eu: Cluster, kr: Cluster, texts: EnglishTexts | None = None) -> Suggestion | None:
        """The suggestion for one pair, or None when the pair is not eligible (or a cluster is withdrawn, or
        the European-side cluster is itself Korean)."""
        run = self._run([eu], [kr], (), texts)
        e, k = run.eu.facts.get(eu.source_id), run.kr.facts.get(kr.source_id)
        if e is None or k is None:
            return None
        return self._suggestion(run, e, k)

    # ---------------------------------------------------------------- all pairs

    def suggest(
        self,
        eu: Iterable[Cluster],
        kr: Iterable[Cluster],
        *,
        top_n: int = 5,
        min_score: float = 0.0,
        exclude: Collection[tuple[str, str]] = (),
        texts: EnglishTexts | None = None,
    ) -> list[Suggestion]:
        """Each European cluster's `top_n` best Korean partners and each Korean cluster's `top_n` best
        European partners (together, without repeats), scoring at least `min_score`, best first.
        `exclude` holds (eu_id, kr_id) pairs never to suggest: a Korean cluster and its own ECCP profile."""
        _check(top_n, min_score)
        run = self._run(eu, kr, exclude, texts)
        pairs: set[tuple[str, str]] = set()
        for group in run.eu.groups.values():
            candidates = self._eu_candidates(run, group)
            for e in group.members:
                pairs.update((e.id, k) for k in self._top_eu(run, e, candidates, top_n, min_score))
        for group in run.kr.groups.values():
            candidates = self._kr_candidates(run, group)
            for k in group.members:
                pairs.update((e, k.id) for e in self._top_kr(run, k, candidates, top_n, min_score))
        return self._suggestions(run, pairs)

    def refresh(
        self,
        eu: Iterable[Cluster],
        kr: Iterable[Cluster],
        previous: Iterable[Suggestion],
        *,
        changed_eu: Collection[str] = (),
        changed_kr: Collection[str] = (),
        top_n: int = 5,
        min_score: float = 0.0,
        exclude: Collection[tuple[str, str]] = (),
        texts: EnglishTexts | None = None,
    ) -> Refresh:
        """Recompute only what the changed, added or removed clusters (`changed_*`, source ids) touch.

        `eu` and `kr` are all current clusters; `previous` is what `suggest` (or an earlier refresh applied
        to it) gave with the same top_n, min_score, exclusions, texts and weights — when any of those change,
        call `suggest` instead. A cluster is affected when it changed, when a changed cluster was among its
        previous partners, or when a changed cluster now scores at least its previous N-th best. The result
        holds exactly the suggestions of a full `suggest` that involve an affected cluster."""
        _check(top_n, min_score)
        run = self._run(eu, kr, exclude, texts)
        before_eu: dict[str, list[Suggestion]] = {}
        before_kr: dict[str, list[Suggestion]] = {}
        for s in previous:
            before_eu.setdefault(s.eu_id, []).append(s)
            before_kr.setdefault(s.kr_id, []).append(s)
        affected_eu, affected_kr = set(changed_eu), set(changed_kr)
        for kr_id in changed_kr:
            affected_eu.update(s.eu_id for s in before_kr.get(kr_id, ()))
        for eu_id in changed_eu:
            affected_kr.update(s.kr_id for s in before_eu.get(eu_id, ()))
        prev_top_eu = {i: _ranked(v, top_n, lambda s: s.kr_id) for i, v in before_eu.items()}
        prev_top_kr = {i: _ranked(v, top_n, lambda s: s.eu_id) for i, v in before_kr.items()}

        def bar(top: list[Suggestion]) -> float:
            return top[-1].score if len(top) >= top_n else min_score

        newly_eu: set[str] = set()
        for kr_id in sorted(set(changed_kr) & run.kr.facts.keys()):
            k = run.kr.facts[kr_id]
            for base, tmax, group in self._kr_candidates(run, run.kr.group_of[kr_id]).by_base:
                for e in group.members:
                    if e.id in affected_eu or kr_id in run.excluded_eu.get(e.id, ()):
                        continue
                    if self._score(run, base, tmax, e, k) >= bar(prev_top_eu.get(e.id, [])):
                        newly_eu.add(e.id)
        newly_kr: set[str] = set()
        for eu_id in sorted(set(changed_eu) & run.eu.facts.keys()):
            e = run.eu.facts[eu_id]
            for base, tmax, group in self._eu_candidates(run, run.eu.group_of[eu_id]).by_base:
                for k in group.members:
                    if k.id in affected_kr or eu_id in run.excluded_kr.get(k.id, ()):
                        continue
                    if self._score(run, base, tmax, e, k) >= bar(prev_top_kr.get(k.id, [])):
                        newly_kr.add(k.id)
        affected_eu |= newly_eu
        affected_kr |= newly_kr

        pairs: set[tuple[str, str]] = set()
        for eu_id in sorted(affected_eu & run.eu.facts.keys()):
            e = run.eu.facts[eu_id]
            candidates = self._eu_candidates(run, run.eu.group_of[eu_id])
            pairs.update((eu_id, k) for k in self._top_eu(run, e, candidates, top_n, min_score))
            # kept by an unaffected Korean partner's own (unchanged) top N
            for s in before_eu.get(eu_id, ()):
                if s.kr_id not in affected_kr and s in prev_top_kr.get(s.kr_id, ()):
                    pairs.add((eu_id, s.kr_id))
        for kr_id in sorted(affected_kr & run.kr.facts.keys()):
            k = run.kr.facts[kr_id]
            candidates = self._kr_candidates(run, run.kr.group_of[kr_id])
            pairs.update((e, kr_id) for e in self._top_kr(run, k, candidates, top_n, min_score))
            for s in before_kr.get(kr_id, ()):
                if s.eu_id not in affected_eu and s in prev_top_eu.get(s.eu_id, ()):
                    pairs.add((s.eu_id, kr_id))
        return Refresh(frozenset(affected_eu), frozenset(affected_kr), tuple(self._suggestions(run, pairs)))

    # ---------------------------------------------------------------- internals

    def _run(
        self,
        eu: Iterable[Cluster],
        kr: Iterable[Cluster],
        exclude: Collection[tuple[str, str]],
        texts: EnglishTexts | None,
    ) -> _Run:
        texts = texts or EnglishTexts()
        # a Korean cluster's own ECCP profile is no European partner; withdrawn clusters are nobody's
        european = (self.reader.european(c, texts.eu.get(c.source_id)) for c in eu if c.live and c.country != KOREA)
        korean = (self.reader.korean(c, texts.kr.get(c.source_id)) for c in kr if c.live)
        return _Run(_Side(european, "European"), _Side(korean, "Korean"), exclude)

    def _values(self, eu: Profile, kr: Profile) -> _Values | None:
        ecosystems = overlap(eu.ecosystems, kr.ecosystems)
        divisions = overlap(eu.divisions, kr.divisions)
        eu_names, kr_names = KOREA in eu.targets, eu.country in kr.targets
        if not (ecosystems or divisions or (eu_names and kr_names)):
            return None
        industries = len(divisions) / min(len(eu.divisions), len(kr.divisions)) if divisions else 0.0
        shared_ecosystems = len(ecosystems) / min(len(eu.ecosystems), len(kr.ecosystems)) if ecosystems else 0.0
        if eu_names and kr_names:
            countries = 1.0
        elif eu_names or kr_names:
            countries = self.weights.countries.one_sided
        else:
            countries = 0.0
        members = 1.0 if eu.sme_heavy and kr.sme_heavy else 0.0
        w_ind, w_eco, w_cty, w_mem = self._w
        parts = (w_ind * industries, w_eco * shared_ecosystems, w_cty * countries, w_mem * members)
        return _Values(ecosystems, divisions, eu_names, kr_names, parts, parts[0] + parts[1] + parts[2] + parts[3])

    def _texts(self, run: _Run, e: Facts, k: Facts) -> tuple[float, float | None, float | None]:
        """(text value 0..1, ratio of the European seeking to the Korean offering, and the reverse)."""
        eu_seeks = run.ratio(e.seeking, k.offering) if e.seeking and k.offering else None
        kr_seeks = run.ratio(k.seeking, e.offering) if k.seeking and e.offering else None
        scaled = [self._scale(r) for r in (eu_seeks, kr_seeks) if r is not None]
        return (sum(scaled) / len(scaled) if scaled else 0.0), eu_seeks, kr_seeks

    def _scale(self, ratio: float) -> float:
        floor, full = self.weights.texts.floor, self.weights.texts.full
        return min(1.0, max(0.0, (ratio - floor) / (full - floor)))

    def _score(self, run: _Run, base: float, tmax: float, e: Facts, k: Facts) -> float:
        """The pair's score; `tmax` 0 means neither direction has texts to compare."""
        text = self._texts(run, e, k)[0] if tmax else 0.0
        return round(base + self._w_texts * text, DECIMALS)

    def _text_bound(self, a: _Group, b: _Group) -> float:
        return self._w_texts if (a.seeks and b.offers) or (b.seeks and a.offers) else 0.0

    def _eu_candidates(self, run: _Run, group: _Group) -> _Candidates:
        p = group.profile
        mutual = run.kr.by_target.get(p.country, ()) if KOREA in p.targets else ()
        out: list[_Candidate] = []
        for other in run.kr.blocks(p, mutual):
            values = self._values(p, other.profile)
            if values is not None:
                out.append((values.base, self._text_bound(group, other), other))
        return _Candidates(out)

    def _kr_candidates(self, run: _Run, group: _Group) -> _Candidates:
        p = group.profile
        mutual = [g for country in p.targets for g in run.eu.by_country.get(country, ())]
        out: list[_Candidate] = []
        for other in run.eu.blocks(p, mutual):
            values = self._values(other.profile, p)
            if values is not None:
                out.append((values.base, self._text_bound(other, group), other))
        return _Candidates(out)

    def _top_eu(self, run: _Run, e: Facts, candidates: _Candidates, top_n: int, min_score: float) -> list[str]:
        excluded = run.excluded_eu.get(e.id, set())
        return self._top(
            candidates,
            excluded,
            run.kr.group_of,
            top_n,
            min_score,
            lambda base, tmax, k: self._score(run, base, tmax, e, k),
        )

    def _top_kr(self, run: _Run, k: Facts, candidates: _Candidates, top_n: int, min_score: float) -> list[str]:
        excluded = run.excluded_kr.get(k.id, set())
        return self._top(
            candidates,
            excluded,
            run.eu.group_of,
            top_n,
            min_score,
            lambda base, tmax, e: self._score(run, base, tmax, e, k),
        )

    @staticmethod
    def _top(
        candidates: _Candidates,
        excluded: set[str],
        group_of: Mapping[str, _Group],
        top_n: int,
        min_score: float,
        score: Callable[[float, float, Facts], float],
    ) -> list[str]:
        """Ids of the best `top_n` partners among the candidates' members, best first, ties by id.

        A pair's score is at least its structured score, so once `top_n` members are known to reach a
        structured score T, no candidate whose structured score plus its best text share stays below T
        can enter the top N: only the others are scored."""
        bar = min_score
        count = 0
        for base, _, group in candidates.by_base:
            count += len(group.members) - sum(1 for x in excluded if group_of.get(x) is group)
            if count >= top_n:
                bar = max(bar, round(base, DECIMALS))
                break
        found: list[tuple[float, str]] = []
        for base, tmax, group in candidates.by_bound:
            if round(base + tmax, DECIMALS) < bar:
                break
            for other in group.members:
                if other.id in excluded:
                    continue
                value = score(base, tmax, other)
                if value >= bar:
                    found.append((-value, other.id))
        return [other_id for _, other_id in heapq.nsmallest(top_n, found)]

    def _suggestions(self, run: _Run, pairs: Iterable[tuple[str, str]]) -> list[Suggestion]:
        out = [self._suggestion(run, run.eu.facts[e], run.kr.facts[k]) for e, k in pairs]
        return sorted((s for s in out if s is not None), key=lambda s: (-s.score, s.eu_id, s.kr_id))

    def _suggestion(self, run: _Run, e: Facts, k: Facts) -> Suggestion | None:
        values = self._values(e.profile, k.profile)
        if values is None:
            return None
        text, eu_seeks, kr_seeks = self._texts(run, e, k)
        score = round(values.base + self._w_texts * text, DECIMALS)
        found: list[Reason] = []
        ind, eco, cty, mem = values.contributions
        if ind:
            found.append(Reason("industries", *reasons.industries(values.divisions, e, k), round(ind, DECIMALS)))
        if eco:
            sentence = reasons.ecosystems(values.ecosystems, e, self.ecosystems_ko)
            found.append(Reason("ecosystems", *sentence, round(eco, DECIMALS)))
        if cty:
            sentence = reasons.countries(e, values.eu_names_korea, values.kr_names_country)
            found.append(Reason("countries", *sentence, round(cty, DECIMALS)))
        if text:
            shown = [r if r is not None and self._scale(r) > 0 else None for r in (eu_seeks, kr_seeks)]
            found.append(Reason("texts", *reasons.texts(*shown), round(self._w_texts * text, DECIMALS)))
        if mem and e.sme_share is not None and k.sme_share is not None:
            found.append(Reason("members", *reasons.members(e.sme_share, k.sme_share), round(mem, DECIMALS)))
        found.sort(key=lambda r: (-r.weight, _SIGNALS.index(r.signal)))
        return Suggestion(e.id, k.id, score, tuple(found))


_SIGNALS: tuple[Signal, ...] = ("industries", "ecosystems", "countries", "texts", "members")


def _check(top_n: int, min_score: float) -> None:
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, not {top_n}")
    if not 0 <= min_score <= 1:
        raise ValueError(f"min_score must be in [0, 1], not {min_score}")


def _ranked(items: list[Suggestion], top_n: int, other: Callable[[Suggestion], str]) -> list[Suggestion]:
    """One cluster's best `top_n` among stored suggestions, ranked as `suggest` ranks them."""
    return sorted(items, key=lambda s: (-s.score, other(s)))[:top_n]
