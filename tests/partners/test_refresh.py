"""Recomputing only what changed clusters touch gives what a full recompute gives."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from clusterbridge.model import Cluster, Cooperation, Members
from clusterbridge.partners import EnglishTexts, Matcher, Refresh, Suggestion
from tests.partners.pairs import BATTERY_EU_ID, BATTERY_KR_ID, battery_eu, battery_kr, battery_texts
from tests.partners.sample_clusters import by_name, sample_european, sample_korean

TOP_N = 2

Clusters = dict[str, Cluster]
Change = Callable[[Clusters, Clusters], tuple[set[str], set[str]]]


def _base() -> tuple[Clusters, Clusters]:
    eu = {c.source_id: c for c in (*sample_european(), battery_eu())}
    kr = {c.source_id: c for c in sample_korean()}
    return eu, kr


def _involves(s: Suggestion, refresh: Refresh) -> bool:
    return s.eu_id in refresh.affected_eu or s.kr_id in refresh.affected_kr


def _check(matcher: Matcher, change: Change, texts: EnglishTexts | None = None) -> Refresh:
    """Apply `change`, refresh incrementally, and compare with a full recompute."""
    eu, kr = _base()
    previous = matcher.suggest(eu.values(), kr.values(), top_n=TOP_N, texts=texts)
    changed_eu, changed_kr = change(eu, kr)
    full = matcher.suggest(eu.values(), kr.values(), top_n=TOP_N, texts=texts)
    refresh = matcher.refresh(
        eu.values(), kr.values(), previous, changed_eu=changed_eu, changed_kr=changed_kr, top_n=TOP_N, texts=texts
    )
    assert changed_eu <= refresh.affected_eu
    assert changed_kr <= refresh.affected_kr
    # exactly the full result's suggestions that involve an affected cluster
    assert list(refresh.suggestions) == [s for s in full if _involves(s, refresh)]
    # and replacing those rows of the stored table yields the full result
    kept = [s for s in previous if not _involves(s, refresh)]
    assert sorted([*kept, *refresh.suggestions], key=lambda s: (-s.score, s.eu_id, s.kr_id)) == full
    return refresh


def _retarget(kr_name: str, countries: tuple[str, ...]) -> Change:
    def change(eu: Clusters, kr: Clusters) -> tuple[set[str], set[str]]:
        c = by_name(list(kr.values()), kr_name)
        coop = c.cooperation.model_copy(update={"target_countries": countries})
        kr[c.source_id] = c.model_copy(update={"cooperation": coop})
        return set(), {c.source_id}

    return change


def _remove_eu(eu_name: str) -> Change:
    def change(eu: Clusters, kr: Clusters) -> tuple[set[str], set[str]]:
        c = by_name(list(eu.values()), eu_name)
        del eu[c.source_id]
        return {c.source_id}, set()

    return change


def _withdraw_eu(eu_name: str) -> Change:
    def change(eu: Clusters, kr: Clusters) -> tuple[set[str], set[str]]:
        c = by_name(list(eu.values()), eu_name)
        eu[c.source_id] = c.model_copy(update={"live": False})
        return {c.source_id}, set()

    return change


def _add_battery_kr(eu: Clusters, kr: Clusters) -> tuple[set[str], set[str]]:
    kr[BATTERY_KR_ID] = battery_kr()
    return set(), {BATTERY_KR_ID}


def _new_industry(eu: Clusters, kr: Clusters) -> tuple[set[str], set[str]]:
    c = by_name(list(eu.values()), "Techtera")
    eu[c.source_id] = c.model_copy(
        update={"nace_codes": ("C20.1",), "ecosystems": ("Energy-intensive industries (EII)",)}
    )
    return {c.source_id}, set()


def _touch_without_change(eu: Clusters, kr: Clusters) -> tuple[set[str], set[str]]:
    return {BATTERY_EU_ID}, {"KC-000113"}


def _several(eu: Clusters, kr: Clusters) -> tuple[set[str], set[str]]:
    changed_eu: set[str] = set()
    changed_kr: set[str] = set()
    for change in (_retarget("Gumi Display", ("IT",)), _remove_eu("Silicon Saxony"), _add_battery_kr, _new_industry):
        e, k = change(eu, kr)
        changed_eu |= e
        changed_kr |= k
    return changed_eu, changed_kr


CHANGES: dict[str, Change] = {
    "korean cluster names other countries": _retarget("Gumi Display", ("IT",)),
    "korean cluster starts naming a country": _retarget("Gumi Semiconductor", ("FR", "DE")),
    "european cluster removed": _remove_eu("Silicon Saxony"),
    "european cluster withdrawn": _withdraw_eu("Minalogic"),
    "korean cluster added": _add_battery_kr,
    "european cluster changes industry": _new_industry,
    "reported but unchanged": _touch_without_change,
    "several at once": _several,
}


class TestRefresh:
    """The incremental entry point agrees with a full recompute for the affected clusters."""

    @pytest.mark.parametrize("name", list(CHANGES))
    def test_matches_a_full_recompute(self, matcher: Matcher, name: str) -> None:
        _check(matcher, CHANGES[name])

    def test_matches_a_full_recompute_with_texts(self, matcher: Matcher) -> None:
        _check(matcher, _several, battery_texts())

    def test_one_change_touches_few_clusters(self, matcher: Matcher) -> None:
        refresh = _check(matcher, _retarget("Gumi Display", ("IT",)))
        eu, kr = _base()
        assert len(refresh.affected_eu) < len(eu) / 2
        assert len(refresh.affected_kr) < len(kr) / 2

    def test_nothing_changed_changes_nothing(self, matcher: Matcher) -> None:
        eu, kr = _base()
        previous = matcher.suggest(eu.values(), kr.values(), top_n=TOP_N)
        refresh = matcher.refresh(eu.values(), kr.values(), previous, top_n=TOP_N)
        assert refresh == Refresh(frozenset(), frozenset(), ())

    @pytest.mark.parametrize("seed", range(12))
    def test_random_changes_match_a_full_recompute(self, matcher: Matcher, seed: int) -> None:
        rng = random.Random(seed)

        def change(eu: Clusters, kr: Clusters) -> tuple[set[str], set[str]]:
            changed_eu: set[str] = set()
            changed_kr: set[str] = set()
            for side, changed in ((eu, changed_eu), (kr, changed_kr)):
                for cid in rng.sample(sorted(side), rng.randint(1, 3)):
                    changed.add(cid)
                    c = side[cid]
                    what = rng.choice(("remove", "withdraw", "countries", "members"))
                    if what == "remove":
                        del side[cid]
                    elif what == "withdraw":
                        side[cid] = c.model_copy(update={"live": not c.live})
                    elif what == "countries":
                        countries = tuple(rng.sample(["KR", "DE", "FR", "IT", "ES", "NL", "PL"], rng.randint(0, 3)))
                        side[cid] = c.model_copy(update={"cooperation": Cooperation(target_countries=countries)})
                    else:
                        side[cid] = c.model_copy(update={"members": Members(total=100, sme=rng.randint(50, 100))})
            return changed_eu, changed_kr

        _check(matcher, change)

    def test_excluded_pairs_stay_excluded(self, matcher: Matcher) -> None:
        eu, kr = _base()
        exclude = {(BATTERY_EU_ID, BATTERY_KR_ID)}
        previous = matcher.suggest(eu.values(), kr.values(), top_n=TOP_N, exclude=exclude)
        kr[BATTERY_KR_ID] = battery_kr()
        refresh = matcher.refresh(
            eu.values(), kr.values(), previous, changed_kr={BATTERY_KR_ID}, top_n=TOP_N, exclude=exclude
        )
        assert (BATTERY_EU_ID, BATTERY_KR_ID) not in {(s.eu_id, s.kr_id) for s in refresh.suggestions}
        assert BATTERY_KR_ID in {s.kr_id for s in refresh.suggestions}
