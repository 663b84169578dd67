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
the groups it is eligible with (blocking: no other pair is ever scored). For each cluster only the
candidates whose structured score plus the best possible text share can still reach its N-th best
structured score get their texts compared, one batch per direction; members of a group with the same
texts score alike, so they are compared once and share one top N.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Literal

from rapidfuzz import fuzz, process

from clusterbridge.config import Settings
from clusterbridge.mapping.codes import Crosswalk
from clusterbridge.model import Cluster
from clusterbridge.partners import reasons
from clusterbridge.partners.facts import KOREA, EnglishTexts, FactReader, Facts, Field, Profile
from clusterbridge.partners.index import Group, Side
from clusterbridge.partners.weights import Weights, load_weights

Signal = Literal["industries", "ecosystems", "countries", "texts", "members"]
DECIMALS = 4
TEXT_CACHE = 1 << 16  # text pairs one run remembers when it scores pairs one by one


@dataclass(frozen=True, slots=True)
class Reason:
    """One signal's evidence: a short sentence in English and in Korean, and what it adds to the score."""

    signal: Signal
    en: str
    ko: str
    weight: float


@dataclass(frozen=True, slots=True)
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
class _FieldMatch:
    """What two fields of activity share, and what that adds to the score."""

    ecosystems: tuple[str, ...]
    divisions: tuple[str, ...]
    industries: float  # weighted share of divisions
    ecosystem_share: float  # weighted share of ecosystems
    part: float


_NO_FIELD = _FieldMatch((), (), 0.0, 0.0, 0.0)

_Candidate = tuple[float, float, Group]  # structured score, best text share, the other side's group
# a scored pair, in the order suggestions are ranked: (-score, European id, Korean id, the two text ratios)
_Scored = tuple[float, str, str, float | None, float | None]
_INDEX_BITS = 32  # a scored pair's place among its run's text ratios, in the low bits of its sort key
_POINTS = 10**DECIMALS  # a score in whole points: scores are rounded to DECIMALS and lie in [0, 1]


class _ScoredPairs:
    """A run's scored pairs, held compactly until they are ranked: each pair is one integer that sorts the way
    suggestions are ranked (score, then European id, then Korean id: each id by its place among its side's
    sorted ids) and ends with the pair's index into two arrays of text ratios (NaN for none). About 60 bytes a
    pair where tuples took about 190: a whole listing's pairs (five or more per cluster) are held at once."""

    __slots__ = ("_bits", "_eu", "_eu_place", "_kr", "_kr_place", "_ratios", "keys")

    def __init__(self, eu_ids: Iterable[str], kr_ids: Iterable[str]) -> None:
        self._eu, self._kr = sorted(eu_ids), sorted(kr_ids)
        self._eu_place = {i: n for n, i in enumerate(self._eu)}
        self._kr_place = {i: n for n, i in enumerate(self._kr)}
        self._bits = max(len(self._eu), len(self._kr), 1).bit_length()
        self._ratios = (array("d"), array("d"))  # European seeking, Korean seeking
        self.keys: list[int] = []

    def add(self, scored: _Scored) -> None:
        negative, eu_id, kr_id, eu_seeks, kr_seeks = scored
        points = round(-negative * _POINTS)
        if not 0 <= points <= _POINTS:
            raise ValueError(f"a score must lie in [0, 1], not {-negative}")
        index = len(self.keys)
        key = ((_POINTS - points) << self._bits | self._eu_place[eu_id]) << self._bits | self._kr_place[kr_id]
        self.keys.append(key << _INDEX_BITS | index)
        self._ratios[0].append(math.nan if eu_seeks is None else eu_seeks)
        self._ratios[1].append(math.nan if kr_seeks is None else kr_seeks)

    def rank(self) -> None:
        """Sort the pairs, and keep one of a pair added twice (found in the top N of both its clusters): its two
        keys differ only in their index, so they end side by side."""
        self.keys.sort()
        kept: list[int] = []
        last = -1
        for key in self.keys:
            if key >> _INDEX_BITS != last:
                kept.append(key)
                last = key >> _INDEX_BITS
        self.keys = kept

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[tuple[float, str, str, float | None, float | None]]:
        """(score, European id, Korean id, European seeking ratio, Korean seeking ratio), in key order."""
        id_mask, index_mask = (1 << self._bits) - 1, (1 << _INDEX_BITS) - 1
        eu_ratios, kr_ratios = self._ratios
        for key in self.keys:
            index = key & index_mask
            rest = key >> _INDEX_BITS
            eu_seeks, kr_seeks = eu_ratios[index], kr_ratios[index]
            yield ((_POINTS - (rest >> 2 * self._bits)) / _POINTS, self._eu[rest >> self._bits & id_mask],
                   self._kr[rest & id_mask], None if math.isnan(eu_seeks) else eu_seeks,
                   None if math.isnan(kr_seeks) else kr_seeks)


class _Candidates:
    """The groups one group is eligible with, sorted by structured score and by its upper bound."""

    __slots__ = ("by_base", "by_bound")

    def __init__(self, found: list[_Candidate]) -> None:
        self.by_base = sorted(found, key=lambda c: c[0], reverse=True)
        self.by_bound = sorted(found, key=lambda c: c[0] + c[1], reverse=True)


class _Run:
    """Both sides of one call, the exclusions, and what the run has already worked out."""

    def __init__(self, eu: Side, kr: Side, exclude: Collection[tuple[str, str]]) -> None:
        self.eu, self.kr = eu, kr
        self.excluded_eu: dict[str, set[str]] = {}
        self.excluded_kr: dict[str, set[str]] = {}
        for eu_id, kr_id in exclude:
            self.excluded_eu.setdefault(eu_id, set()).add(kr_id)
            self.excluded_kr.setdefault(kr_id, set()).add(eu_id)
        self.fields: dict[tuple[Field, Field], _FieldMatch | None] = {}
        # bounded: template texts repeat a lot, real ones hardly at all
        self.ratio: Callable[[str, str], float] = lru_cache(maxsize=TEXT_CACHE)(_token_set_ratio)


def _token_set_ratio(a: str, b: str) -> float:
    return float(fuzz.token_set_ratio(a, b))


class Matcher:
    """Scores European–Korean pairs and keeps each cluster's best partners."""

    def __init__(self, weights: Weights, crosswalk: Crosswalk, ecosystems_ko: Mapping[str, str]) -> None:
        self.weights = weights
        self.reader = FactReader(crosswalk, weights)
        self.ecosystems_ko = {name.casefold(): label for name, label in ecosystems_ko.items()}
        # each signal's weight as a share of the total, so that the score is a weighted mean
        signals = weights.signals
        self._w_industries = signals.industries / signals.total
        self._w_ecosystems = signals.ecosystems / signals.total
        self._w_countries = signals.countries / signals.total
        self._w_texts = signals.texts / signals.total
        self._w_members = signals.members / signals.total

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
        scored = None if e is None or k is None else self._scored(run, e, k)
        if scored is None:
            return None
        pairs = _ScoredPairs([scored[1]], [scored[2]])
        pairs.add(scored)
        return next(iter(Found(self, run, pairs)))

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
        return list(self.find(eu, kr, top_n=top_n, min_score=min_score, exclude=exclude, texts=texts))

    def find(
        self,
        eu: Iterable[Cluster],
        kr: Iterable[Cluster],
        *,
        top_n: int = 5,
        min_score: float = 0.0,
        exclude: Collection[tuple[str, str]] = (),
        texts: EnglishTexts | None = None,
        ranked: bool = True,
    ) -> Found:
        """What `suggest` finds, its reasons written only as each suggestion is read. Not `ranked`: in the order
        found, each pair scored as it is read, and a pair in the top N of both its clusters found (and handed
        over) twice, alike: so no cluster's partners are held once its group is done. Who ranks them must see
        them all and keep one of each, as the ledger does."""
        _check(top_n, min_score)
        run = self._run(eu, kr, exclude, texts)

        def pairs() -> Iterator[tuple[str, str]]:
            # group by group, each group's candidates worked out once and let go after it
            for group in run.eu.groups.values():
                top = partial(
                    self._top_eu, run, candidates=self._eu_candidates(run, group), top_n=top_n, min_score=min_score
                )
                for e_id, partners in _per_class(group, run.excluded_eu, top):
                    yield from ((e_id, k_id) for k_id in partners)
            for group in run.kr.groups.values():
                top = partial(
                    self._top_kr, run, candidates=self._kr_candidates(run, group), top_n=top_n, min_score=min_score
                )
                for k_id, partners in _per_class(group, run.excluded_kr, top):
                    yield from ((e_id, k_id) for e_id in partners)
        return self._found(run, pairs(), ranked)

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
        affected_eu, affected_kr, found = self.find_refresh(
            eu, kr, previous, changed_eu=changed_eu, changed_kr=changed_kr, top_n=top_n, min_score=min_score,
            exclude=exclude, texts=texts)
        return Refresh(affected_eu, affected_kr, tuple(found))

    def find_refresh(
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
        ranked: bool = True,
    ) -> tuple[frozenset[str], frozenset[str], Found]:
        """What `refresh` finds (the clusters affected on each side, and their suggestions), the reasons written
        only as each suggestion is read; `ranked` as in `find`."""
        _check(top_n, min_score)
        run = self._run(eu, kr, exclude, texts)
        before_eu: dict[str, list[Suggestion]] = {}
        before_kr: dict[str, list[Suggestion]] = {}
        for s in previous:
            before_eu.setdefault(s.eu_id, []).append(s)
            before_kr.setdefault(s.kr_id, []).append(s)
        top_eu = {i: _ranked(v, top_n, lambda s: s.kr_id) for i, v in before_eu.items()}
        top_kr = {i: _ranked(v, top_n, lambda s: s.eu_id) for i, v in before_kr.items()}

        def bar(top: list[Suggestion]) -> float:
            """The score a new partner must reach to enter a cluster's previous top N."""
            return top[-1].score if len(top) >= top_n else min_score

        # affected: the changed clusters, their previous partners, and whoever a changed cluster now reaches
        affected_eu = set(changed_eu).union(*({s.eu_id for s in before_kr.get(i, ())} for i in changed_kr))
        affected_kr = set(changed_kr).union(*({s.kr_id for s in before_eu.get(i, ())} for i in changed_eu))
        reached_eu: set[str] = set()
        for kr_id in sorted(set(changed_kr) & run.kr.facts.keys()):
            k = run.kr.facts[kr_id]
            for base, _, group in self._kr_candidates(run, run.kr.groups[k.profile]).by_base:
                for e in group.members:
                    if e.id in affected_eu or kr_id in run.excluded_eu.get(e.id, ()):
                        continue
                    if self._score(run, base, e, k) >= bar(top_eu.get(e.id, [])):
                        reached_eu.add(e.id)
        reached_kr: set[str] = set()
        for eu_id in sorted(set(changed_eu) & run.eu.facts.keys()):
            e = run.eu.facts[eu_id]
            for base, _, group in self._eu_candidates(run, run.eu.groups[e.profile]).by_base:
                for k in group.members:
                    if k.id in affected_kr or eu_id in run.excluded_kr.get(k.id, ()):
                        continue
                    if self._score(run, base, e, k) >= bar(top_kr.get(k.id, [])):
                        reached_kr.add(k.id)
        affected_eu |= reached_eu
        affected_kr |= reached_kr

        # their new top N, plus the pairs an unaffected partner keeps in its own (unchanged) top N; group by
        # group, as `find` goes, so that each group's candidates are worked out once and let go after it
        pairs: set[tuple[str, str]] = set()
        for group in run.eu.groups.values():
            members = [e for e in group.members if e.id in affected_eu]
            if not members:
                continue
            found = self._eu_candidates(run, group)
            for e in members:
                excluded = run.excluded_eu.get(e.id, set())
                pairs.update((e.id, k) for k in self._top_eu(run, e, excluded, found, top_n, min_score))
                pairs.update(
                    (e.id, s.kr_id)
                    for s in before_eu.get(e.id, ())
                    if s.kr_id not in affected_kr and s in top_kr[s.kr_id]
                )
        for group in run.kr.groups.values():
            members = [k for k in group.members if k.id in affected_kr]
            if not members:
                continue
            found = self._kr_candidates(run, group)
            for k in members:
                excluded = run.excluded_kr.get(k.id, set())
                pairs.update((e, k.id) for e in self._top_kr(run, k, excluded, found, top_n, min_score))
                pairs.update(
                    (s.eu_id, k.id)
                    for s in before_kr.get(k.id, ())
                    if s.eu_id not in affected_eu and s in top_eu[s.eu_id]
                )
        return frozenset(affected_eu), frozenset(affected_kr), self._found(run, pairs, ranked)

    # ---------------------------------------------------------------- internals

    def _run(
        self,
        eu: Iterable[Cluster],
        kr: Iterable[Cluster],
        exclude: Collection[tuple[str, str]],
        texts: EnglishTexts | None,
    ) -> _Run:
        texts = texts or EnglishTexts()
        self.reader.begin()
        # a Korean cluster's own ECCP profile is no European partner; withdrawn clusters are nobody's
        european = (self.reader.european(c, texts.eu.get(c.source_id)) for c in eu if c.live and c.country != KOREA)
        korean = (self.reader.korean(c, texts.kr.get(c.source_id)) for c in kr if c.live)
        run = _Run(Side(european, "European"), Side(korean, "Korean"), exclude)
        self.reader.end()
        return run

    # ---------------------------------------------------------------- signals

    def _field(self, run: _Run, eu: Field, kr: Field) -> _FieldMatch | None:
        """Shared ecosystems and divisions of two fields (None: nothing shared), remembered for the run."""
        key = (eu, kr)
        if key in run.fields:
            return run.fields[key]
        ecosystems = tuple(sorted(eu.ecosystems & kr.ecosystems))
        divisions = tuple(sorted(eu.divisions & kr.divisions))
        found = None
        if ecosystems or divisions:
            # overlap coefficient: a narrow cluster wholly inside a broad one's field is a full match
            # (a signal only counts when both sides have something of that kind: one may name ecosystems only)
            industries = (self._w_industries * len(divisions) / min(len(eu.divisions), len(kr.divisions))
                          if divisions else 0.0)
            shared = (self._w_ecosystems * len(ecosystems) / min(len(eu.ecosystems), len(kr.ecosystems))
                      if ecosystems else 0.0)
            found = _FieldMatch(ecosystems, divisions, industries, shared, industries + shared)
        run.fields[key] = found
        return found

    def _interest(self, eu: Profile, kr: Profile) -> tuple[bool, bool]:
        """(the European cluster names Korea, the Korean cluster names the European cluster's country)."""
        return KOREA in eu.targets, eu.country in kr.targets

    def _countries(self, eu_names: bool, kr_names: bool) -> float:
        if eu_names and kr_names:
            return self._w_countries
        if eu_names or kr_names:
            return self._w_countries * self.weights.countries.one_sided
        return 0.0

    def _members(self, eu: Profile, kr: Profile) -> float:
        return self._w_members if eu.sme_heavy and kr.sme_heavy else 0.0

    def _base(self, field: _FieldMatch, eu: Profile, kr: Profile) -> float:
        """The structured part of the score (every signal but texts); one formula everywhere."""
        return field.part + self._countries(*self._interest(eu, kr)) + self._members(eu, kr)

    def _texts(self, run: _Run, e: Facts, k: Facts) -> tuple[float, float | None, float | None]:
        """(text value 0..1, ratio of the European seeking text to the Korean offering one, and the reverse)."""
        eu_seeks = run.ratio(e.seeking, k.offering) if e.seeking and k.offering else None
        kr_seeks = run.ratio(k.seeking, e.offering) if k.seeking and e.offering else None
        return self._combine(eu_seeks, kr_seeks), eu_seeks, kr_seeks

    def _text_shares(self, focus: Facts, others: list[Facts], focus_is_eu: bool) -> list[float]:
        """What the texts add to the focus cluster's score with each of `others`: the same numbers as
        `_texts`, with each direction compared in one batch (the scorer is symmetric)."""
        if focus_is_eu:
            eu_seeks = _ratios(focus.seeking, [o.offering for o in others])
            kr_seeks = _ratios(focus.offering, [o.seeking for o in others])
        else:
            eu_seeks = _ratios(focus.offering, [o.seeking for o in others])
            kr_seeks = _ratios(focus.seeking, [o.offering for o in others])
        return [self._w_texts * self._combine(a, b) for a, b in zip(eu_seeks, kr_seeks, strict=True)]

    def _combine(self, eu_seeks: float | None, kr_seeks: float | None) -> float:
        """The text value 0..1: the mean of the scaled ratios of the directions both sides have texts for."""
        if eu_seeks is None:
            return 0.0 if kr_seeks is None else self._scale(kr_seeks)
        if kr_seeks is None:
            return self._scale(eu_seeks)
        return (self._scale(eu_seeks) + self._scale(kr_seeks)) / 2

    def _scale(self, ratio: float) -> float:
        floor, full = self.weights.texts.floor, self.weights.texts.full
        return min(1.0, max(0.0, (ratio - floor) / (full - floor)))

    def _score(self, run: _Run, base: float, e: Facts, k: Facts) -> float:
        return round(base + self._w_texts * self._texts(run, e, k)[0], DECIMALS)

    # ---------------------------------------------------------------- blocking and top N

    def _text_bound(self, eu: Group, kr: Group) -> float:
        """The most the text signal can add between two groups (0 when no direction has texts on both sides)."""
        return self._w_texts if (eu.seeks and kr.offers) or (kr.seeks and eu.offers) else 0.0

    def _eu_candidates(self, run: _Run, group: Group) -> _Candidates:
        p = group.profile
        found: dict[int, tuple[float, Group]] = {}
        for field in run.kr.fields_near(p.field):
            match = self._field(run, p.field, field) or _NO_FIELD
            for other in run.kr.by_field[field]:
                found[id(other)] = (self._base(match, p, other.profile), other)
        if KOREA in p.targets:  # mutual interest alone makes a pair eligible
            for other in run.kr.by_target.get(p.country, ()):
                if id(other) not in found:
                    found[id(other)] = (self._base(_NO_FIELD, p, other.profile), other)
        return _Candidates([(base, self._text_bound(group, other), other) for base, other in found.values()])

    def _kr_candidates(self, run: _Run, group: Group) -> _Candidates:
        p = group.profile
        found: dict[int, tuple[float, Group]] = {}
        for field in run.eu.fields_near(p.field):
            match = self._field(run, field, p.field) or _NO_FIELD
            for other in run.eu.by_field[field]:
                found[id(other)] = (self._base(match, other.profile, p), other)
        for country in p.targets:
            for other in run.eu.by_country.get(country, ()):
                if id(other) not in found:
                    found[id(other)] = (self._base(_NO_FIELD, other.profile, p), other)
        return _Candidates([(base, self._text_bound(other, group), other) for base, other in found.values()])

    def _top_eu(
        self, run: _Run, e: Facts, excluded: set[str], candidates: _Candidates, top_n: int, min_score: float
    ) -> list[str]:
        return _top(candidates, excluded, run.kr.group_of, top_n, min_score, lambda ks: self._text_shares(e, ks, True))

    def _top_kr(
        self, run: _Run, k: Facts, excluded: set[str], candidates: _Candidates, top_n: int, min_score: float
    ) -> list[str]:
        return _top(candidates, excluded, run.eu.group_of, top_n, min_score, lambda es: self._text_shares(k, es, False))

    # ---------------------------------------------------------------- suggestions and reasons

    def _found(self, run: _Run, pairs: Iterable[tuple[str, str]], ranked: bool = True) -> Found:
        """The eligible pairs among `pairs`, scored and ranked (a pair given twice kept once), or (not `ranked`) to
        be scored as they are read."""
        if not ranked:
            return Found(self, run, pairs)
        found = _ScoredPairs(run.eu.facts, run.kr.facts)
        for e, k in pairs:
            scored = self._scored(run, run.eu.facts[e], run.kr.facts[k])
            if scored is not None:
                found.add(scored)
        found.rank()
        return Found(self, run, found)

    def _scored(self, run: _Run, e: Facts, k: Facts) -> _Scored | None:
        """A pair's score and text ratios (None: the pair is not eligible); its reasons are written later."""
        field = self._field(run, e.profile.field, k.profile.field)
        if field is None and not all(self._interest(e.profile, k.profile)):
            return None
        base = self._base(field or _NO_FIELD, e.profile, k.profile)
        text, eu_seeks, kr_seeks = self._texts(run, e, k)
        return -round(base + self._w_texts * text, DECIMALS), e.id, k.id, eu_seeks, kr_seeks

    def _reasons(self, run: _Run, e: Facts, k: Facts, eu_seeks: float | None,
                 kr_seeks: float | None) -> tuple[Reason, ...]:
        """An eligible pair's reasons, strongest first, from its text ratios as `_scored` found them."""
        field = self._field(run, e.profile.field, k.profile.field) or _NO_FIELD
        eu_names, kr_names = self._interest(e.profile, k.profile)
        found: list[Reason] = []
        if field.industries:
            sentence = reasons.industries(field.divisions, e, k)
            found.append(Reason("industries", *sentence, round(field.industries, DECIMALS)))
        if field.ecosystem_share:
            sentence = reasons.ecosystems(field.ecosystems, e, self.ecosystems_ko)
            found.append(Reason("ecosystems", *sentence, round(field.ecosystem_share, DECIMALS)))
        if countries := self._countries(eu_names, kr_names):
            sentence = reasons.countries(e.profile.country, eu_names, kr_names)
            found.append(Reason("countries", *sentence, round(countries, DECIMALS)))
        if text := self._combine(eu_seeks, kr_seeks):
            shown = [r if r is not None and self._scale(r) > 0 else None for r in (eu_seeks, kr_seeks)]
            found.append(Reason("texts", *reasons.texts(*shown), round(self._w_texts * text, DECIMALS)))
        if (members := self._members(e.profile, k.profile)) and e.sme_share is not None and k.sme_share is not None:
            found.append(Reason("members", *reasons.members(e.sme_share, k.sme_share), round(members, DECIMALS)))
        found.sort(key=lambda r: (-r.weight, _SIGNALS.index(r.signal)))
        return tuple(found)


class Found:
    """The suggestions of one `find` or `find_refresh`: ranked, best first (by score, then ids), each pair once,
    with every pair's score known; or unranked, the eligible pairs scored one by one as they are read (once: the
    pairs come from a stream), a pair `find` found in both its clusters' top N twice. Either way a suggestion's
    reasons (two sentences per signal) are written only as it is read, so a whole listing's suggestions never
    sit in memory with their sentences at once."""

    __slots__ = ("_matcher", "_run", "_scored")

    def __init__(self, matcher: Matcher, run: _Run, scored: _ScoredPairs | Iterable[tuple[str, str]]) -> None:
        self._matcher, self._run, self._scored = matcher, run, scored

    def __len__(self) -> int:
        if not isinstance(self._scored, _ScoredPairs):
            raise TypeError("unranked suggestions are scored as they are read: their number is known only then")
        return len(self._scored)

    def __iter__(self) -> Iterator[Suggestion]:
        run, reasons_of = self._run, self._matcher._reasons
        for score, e, k, eu_seeks, kr_seeks in self._scores():
            yield Suggestion(e.id, k.id, score, reasons_of(run, e, k, eu_seeks, kr_seeks))

    def _scores(self) -> Iterator[tuple[float, Facts, Facts, float | None, float | None]]:
        """(score, European facts, Korean facts, the two text ratios) of each suggestion; each id looked up once."""
        eu, kr = self._run.eu.facts, self._run.kr.facts
        if isinstance(self._scored, _ScoredPairs):
            for score, e_id, k_id, eu_seeks, kr_seeks in self._scored:
                yield score, eu[e_id], kr[k_id], eu_seeks, kr_seeks
            return
        run, scored_pair = self._run, self._matcher._scored
        for e_id, k_id in self._scored:
            e, k = eu[e_id], kr[k_id]
            scored = scored_pair(run, e, k)
            if scored is not None:
                negative, _, _, eu_seeks, kr_seeks = scored
                # the score as ranked pairs give it: whole points over _POINTS
                yield round(-negative * _POINTS) / _POINTS, e, k, eu_seeks, kr_seeks


def _per_class(
    group: Group, excluded_by: Mapping[str, set[str]], top: Callable[[Facts, set[str]], list[str]]
) -> Iterator[tuple[str, list[str]]]:
    """Each member's top partners: members of one class score alike against anyone, so one top N serves
    them all, except members with pairs of their own excluded."""
    for members in group.each_class():
        shared: list[str] | None = None
        for f in members:
            excluded = excluded_by.get(f.id)
            if excluded:
                yield f.id, top(f, excluded)
                continue
            if shared is None:
                shared = top(f, set())
            yield f.id, shared


def _top(
    candidates: _Candidates,
    excluded: set[str],
    group_of: Callable[[str], Group | None],
    top_n: int,
    min_score: float,
    text_shares: Callable[[list[Facts]], list[float]],
) -> list[str]:
    """Ids of the best `top_n` partners among the candidates' members, best first, ties by id.

    A pair's score is at least its structured score, so once `top_n` members are known to reach a structured
    score T, no candidate whose structured score plus its best text share stays below T can enter the top N:
    only the others are scored, best ceiling first, and each score found can raise T further. Members of a
    group with the same texts (all of them, where no texts can be compared) score alike and are sorted by
    id, so their first `top_n` are all they can contribute."""
    bar = min_score
    count = 0
    for base, _, group in candidates.by_base:
        count += len(group.members) - (sum(1 for x in excluded if group_of(x) is group) if excluded else 0)
        if count >= top_n:
            bar = max(bar, round(base, DECIMALS))
            break
    found: list[tuple[float, str]] = []
    pending: list[tuple[float, Sequence[Facts]]] = []  # classes of one ceiling whose texts are still to compare
    pending_ceiling = 0.0
    for base, bound, group in candidates.by_bound:
        ceiling = round(base + bound, DECIMALS)
        if pending and ceiling < pending_ceiling:
            # texts are compared ceiling by ceiling, so the N-th best score found so far can raise the bar
            found = _settle(found, pending, text_shares, excluded, bar, top_n)
            pending = []
            if len(found) >= top_n:
                bar = max(bar, -found[top_n - 1][0])
        if ceiling < bar:
            break
        if bound:
            pending_ceiling = ceiling
            pending.extend((base, members) for members in group.each_class())
        else:
            _keep(found, round(base, DECIMALS), group.members, excluded, bar, top_n)
    if pending:
        found = _settle(found, pending, text_shares, excluded, bar, top_n)
    return [other_id for _, other_id in heapq.nsmallest(top_n, found)]


def _settle(
    found: list[tuple[float, str]],
    pending: list[tuple[float, Sequence[Facts]]],
    text_shares: Callable[[list[Facts]], list[float]],
    excluded: set[str],
    bar: float,
    top_n: int,
) -> list[tuple[float, str]]:
    """`found` with the pending classes scored (their texts compared in one batch), best `top_n` first."""
    shares = text_shares([members[0] for _, members in pending])
    for (base, members), share in zip(pending, shares, strict=True):
        _keep(found, round(base + share, DECIMALS), members, excluded, bar, top_n)
    return heapq.nsmallest(top_n, found)


def _keep(
    found: list[tuple[float, str]], value: float, members: Sequence[Facts], excluded: set[str], bar: float, top_n: int
) -> None:
    """The first `top_n` members (by id) of a class scoring `value`, unless it stays below the bar."""
    if value < bar:
        return
    kept = [other.id for other in members if other.id not in excluded][:top_n]
    found.extend((-value, other_id) for other_id in kept)


def _ratios(query: str | None, texts: list[str | None]) -> list[float | None]:
    """The scorer's ratio of `query` to each text, in one call (None where either text is missing)."""
    out: list[float | None] = [None] * len(texts)
    if not query:
        return out
    present = [i for i, text in enumerate(texts) if text]
    choices = [texts[i] for i in present]
    for _, ratio, position in process.extract(query, choices, scorer=fuzz.token_set_ratio, processor=None, limit=None):
        out[present[position]] = float(ratio)
    return out


_SIGNALS: tuple[Signal, ...] = ("industries", "ecosystems", "countries", "texts", "members")


def _check(top_n: int, min_score: float) -> None:
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, not {top_n}")
    if not 0 <= min_score <= 1:
        raise ValueError(f"min_score must be in [0, 1], not {min_score}")


def _ranked(items: list[Suggestion], top_n: int, other: Callable[[Suggestion], str]) -> list[Suggestion]:
    """One cluster's best `top_n` among stored suggestions, ranked as `suggest` ranks them."""
    return sorted(items, key=lambda s: (-s.score, other(s)))[:top_n]
