"""Partner suggestions on the sample data: who is suggested to whom, in which order, and why."""

from __future__ import annotations

import random
import re

import pytest

from clusterbridge.model import Cluster
from clusterbridge.partners import EnglishTexts, Matcher, Suggestion
from clusterbridge.partners.match import _ScoredPairs
from tests.partners.pairs import BATTERY_EU_ID, BATTERY_KR_ID, battery_eu, battery_kr, battery_texts
from tests.partners.sample_clusters import (
    by_name,
    sample_european,
    sample_korean,
)


def _eu() -> list[Cluster]:
    return [*sample_european(), battery_eu()]


def _kr() -> list[Cluster]:
    return [*sample_korean(), battery_kr()]


def _ranked(found: list[Suggestion], eu_id: str | None = None, kr_id: str | None = None) -> list[Suggestion]:
    """One cluster's partners as `suggest` ranks them: score, then the partner's id."""
    if eu_id is not None:
        return sorted((s for s in found if s.eu_id == eu_id), key=lambda s: (-s.score, s.kr_id))
    return sorted((s for s in found if s.kr_id == kr_id), key=lambda s: (-s.score, s.eu_id))


def _ksic_divisions(c: Cluster) -> set[str]:
    """The two digits of each KSIC division a cluster works in: its own KSIC codes, or its NACE codes through
    the crosswalk (European clusters carry NACE; the shared model derives nothing across systems)."""
    from tests.connectors.support import vocabulary

    codes = list(c.ksic_codes) or vocabulary().ksic_for_nace(c.nace_codes)
    return {re.sub(r"^[A-Z]", "", code)[:2] for code in codes}


class TestRanking:
    """Each cluster keeps its best partners; a pair with every signal ranks first for both of its clusters."""

    def test_pair_with_every_signal_is_first_for_both_clusters(self, matcher: Matcher) -> None:
        found = matcher.suggest(_eu(), _kr(), top_n=5, texts=battery_texts())
        first_of_eu = _ranked(found, eu_id=BATTERY_EU_ID)[0]
        first_of_kr = _ranked(found, kr_id=BATTERY_KR_ID)[0]
        assert (first_of_eu.eu_id, first_of_eu.kr_id) == (BATTERY_EU_ID, BATTERY_KR_ID)
        assert first_of_kr == first_of_eu
        assert {r.signal for r in first_of_eu.reasons} == {"industries", "ecosystems", "countries", "texts", "members"}

    @pytest.mark.parametrize("top_n", [1, 3])
    def test_blocking_and_pruning_give_the_exhaustive_result(self, matcher: Matcher, top_n: int) -> None:
        """Scoring every pair one by one and keeping each cluster's best gives exactly what `suggest` gives."""
        texts = battery_texts()
        scored = [s for e in _eu() for k in _kr() if (s := matcher.score(e, k, texts)) is not None]
        expected: set[Suggestion] = set()
        for e in {s.eu_id for s in scored}:
            expected.update(_ranked(scored, eu_id=e)[:top_n])
        for k in {s.kr_id for s in scored}:
            expected.update(_ranked(scored, kr_id=k)[:top_n])
        found = matcher.suggest(_eu(), _kr(), top_n=top_n, texts=texts)
        assert found == sorted(expected, key=lambda s: (-s.score, s.eu_id, s.kr_id))

    def test_scores_are_weighted_means_in_the_unit_interval(self, matcher: Matcher) -> None:
        for s in matcher.suggest(_eu(), _kr(), top_n=50, texts=battery_texts()):
            assert 0 < s.score <= 1
            assert abs(sum(r.weight for r in s.reasons) - s.score) < 1e-3

    def test_min_score_drops_weaker_pairs(self, matcher: Matcher) -> None:
        found = matcher.suggest(_eu(), _kr(), top_n=50, min_score=0.7)
        assert found
        assert all(s.score >= 0.7 for s in found)
        assert len(found) < len(matcher.suggest(_eu(), _kr(), top_n=50))

    def test_a_european_cluster_seeking_korea_gets_the_korean_clusters_of_its_industry_naming_its_country(
        self, matcher: Matcher
    ) -> None:
        eu = [c for c in sample_european() if c.live and c.country != "KR"]
        kr = [c for c in sample_korean() if c.live]
        found = matcher.suggest(eu, kr, top_n=5)
        checked = 0
        for e in eu:
            if "KR" not in e.cooperation.target_countries:
                continue
            expected = {
                k.source_id
                for k in kr
                if _ksic_divisions(e) & _ksic_divisions(k) and e.country in k.cooperation.target_countries
            }
            if not expected:
                continue
            checked += 1
            top = {s.kr_id for s in _ranked(found, eu_id=e.source_id)[:5]}
            assert expected <= top, e.name_en
        assert checked >= 10

    def test_goeppingen_gets_the_machinery_cluster_naming_germany_among_its_best(self, matcher: Matcher) -> None:
        goeppingen = by_name(sample_european(), "Kompetenznetz Mechatronik")
        found = matcher.suggest(sample_european(), sample_korean(), top_n=5)
        top = [s.kr_id for s in _ranked(found, eu_id=goeppingen.source_id)]
        assert "KC-000101" in top[:3]  # KSIC 29172 machinery, names DE and FR


class TestEligibility:
    """A pair with no shared industry, no shared ecosystem and no mutual country interest never appears."""

    def test_unrelated_pair_is_not_scored(self, matcher: Matcher) -> None:
        techtera = by_name(sample_european(), "Techtera")  # textiles, FR, seeks KR
        yeosu = by_name(sample_korean(), "Yeosu Petrochemical")  # petrochemicals, names DE NL FI
        assert matcher.score(techtera, yeosu) is None
        found = matcher.suggest(sample_european(), sample_korean(), top_n=100)
        assert (techtera.source_id, yeosu.source_id) not in {(s.eu_id, s.kr_id) for s in found}

    def test_no_suggestion_lacks_both_industry_and_mutual_interest(self, matcher: Matcher) -> None:
        eu = {c.source_id: c for c in _eu()}
        kr = {c.source_id: c for c in _kr()}
        found = matcher.suggest(eu.values(), kr.values(), top_n=100, texts=battery_texts())
        assert len(found) > 200
        for s in found:
            e, k = eu[s.eu_id], kr[s.kr_id]
            shared = set(e.ecosystems) & set(k.ecosystems) or _ksic_divisions(e) & _ksic_divisions(k)
            mutual = "KR" in e.cooperation.target_countries and e.country in k.cooperation.target_countries
            assert shared or mutual

    def test_one_sided_interest_alone_is_not_enough(self, matcher: Matcher) -> None:
        retail = battery_eu(field_ecosystems=["Retail"], field_nace_codes=["G47.9"])
        assert matcher.score(retail, battery_kr(cprtnNatnCd="FR")) is None  # only the European side names KR

    def test_mutual_interest_alone_is_enough(self, matcher: Matcher) -> None:
        retail = battery_eu(field_ecosystems=["Retail"], field_nace_codes=["G47.9"])
        found = matcher.score(retail, battery_kr(), texts=battery_texts())
        assert found is not None
        assert {r.signal for r in found.reasons} <= {"countries", "texts", "members"}
        assert "countries" in {r.signal for r in found.reasons}

    def test_withdrawn_clusters_and_korean_profiles_on_eccp_are_nobodys_partners(self, matcher: Matcher) -> None:
        found = matcher.suggest(sample_european(), sample_korean(), top_n=100)
        withdrawn = {c.source_id for c in (*sample_european(), *sample_korean()) if not c.live}
        korean_on_eccp = {c.source_id for c in sample_european() if c.country == "KR"}
        assert withdrawn
        assert korean_on_eccp
        assert not {s.eu_id for s in found} & (withdrawn | korean_on_eccp)
        assert not {s.kr_id for s in found} & withdrawn


class TestExclusions:
    """Pairs already linked by rule 11, passed in by the caller, are never suggested."""

    def test_excluded_pairs_never_appear_and_their_places_are_filled(self, matcher: Matcher) -> None:
        before = matcher.suggest(_eu(), _kr(), top_n=3, texts=battery_texts())
        excluded = {(s.eu_id, s.kr_id) for s in before[:4]}
        after = matcher.suggest(_eu(), _kr(), top_n=3, texts=battery_texts(), exclude=excluded)
        assert not excluded & {(s.eu_id, s.kr_id) for s in after}
        assert len(_ranked(after, eu_id=BATTERY_EU_ID)) >= 3

    def test_single_pair_scoring_does_not_know_exclusions_but_suggest_does(self, matcher: Matcher) -> None:
        pair = (BATTERY_EU_ID, BATTERY_KR_ID)
        assert matcher.score(battery_eu(), battery_kr()) is not None
        found = matcher.suggest([battery_eu()], [battery_kr()], exclude=[pair])
        assert found == []


class TestOrder:
    """Scores and rankings do not depend on the order of the records."""

    def test_shuffled_input_gives_identical_suggestions(self, matcher: Matcher) -> None:
        expected = matcher.suggest(_eu(), _kr(), top_n=3, texts=battery_texts())
        for seed in range(5):
            rng = random.Random(seed)
            eu, kr = _eu(), _kr()
            rng.shuffle(eu)
            rng.shuffle(kr)
            assert matcher.suggest(eu, kr, top_n=3, texts=battery_texts()) == expected

    def test_ties_are_broken_by_id(self, matcher: Matcher) -> None:
        eu = [battery_eu(), battery_eu("0b0b0b0b-0000-4000-8000-00000000b000")]
        kr = [battery_kr(), battery_kr("KC-900000")]
        found = matcher.suggest(eu, kr, top_n=1)
        # each twin's single best partner is the other side's twin with the smaller id
        assert {(s.eu_id, s.kr_id) for s in found} == {
            ("0b0b0b0b-0000-4000-8000-00000000b000", "KC-900000"),
            ("0b0b0b0b-0000-4000-8000-00000000b000", BATTERY_KR_ID),
            (BATTERY_EU_ID, "KC-900000"),
        }
        assert len({s.score for s in found}) == 1
        assert found == sorted(found, key=lambda s: (s.eu_id, s.kr_id))

    @pytest.mark.parametrize("top_n", [1, 3, 5])
    def test_unranked_suggestions_are_the_ranked_ones_in_another_order(
            self, matcher: Matcher, top_n: int, monkeypatch: pytest.MonkeyPatch) -> None:
        """Who ranks them sees them all (the ledger does): unranked, the same suggestions with the same scores
        and reasons come as they are found, a pair in both its clusters' top N twice and alike, and none is ever
        waiting in the ranked pairs' store."""
        ranked = matcher.suggest(_eu(), _kr(), top_n=top_n, texts=battery_texts())

        def held(*_: object) -> None:
            raise AssertionError("an unranked run held a pair to rank it")
        monkeypatch.setattr(_ScoredPairs, "add", held)
        unranked = matcher.find(_eu(), _kr(), top_n=top_n, texts=battery_texts(), ranked=False)
        with pytest.raises(TypeError, match="scored as they are read"):
            len(unranked)
        found = list(unranked)
        once = list(dict.fromkeys(found))
        assert sorted(once, key=lambda s: (-s.score, s.eu_id, s.kr_id)) == ranked
        twice = [s for s in once if found.count(s) == 2]
        assert len(found) == len(once) + len(twice)
        mutual = [s for s in ranked if s in _ranked(ranked, eu_id=s.eu_id)[:top_n]
                  and s in _ranked(ranked, kr_id=s.kr_id)[:top_n]]
        assert twice == [s for s in once if s in mutual]
        assert twice  # the battery pair is first for both
        assert once != ranked  # the order found is not the ranking: this run did not rank
        assert any(len(s.reasons) > 1 for s in found)

    def test_an_unranked_run_hands_over_a_groups_pairs_before_working_out_the_next_groups(
            self, matcher: Matcher, monkeypatch: pytest.MonkeyPatch) -> None:
        """No cluster's partners wait for the whole listing: the first pair comes once the first class of
        European clusters has its top N."""
        tops: list[str] = []
        top_eu = Matcher._top_eu

        def counted(self: Matcher, run: object, e: object, *args: object, **kwargs: object) -> list[str]:
            tops.append("eu")
            return top_eu(self, run, e, *args, **kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(Matcher, "_top_eu", counted)
        found = iter(matcher.find(_eu(), _kr(), top_n=5, texts=battery_texts(), ranked=False))
        next(found)
        assert tops == ["eu"]
        rest = list(found)
        assert len(tops) > 1
        assert rest

    def test_a_cluster_given_twice_is_refused(self, matcher: Matcher) -> None:
        with pytest.raises(ValueError, match=BATTERY_EU_ID):
            matcher.suggest([battery_eu(), battery_eu()], [battery_kr()])

    @pytest.mark.parametrize(("top_n", "min_score"), [(0, 0.0), (5, 1.5), (5, -0.1)])
    def test_nonsense_limits_are_refused(self, matcher: Matcher, top_n: int, min_score: float) -> None:
        with pytest.raises(ValueError, match=r"top_n|min_score"):
            matcher.suggest([battery_eu()], [battery_kr()], top_n=top_n, min_score=min_score)


class TestReasons:
    """Reasons name the right codes, ecosystems and countries, in English and in Korean."""

    def _pair(self, matcher: Matcher, eu_name: str, kr_name: str) -> Suggestion:
        found = matcher.score(by_name(sample_european(), eu_name), by_name(sample_korean(), kr_name))
        assert found is not None
        return found

    def test_industry_reason_names_the_shared_division_codes_of_each_system(self, matcher: Matcher) -> None:
        s = self._pair(matcher, "Kompetenznetz Mechatronik", "Banwol-Sihwa Machinery")
        (industry,) = [r for r in s.reasons if r.signal == "industries"]
        # NACE C28 (machinery) is KSIC division C29: the manufacturing shift
        assert "NACE C28 / KSIC C29172" in industry.en
        assert "NACE C28 / KSIC C29172" in industry.ko
        assert "Machinery and Equipment" in industry.en
        assert "기계·장비" in industry.ko
        for other in ("C27.1", "C26.5"):  # the European cluster's codes outside the shared division
            assert other not in industry.en

    def test_ecosystem_reason_names_the_shared_ecosystems_in_both_languages(self, matcher: Matcher) -> None:
        s = matcher.score(battery_eu(), battery_kr())
        assert s is not None
        (eco,) = [r for r in s.reasons if r.signal == "ecosystems"]
        assert "Energy-renewables" in eco.en
        assert "Electronics" in eco.en
        assert "신재생에너지" in eco.ko
        assert "전자" in eco.ko

    def test_country_reason_names_the_country_in_each_language(self, matcher: Matcher) -> None:
        german = self._pair(matcher, "Kompetenznetz Mechatronik", "Banwol-Sihwa Machinery")
        (de,) = [r for r in german.reasons if r.signal == "countries"]
        assert de.en == "the European cluster seeks Korean partners; the Korean cluster names Germany"
        assert "독일을" in de.ko
        french = self._pair(matcher, "Minalogic", "Gumi Display")
        (fr,) = [r for r in french.reasons if r.signal == "countries"]
        assert "France" in fr.en
        assert "프랑스를" in fr.ko

    def test_one_sided_interest_is_named_and_counts_less(self, matcher: Matcher) -> None:
        both = matcher.score(battery_eu(), battery_kr())
        only_eu = matcher.score(battery_eu(), battery_kr(cprtnNatnCd="FR"))
        assert both is not None
        assert only_eu is not None
        (one,) = [r for r in only_eu.reasons if r.signal == "countries"]
        (two,) = [r for r in both.reasons if r.signal == "countries"]
        assert one.en == "the European cluster seeks Korean partners"
        assert one.weight < two.weight
        assert only_eu.score < both.score

    def test_manufacturing_shift_is_respected_never_the_code_strings(self, matcher: Matcher) -> None:
        # NACE C28 (machinery) and KSIC 28202 (batteries, division C28) share a string, not an industry
        machinery = battery_eu(field_ecosystems=["Retail"], field_nace_codes=["C28"])
        shifted = matcher.score(machinery, battery_kr())
        assert shifted is not None  # eligible through mutual interest only
        assert "industries" not in {r.signal for r in shifted.reasons}
        # NACE C27 (electrical equipment, batteries) is KSIC division C28
        electrical = battery_eu(field_ecosystems=["Retail"], field_nace_codes=["C27"])
        matched = matcher.score(electrical, battery_kr())
        assert matched is not None
        (industry,) = [r for r in matched.reasons if r.signal == "industries"]
        assert "NACE C27 / KSIC C28202" in industry.en
        assert "이차전지" in industry.ko

    def test_member_and_text_reasons_name_their_evidence(self, matcher: Matcher) -> None:
        s = matcher.score(battery_eu(), battery_kr(), texts=battery_texts())
        assert s is not None
        (members,) = [r for r in s.reasons if r.signal == "members"]
        assert members.en == "both are SME-heavy (85 % / 92 % SMEs)"
        assert "85 % / 92 %" in members.ko
        (texts,) = [r for r in s.reasons if r.signal == "texts"]
        assert "the European cluster seeks what the Korean cluster offers" in texts.en
        assert "the Korean cluster seeks what the European cluster offers" in texts.en
        assert "유사도" in texts.ko

    def test_korean_texts_are_compared_only_through_english_translations(self, matcher: Matcher) -> None:
        untranslated = matcher.score(battery_eu(), battery_kr())
        translated = matcher.score(battery_eu(), battery_kr(), texts=battery_texts())
        assert untranslated is not None
        assert translated is not None
        assert "texts" not in {r.signal for r in untranslated.reasons}
        assert translated.score > untranslated.score

    def test_unrelated_texts_add_nothing(self, matcher: Matcher) -> None:
        from clusterbridge.partners import CooperationText

        unrelated = EnglishTexts(
            kr={BATTERY_KR_ID: CooperationText(seeking="Tourism marketing and hotel booking platforms")}
        )
        s = matcher.score(battery_eu(), battery_kr(), texts=unrelated)
        assert s is not None
        assert "texts" not in {r.signal for r in s.reasons}

    def test_reasons_are_ordered_by_what_they_add(self, matcher: Matcher) -> None:
        s = matcher.score(battery_eu(), battery_kr(), texts=battery_texts())
        assert s is not None
        weights = [r.weight for r in s.reasons]
        assert weights == sorted(weights, reverse=True)


class TestSparseClusters:
    """A cluster may name ecosystems but no industry code (or the reverse): the pair is still scored."""

    def test_a_shared_ecosystem_without_any_code_on_one_side_scores(self, matcher: Matcher) -> None:
        eu = battery_eu().model_copy(update={"nace_codes": ()})
        kr = battery_kr()
        found = matcher.score(eu, kr)
        assert found is not None
        assert 0 < found.score <= 1
        assert "industries" not in {r.signal for r in found.reasons}


class TestSharedFacts:
    """The matcher holds every cluster's facts at once: equal values are held once per run."""

    def test_a_run_lets_go_of_the_tables_that_shared_its_values_once_its_facts_are_read(
            self, matcher: Matcher) -> None:
        assert matcher.suggest(_eu(), _kr(), top_n=3)
        assert not matcher.reader._shared
        assert not matcher.reader._evidence
        assert not matcher.reader._shares

    def test_clusters_of_one_run_share_their_equal_profiles_codes_and_labels(self, matcher: Matcher) -> None:
        reader = matcher.reader
        reader.begin()
        first = reader.european(battery_eu())
        twin = reader.european(battery_eu().model_copy(update={"source_id": "another-battery-cluster"}))
        assert twin.id != first.id
        assert twin.profile is first.profile
        assert twin.profile.field is first.profile.field
        assert twin.evidence is first.evidence
        assert twin.codes is first.codes
        assert twin.ecosystem_names is first.ecosystem_names
        assert twin.industry_en is first.industry_en
        # texts and shares are made anew for each cluster (prepared, divided): equal ones are held once
        assert first.seeking
        assert twin.seeking is first.seeking
        assert twin.offering is first.offering
        assert first.sme_share == 0.85
        assert twin.sme_share is first.sme_share
        # another cluster with other codes but the same texts: its own evidence, the same texts
        moved = reader.european(battery_eu("another-one", field_nace_codes=["C26.1"]))
        assert moved.evidence is not first.evidence
        assert moved.codes != first.codes
        assert moved.seeking is first.seeking
        other = reader.korean(battery_kr())
        assert other.profile != first.profile
        reader.end()  # what found the equal values goes; the facts keep theirs
        assert not reader._shared
        assert not reader._evidence
        assert not reader._shares
        assert twin.codes is first.codes
        reader.begin()  # a new run lets the last one's values go: equal, not the same
        again = reader.european(battery_eu())
        assert again == first
        assert again.profile is not first.profile
        assert again.codes is not first.codes


class TestScoredPairs:
    """The compact store a run's scored pairs wait in until they are ranked gives back exactly what was put in,
    in the order suggestions are ranked: score, then European id, then Korean id."""

    def test_pairs_come_back_unchanged_and_ranked(self) -> None:
        rng = random.Random(7)
        eu_ids = [f"eu-{rng.randrange(10**6):06d}" for _ in range(300)]
        kr_ids = [f"KC-{rng.randrange(10**6)}" for _ in range(200)]  # ids of unequal length sort as strings
        scores = [0.0, 1.0, 0.29, 0.5, 0.1234, 0.9999, 0.0001]
        put = {(rng.choice(eu_ids), rng.choice(kr_ids)): (
            rng.choice(scores) if rng.random() < 0.5 else round(rng.random(), 4),
            rng.choice([None, 0.0, 100.0, rng.uniform(0, 100)]), rng.choice([None, rng.uniform(0, 100)]))
            for _ in range(2000)}
        pairs = _ScoredPairs(eu_ids, kr_ids)
        for (e, k), (score, eu_seeks, kr_seeks) in put.items():
            pairs.add((-score, e, k, eu_seeks, kr_seeks))
        pairs.rank()
        expected = [(score, e, k, eu_seeks, kr_seeks) for (e, k), (score, eu_seeks, kr_seeks) in put.items()]
        expected.sort(key=lambda x: (-x[0], x[1], x[2]))
        assert list(pairs) == expected
        assert len(pairs) == len(put)

    @pytest.mark.parametrize("score", [-0.0001, 1.0001])
    def test_a_score_outside_the_unit_interval_is_refused(self, score: float) -> None:
        with pytest.raises(ValueError, match="must lie in"):
            _ScoredPairs(["e"], ["k"]).add((-score, "e", "k", None, None))
