"""Partner suggestions kept in the ledger: recomputed after a run that changed natives (only what the change
touches), read by the CLI, the report and — when publishing is on — the renderer.

The matcher speaks of a European and a Korean side; here they are the bridge's first and second side, so the
ledger's `partner_suggestions` rows are (first side id, second side id).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from clusterbridge.abc import Translator
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, Section
from clusterbridge.partners.facts import CooperationText, EnglishTexts
from clusterbridge.partners.match import Found, Matcher, Suggestion
from clusterbridge.sides import Bridge, Side
from clusterbridge.store.ledger import Ledger, now

log = structlog.get_logger(__name__)
TOP_N = 5  # suggestions kept per cluster
PUBLISHED = 3  # suggestions a mirror shows when publishing is on
# beyond this many changed natives, partner suggestions are recomputed whole
CHANGED_LIMIT = 5000
TRANSLATE_BATCH = 1000  # cooperation texts asked of the translator's cache at a time


@dataclass(frozen=True)
class Partner:
    """One suggested partner of a cluster, as a reader on the partner's own platform sees its name."""

    native_id: str
    name: str
    score: float


class Suggestions:
    """The `partner_suggestions` table and how it is kept current."""

    def __init__(self, ledger: Ledger, bridge: Bridge, matcher: Matcher, vocabulary: Vocabulary) -> None:
        self.ledger = ledger
        self.bridge = bridge
        self.matcher = matcher
        self.vocabulary = vocabulary
        self.first, self.second = bridge.first, bridge.second

    # -- keeping the table current ------------------------------------------------------------------------
    def refresh(self, translator: Translator | None = None, *, whole: bool = False,
                moves: bool = False) -> set[tuple[str, str]]:
        """Recompute for the natives whose suggestions wait (the ledger flags each changed or withdrawn native
        until a refresh covers it, so what a run that ended early left is done by the next), or everything
        (`whole`, or when more than CHANGED_LIMIT wait). With `moves` (publishing: a mirror shows its top
        partners), returns the natives whose top partners changed; without, an empty set, and the tops are never
        read: comparing them holds every cluster's partners in memory at once."""
        waiting = None if whole else self.ledger.stale_suggestions(CHANGED_LIMIT)
        whole = waiting is None
        changed = waiting or set()
        stored = not whole and self.ledger.has_suggestions(self.first.name, self.second.name)
        if stored and not changed:
            return set()  # nothing to recompute: the stored table stays, unread
        # the natives are streamed from the ledger side by side (never all parsed at once): the matcher keeps
        # only the facts it scores by
        first, second = self._clusters(self.first.name), self._clusters(self.second.name)
        exclude = self._rule11_pairs()
        texts = self._english_texts(translator)
        before = self._stored_tops() if moves else {}
        if not stored:
            written = self._store(self.matcher.find(first, second, top_n=TOP_N, exclude=exclude, texts=texts,
                                                    ranked=False), None)
        else:
            affected_first, affected_second, found = self.matcher.find_refresh(
                first, second, self._stored(), changed_eu=[i for s, i in changed if s == self.first.name],
                changed_kr=[i for s, i in changed if s == self.second.name], top_n=TOP_N, exclude=exclude,
                texts=texts, ranked=False)
            written = self._store(found, (set(affected_first), set(affected_second)))
        self.ledger.suggestions_recomputed(changed if stored else None)  # current now: no run redoes them
        moved: set[tuple[str, str]] = set()
        if moves:
            after = self._stored_tops()
            moved = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
        log.info("partners.refreshed", changed=len(changed), whole=not stored, written=written,
                 tops_changed=len(moved) if moves else None)
        return moved

    def _clusters(self, side: str) -> Iterator[Cluster]:
        for row in self.ledger.iter_natives(side, live=True):
            yield Cluster.model_validate_json(row.snapshot)

    def _rule11_pairs(self) -> set[tuple[str, str]]:
        """(first side id, second side id) of every cluster linked to its own profile: never suggested."""
        out: set[tuple[str, str]] = set()
        for m in self.ledger.matches():
            pair = {m.home_side: m.home_id, m.profile_side: m.profile_id}
            if self.first.name in pair and self.second.name in pair:
                out.add((pair[self.first.name], pair[self.second.name]))
        return out

    def _english_texts(self, translator: Translator | None) -> EnglishTexts:
        """English cooperation texts: the clusters' own, or translations the run's translator already holds
        (its cache; a suggestion never pays for a translation). Without a translator (the offline one is none)
        the natives are not read for them at all; with one, a side's texts are asked for TRANSLATE_BATCH at a
        time, so only the translations found are held, never every text of a listing."""
        if translator is None:
            return EnglishTexts()
        found: dict[str, dict[str, dict[str, str]]] = {self.first.name: {}, self.second.name: {}}

        def ask(side: str, lang: str, items: list[tuple[str, str, str]]) -> None:
            results = translator.translate([t for _, _, t in items], lang, "en")
            for (native_id, kind, _), result in zip(items, results, strict=True):
                if result:
                    found[side].setdefault(native_id, {})[kind] = result
            items.clear()

        for side in (self.first.name, self.second.name):
            wanted: dict[str, list[tuple[str, str, str]]] = {}  # by language
            for c in self._clusters(side):
                for kind, text in (("seeking", c.cooperation.seeking), ("offering", c.cooperation.offering)):
                    if text is not None and (lang := text.lang.split("-")[0]) != "en":
                        items = wanted.setdefault(lang, [])
                        items.append((c.source_id, kind, text.text))
                        if len(items) >= TRANSLATE_BATCH:
                            ask(side, lang, items)
            for lang, items in wanted.items():
                if items:  # what is left of the last batch
                    ask(side, lang, items)

        def as_texts(side: str) -> dict[str, CooperationText]:
            return {i: CooperationText(t.get("seeking"), t.get("offering")) for i, t in found[side].items()}
        return EnglishTexts(eu=as_texts(self.first.name), kr=as_texts(self.second.name))

    def _stored(self) -> Iterator[Suggestion]:
        """The stored suggestions as a refresh needs them, streamed: ids and scores (their reasons are not read).
        Each id is one string however many pairs name it: a refresh holds every stored pair at once."""
        for first_id, second_id, score in self.ledger.suggestion_scores(self.first.name, self.second.name):
            yield Suggestion(sys.intern(first_id), sys.intern(second_id), score, ())

    def _store(self, found: Found, scope: tuple[set[str], set[str]] | None) -> int:
        """Write what the matcher found, a batch at a time as its pairs are scored and their reasons written,
        and say how many pairs are stored. The pairs come in the order found, unranked (ranking them here would
        hold a listing's pairs at once), a whole recompute's mutual pairs twice (leaving them out here would hold
        every pair given): the ledger keeps one of each and ranks each cluster's pairs once they are all written,
        in the same transaction, so no reader ever sees the placeholder rank 0."""
        stamp = now()

        def rows() -> Iterator[dict[str, Any]]:
            for s in found:
                yield {"first_side": self.first.name, "first_id": s.eu_id, "second_side": self.second.name,
                       "second_id": s.kr_id, "score": s.score, "rank_first": 0, "rank_second": 0,
                       "reasons_en": json.dumps([{"signal": r.signal, "text": r.en, "weight": r.weight}
                                                 for r in s.reasons], ensure_ascii=False),
                       "reasons_ko": json.dumps([r.ko for r in s.reasons], ensure_ascii=False),
                       "computed_at": stamp}
        return self.ledger.replace_suggestions(self.first.name, self.second.name, rows(), scope)

    # -- reading ------------------------------------------------------------------------------------------
    def _stored_tops(self) -> dict[tuple[str, str], tuple[str, ...]]:
        return self._tops(self.ledger.suggestion_scores(self.first.name, self.second.name))

    def _tops(self, pairs: Iterable[tuple[str, str, float]]) -> dict[tuple[str, str], tuple[str, ...]]:
        """Each cluster's published partners (ids, best first), from (first id, second id, score) pairs."""
        by: dict[tuple[str, str], list[tuple[float, str, str]]] = {}
        for first_id, second_id, score in pairs:
            key = (-score, first_id, second_id)  # the order the matcher ranks in
            by.setdefault((self.first.name, first_id), []).append(key)
            by.setdefault((self.second.name, second_id), []).append(key)
        out: dict[tuple[str, str], tuple[str, ...]] = {}
        for (side, native_id), items in by.items():
            ranked = sorted(items)[:PUBLISHED]
            out[(side, native_id)] = tuple(k[2] if side == self.first.name else k[1] for k in ranked)
        return out

    def published(self) -> PublishedPartners:
        """What each mirror shows: its top partners with their names as their own platform's readers see them."""
        pairs = list(self.ledger.suggestion_scores(self.first.name, self.second.name))  # (ids, score): small
        tops = self._tops(pairs)
        scores = {(f, k): score for f, k, score in pairs}
        shown = {(self.bridge.other(self.bridge.side(side)).name, pid) for (side, _), ids in tops.items()
                 for pid in ids}
        names: dict[tuple[str, str], str] = {}
        for row in self.ledger.iter_natives(live=True):
            if (row.side, row.native_id) in shown:
                cluster = Cluster.model_validate_json(row.snapshot)
                names[(row.side, row.native_id)] = _local_name(cluster, self.bridge.side(row.side))
        partners: dict[tuple[str, str], tuple[Partner, ...]] = {}
        for (side_name, native_id), ids in tops.items():
            other = self.bridge.other(self.bridge.side(side_name)).name
            partners[(side_name, native_id)] = tuple(
                Partner(pid, names.get((other, pid), pid),
                        scores.get((native_id, pid) if side_name == self.first.name else (pid, native_id), 0.0))
                for pid in ids)
        return PublishedPartners(partners, self.vocabulary, self.bridge)


class PublishedPartners:
    """The partners each mirror shows, as a rendering section in the reader's language."""

    def __init__(self, partners: Mapping[tuple[str, str], tuple[Partner, ...]], vocabulary: Vocabulary,
                 bridge: Bridge) -> None:
        self.partners = dict(partners)
        self.vocabulary = vocabulary
        self.bridge = bridge

    def update(self, other: PublishedPartners) -> None:
        self.partners = dict(other.partners)

    def section(self, cluster: Cluster, reader: Side) -> tuple[Section, ...]:
        found = self.partners.get((cluster.source, cluster.source_id))
        if not found:
            return ()
        lang = reader.language.split("-")[0]
        heading = self.vocabulary.heading("partners", lang, area=reader.area_in(lang))
        return (Section(key="partners", heading=heading, lines=tuple(p.name for p in found), lang=lang),)


def _local_name(cluster: Cluster, side: Side) -> str:
    lang = side.language.split("-")[0]
    return cluster.names.get(lang) or cluster.name_en

