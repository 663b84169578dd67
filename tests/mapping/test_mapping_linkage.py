"""Record linkage (rule 11): Korean clusters with their own native ECCP profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterbridge.config import Settings, default_dir
from clusterbridge.mapping.linkage import Match, comparable_name
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
