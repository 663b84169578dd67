"""Record linkage (rule 11): Korean clusters with their own native ECCP profile."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from clusterbridge.config import Settings, default_dir
from clusterbridge.mapping.clean import site_key
from clusterbridge.mapping.data import LinkOverrides
from clusterbridge.mapping.linkage import Match, Pair, ProfileIndex, comparable_name, settle_pairs
from clusterbridge.model import Cluster
from tests.mapping.mapping_samples import eccp, kicox
from tests.mapping.pipeline import Pipeline as Mapper


def korean(mapper: Mapper, cid: str, name_ko: str, name_en: str = "", url: str = "") -> Cluster:
    return mapper.from_kicox(kicox(clstrId=cid, clstrNm=name_ko, clstrEngNm=name_en, hmpgUrl=url))


def native(mapper: Mapper, uuid: str, title: str, url: str | None = None) -> Cluster:
    website = {"uri": url} if url else None
    return mapper.from_eccp(eccp({"title": title, "field_country": "KR", "field_website": website}, uuid=uuid))


class TestMatching:
    def test_same_website_links(self, mapper: Mapper) -> None:
        k = korean(mapper, "KC-1", "창원 메카트로닉스 미니클러스터", url="http://www.changwon-mc.or.kr")
        e = native(mapper, "u-1", "Mechatronics Association", "https://changwon-mc.or.kr/en/index.html")
        assert mapper.match_natives([k], [e]) == [Match("KC-1", "u-1", 1.0, "domain")]

    def test_similar_name_links(self, mapper: Mapper) -> None:
        k = korean(mapper, "KC-2", "구미 전자의료기기 미니클러스터", "Gumi Electronic Medical Device Mini-Cluster")
        e = native(mapper, "u-2", "Gumi Electronic Medical Devices Mini Cluster")
        [match] = mapper.match_natives([k], [e])
        assert (match.home_id, match.profile_id, match.method) == ("KC-2", "u-2", "name")
        assert 0.9 <= match.score < 1.0

    def test_romanised_name_links_when_there_is_no_english_name(self, mapper: Mapper) -> None:
        k = korean(mapper, "KC-3", "반월시화 기계부품 미니클러스터")
        e = native(mapper, "u-3", "Banwolsihwa Machinery Parts Mini Cluster")
        assert [m.method for m in mapper.match_natives([k], [e])] == ["name"]

    def test_different_names_do_not_link(self, mapper: Mapper) -> None:
        k = korean(mapper, "KC-4", "울산 조선해양 미니클러스터", "Ulsan Shipbuilding & Offshore Mini-Cluster")
        e = native(mapper, "u-4", "Ulsan Automotive Parts Mini-Cluster")
        assert mapper.match_natives([k], [e]) == []

    def test_threshold_is_configurable(self, mapper: Mapper) -> None:
        k = korean(mapper, "KC-5", "울산 조선해양 미니클러스터", "Ulsan Shipbuilding Mini-Cluster")
        e = native(mapper, "u-5", "Ulsan Shipyard Mini-Cluster")
        assert mapper.match_natives([k], [e]) == []
        assert [m.profile_id for m in mapper.match_natives([k], [e], threshold=0.7)] == ["u-5"]

    def test_each_side_links_once_best_first(self, mapper: Mapper) -> None:
        k1 = korean(mapper, "KC-6", "가", "Daegu Textile Mini-Cluster")
        k2 = korean(mapper, "KC-7", "나", "Daegu Textiles Mini-Cluster")
        e = native(mapper, "u-6", "Daegu Textile Mini-Cluster")
        assert mapper.match_natives([k2, k1], [e]) == [Match("KC-6", "u-6", 1.0, "name")]

    def test_shared_hosting_is_no_evidence(self, mapper: Mapper) -> None:
        k = korean(mapper, "KC-8", "가", "Alpha Cluster", url="https://blog.naver.com/alpha")
        e = native(mapper, "u-8", "Omega Network", "https://blog.naver.com/omega")
        assert mapper.match_natives([k], [e]) == []

    def test_names_compare_without_case_accents_or_hyphens(self) -> None:
        assert comparable_name("Mini-Cluster Ésprit") == comparable_name("mini cluster esprit")


class TestOverrides:
    def _mapper(self, tmp_path: Path, body: str) -> Mapper:
        (tmp_path / "links.toml").write_text(body, encoding="utf-8")
        return Mapper.load(Settings(_env_file=None, config_dir=tmp_path))  # type: ignore[call-arg]

    def test_force_links_what_the_matcher_misses(self, tmp_path: Path) -> None:
        mapper = self._mapper(tmp_path, '[[force]]\nkicox_id = "KC-1"\neccp_id = "u-9"\nreason = "same"\n')
        k = korean(mapper, "KC-1", "가", "Alpha")
        e = native(mapper, "u-9", "Something Else Entirely")
        assert mapper.match_natives([k], [e]) == [Match("KC-1", "u-9", 1.0, "override")]

    def test_forbid_blocks_an_automatic_link(self, tmp_path: Path) -> None:
        mapper = self._mapper(tmp_path, '[[forbid]]\nkicox_id = "KC-1"\neccp_id = "u-1"\n')
        k = korean(mapper, "KC-1", "가", url="http://www.same.or.kr")
        e = native(mapper, "u-1", "Whatever", "http://same.or.kr")
        assert mapper.match_natives([k], [e]) == []

    def test_threshold_from_the_file(self, tmp_path: Path) -> None:
        mapper = self._mapper(tmp_path, "[matching]\nname_threshold = 0.5\n")
        assert mapper.data.links.name_threshold == 0.5

    def test_bad_entry_is_a_configuration_error(self, tmp_path: Path) -> None:
        from clusterbridge.errors import ConfigurationError

        with pytest.raises(ConfigurationError, match=r"links\.toml"):
            self._mapper(tmp_path, '[[force]]\nkicox_id = "KC-1"\n')

    def test_shipped_file_parses(self) -> None:
        assert (default_dir("mappings") / "links.toml").is_file()


class TestProfileIndex:
    """The index gives exactly the pairs a plain comparison of every home name with every profile name gives:
    the name pairs at or over the threshold (a score exactly on it included), and every same-website pair
    with its name similarity however low, which settling uses to order two pairs of one website."""

    WORDS = ("busan", "marine", "mini", "cluster", "daegu", "textile", "textiles", "smart", "factory", "bio")

    @staticmethod
    def reference(home: Cluster, profiles: list[Cluster], threshold: float) -> list[Pair]:
        names = [comparable_name(n) for n in (home.name_en, *(v for k, v in home.names.items() if k != "ko")) if n]
        site = site_key(home.website)
        out = []
        for p in profiles:
            value = max((fuzz.token_sort_ratio(n, comparable_name(p.name_en)) / 100 for n in names if n), default=0.0)
            if site is not None and site_key(p.website) == site:
                out.append(Pair(home.source_id, p.source_id, 1.0, value, "domain"))
            elif value >= threshold:
                out.append(Pair(home.source_id, p.source_id, round(value, 4), value, "name"))
        return sorted(out, key=lambda pair: profiles.index(next(p for p in profiles if p.source_id == pair.profile_id)))

    def test_pairs_equal_a_plain_comparison_of_every_name(self, mapper: Mapper) -> None:
        rng = random.Random(11)
        profiles = [
            native(mapper, f"u-{i}", " ".join(rng.choices(self.WORDS, k=rng.randint(1, 4))),
                   f"https://site{rng.randint(0, 30)}.example.kr/" if rng.random() < 0.5 else None)
            for i in range(300)
        ]
        homes = [
            korean(mapper, f"KC-{i}", "가", " ".join(rng.choices(self.WORDS, k=rng.randint(1, 4))),
                   f"http://www.site{rng.randint(0, 30)}.example.kr" if rng.random() < 0.5 else "")
            for i in range(60)
        ]
        # token-sort ratio 90.0 exactly (2 edits in 20 characters): a score on the threshold counts
        profiles.append(native(mapper, "u-edge", "abcdefghik"))
        homes.append(korean(mapper, "KC-edge", "가", "abcdefghij"))
        for threshold in (0.5, 0.8, 0.9):
            index = ProfileIndex(profiles, LinkOverrides(), threshold)
            found = [index.pairs(home) for home in homes]
            assert found == [self.reference(home, profiles, threshold) for home in homes]
            assert any(p.method == "domain" and p.similarity < threshold for pairs in found for p in pairs)
        assert Pair("KC-edge", "u-edge", 0.9, 0.9, "name") in found[-1]


class TestSettle:
    """Settling sorts a listing's pairs key by key instead of with one key tuple a pair: the matches are those
    of a plain sort by (forced first, score, similarity, home id, profile id), whatever the input order."""

    @staticmethod
    def reference(pairs: list[Pair]) -> list[Match]:
        order = {"override": 0, "domain": 1, "name": 1}
        homes: set[str] = set()
        taken: set[str] = set()
        out = []
        for p in sorted(pairs, key=lambda p: (order[p.method], -p.score, -p.similarity, p.home_id, p.profile_id)):
            if p.home_id not in homes and p.profile_id not in taken:
                out.append(Match(p.home_id, p.profile_id, p.score, p.method))
                homes.add(p.home_id)
                taken.add(p.profile_id)
        return sorted(out, key=lambda m: m.home_id)

    def test_matches_equal_a_plain_sort_of_every_pair_on_all_its_keys(self) -> None:
        rng = random.Random(5)
        for _ in range(200):
            # few distinct values, so that pairs tie on every key but the last ones
            # a home and a profile make one pair (the index gives each once)
            ids = {(f"KC-{rng.randint(0, 6)}", f"u-{rng.randint(0, 6)}") for _ in range(rng.randint(0, 25))}
            pairs = [Pair(home, profile, rng.choice((1.0, 0.95, 0.9)), rng.choice((1.0, 0.95, 0.3)),
                          rng.choice(("override", "domain", "name"))) for home, profile in sorted(ids)]
            expected = self.reference(pairs)
            for _ in range(3):
                rng.shuffle(pairs)
                assert settle_pairs(pairs) == expected

    def test_a_forced_pair_wins_over_a_better_score_and_ties_go_to_the_lower_ids(self) -> None:
        pairs = [Pair("KC-1", "u-1", 1.0, 1.0, "domain"), Pair("KC-1", "u-2", 0.5, 0.5, "override"),
                 Pair("KC-2", "u-1", 0.9, 0.9, "name"), Pair("KC-3", "u-3", 0.9, 0.9, "name"),
                 Pair("KC-4", "u-3", 0.9, 0.9, "name"), Pair("KC-4", "u-4", 0.9, 0.9, "name")]
        assert settle_pairs(pairs) == [Match("KC-1", "u-2", 0.5, "override"), Match("KC-2", "u-1", 0.9, "name"),
                                       Match("KC-3", "u-3", 0.9, "name"), Match("KC-4", "u-4", 0.9, "name")]

    def test_settling_holds_no_key_of_its_own_for_each_pair(self) -> None:
        """A first sync settles every candidate pair of a listing at once (107,388 at 100,000 a side): sorting
        them with a key tuple a pair (and two negated numbers) took about 150 bytes a pair besides the pairs."""
        rng = random.Random(3)
        pairs = [Pair(f"KC-{h}", f"u-{p}", rng.choice((1.0, 0.95, 0.9)), rng.random(), "name")
                 for h in range(100) for p in range(200)]
        tracemalloc.start()
        try:
            matches = settle_pairs(pairs)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert len(matches) == 100
        assert peak / len(pairs) < 40, f"settling took {peak / len(pairs):.0f} bytes a pair"
