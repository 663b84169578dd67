"""The report document: its sections and numbers for a hand-made input, escaping, determinism, and that it
references nothing outside itself."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from clusterbridge.report import ClusterRow, DirectionHealth, PairRow, ReportData, render_report
from tests.report.page import Page
from tests.report.sample import NOW, SINCE, at, sample

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def html() -> str:
    return render_report(sample())


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


def svg_of(html: str, chart_id: str) -> str:
    found = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', html, flags=re.DOTALL)
    assert found, f"no chart {chart_id}"
    return found.group(0)


class TestOverview:
    """The cards count each side's live, mirrored, seeking, new and withdrawn clusters."""

    @pytest.mark.parametrize(
        ("key", "expected"),
        [
            ("eu-live", "4"), ("eu-mirrored", "3"), ("eu-seeking", "3"), ("eu-new", "2"), ("eu-withdrawn", "1"),
            ("kr-live", "2"), ("kr-mirrored", "1"), ("kr-seeking", "2"), ("kr-new", "1"), ("kr-withdrawn", "1"),
        ],
    )
    def test_counts(self, page: Page, key: str, expected: str) -> None:
        assert page.texts[key] == expected

    def test_header_gives_generation_time_and_since(self, html: str) -> None:
        assert "2026-05-15 12:00 UTC" in html
        assert "2026-05-10 00:00 UTC" in html


class TestEcosystemsAndCountries:
    """Live clusters are counted per ecosystem (a cluster once in each of its ecosystems) and per country."""

    def test_ecosystem_table_has_both_sides_with_mirrors(self, page: Page) -> None:
        # columns: ecosystem, EU live, shown on KICOX, KR live, shown on ECCP; by total, "none stated" last
        assert page.body_rows("ecosystem-table") == [
            ["Digital 디지털", "2", "2", "1", "0"],
            ["Electronics 전자", "1", "1", "1", "0"],
            ["Health 보건·의료", "1", "0", "0", "0"],
            ["Mobility-Transport-Automotive 모빌리티·운송·자동차", "0", "0", "1", "1"],
            ["No ecosystem stated 생태계 미기재", "1", "1", "0", "0"],
        ]

    def test_withdrawn_clusters_are_not_counted(self, page: Page) -> None:
        names = [row[0] for row in page.body_rows("ecosystem-table")]
        assert not any(name.startswith("Agri-food") for name in names)
        countries = [row[1] for row in page.body_rows("country-table-eu")]
        assert "GR" not in countries
        assert "IT" not in countries

    def test_country_tables_per_side_in_both_languages(self, page: Page) -> None:
        assert page.body_rows("country-table-eu") == [
            ["Germany 독일", "DE", "1", "1"],
            ["Spain 스페인", "ES", "1", "1"],
            ["France 프랑스", "FR", "1", "0"],
            ["Sweden 스웨덴", "SE", "1", "1"],
        ]
        assert page.body_rows("country-table-kr") == [["South Korea 대한민국", "KR", "2", "1"]]


class TestNewAndWithdrawn:
    """New and withdrawn clusters since the date are listed per side, with names and countries."""

    def test_new_european_clusters_newest_first(self, page: Page) -> None:
        rows = page.body_rows("new-eu")
        assert [row[0] for row in rows] == ["BioValley France eu:102", "Madrid Digital Hub eu:105"]
        assert [row[1] for row in rows] == ["France 프랑스", "Spain 스페인"]
        assert [row[3] for row in rows] == ["2026-05-12", "2026-05-11"]

    def test_withdrawn_before_the_date_is_left_out(self, page: Page) -> None:
        rows = page.body_rows("withdrawn-eu")
        assert [row[0] for row in rows] == ["Agri Hellas eu:103"]
        assert rows[0][1:] == ["Greece 그리스", "Agri-food", "2026-05-13"]

    def test_korean_side_shows_korean_names(self, page: Page) -> None:
        assert page.body_rows("new-kr")[0][0] == "Gumi Electronics Cluster 구미 전자 클러스터 kr:202"
        assert page.body_rows("withdrawn-kr")[0][0] == "Ulsan Shipbuilding 울산 조선 kr:203"

    def test_an_empty_list_says_none(self) -> None:
        data = dataclasses.replace(sample(), since=at(5, 15))
        page = Page(render_report(data))
        assert page.texts["new-eu"] == "None. 없음."
        assert page.texts["withdrawn-kr"] == "None. 없음."


class TestInterests:
    """Cooperation interests: who seeks partners per ecosystem, and which countries are named as targets."""

    def test_seekers_per_ecosystem_and_side(self, page: Page) -> None:
        assert page.body_rows("interests-table") == [
            ["Digital 디지털", "1", "1"],
            ["Electronics 전자", "1", "1"],
            ["Health 보건·의료", "1", "0"],
            ["Mobility-Transport-Automotive 모빌리티·운송·자동차", "0", "1"],
            ["No ecosystem stated 생태계 미기재", "1", "0"],
        ]

    def test_european_clusters_naming_korea(self, page: Page) -> None:
        # eu:101 (KR), eu:102 (kr, any case) and eu:106 (KR twice, counted once)
        assert page.texts["eu-naming-korea"].startswith("3 European clusters name Korea")
        assert "한국을 협력 희망 국가로 꼽은 유럽 클러스터: 3곳" in page.texts["eu-naming-korea"]

    def test_korean_clusters_naming_each_country(self, page: Page) -> None:
        # the withdrawn kr:203 names DE too but is not counted; KR itself is not a target
        assert page.body_rows("targets-table") == [
            ["Germany 독일", "2"], ["France 프랑스", "1"], ["Italy 이탈리아", "1"],
        ]


class TestPairs:
    """The strongest pairs, best first, with their reasons in English and Korean side by side."""

    def test_order_and_limit(self, page: Page) -> None:
        rows = page.body_rows("pairs-table")
        assert [(row[0], row[1], row[3]) for row in rows] == [
            ("1", "Silicon Saxony eu:101", "0.91"),
            ("2", "BioValley France eu:102", "0.55"),  # a tie is ordered by the ids
            ("3", "Madrid Digital Hub eu:105", "0.55"),
        ]

    def test_reasons_in_both_languages(self, page: Page) -> None:
        first = page.body_rows("pairs-table")[0]
        assert first[2] == "Gumi Electronics Cluster 구미 전자 클러스터 kr:202"
        assert first[4] == "Shared ecosystem: Electronics Gumi names Germany as a target"
        assert first[5] == "공통 생태계: 전자 구미가 독일을 협력 희망 국가로 지정"


class TestHealth:
    """Per direction: last run, status, time since the last clean run (flagged when stale), quarantine, holds."""

    def test_rows(self, page: Page) -> None:
        assert page.body_rows("health-table") == [
            ["eccp-to-kicox", "2026-05-15 11:00 UTC", "success", "1 h 0 min 1시간 0분", "0", "0", "3"],
            ["kicox-to-eccp", "2026-05-15 11:30 UTC", "partial", "2 d 2 h 2일 2시간", "4", "2", "1"],
        ]

    def test_only_the_stale_direction_is_flagged(self, html: str) -> None:
        section = html[html.index('id="health-table"'):]
        assert section.count('class="stale"') == 1
        assert re.search(r'class="stale">2 d 2 h', section)

    def test_a_direction_never_clean_is_stale(self) -> None:
        never = DirectionHealth("kicox-to-eccp", None, None, None)
        page = Page(render_report(dataclasses.replace(sample(), health=(never,))))
        assert page.body_rows("health-table") == [["kicox-to-eccp", "—", "—", "never 없음", "0", "0", "0"]]


class TestCharts:
    """Each chart is an inline <svg> with a <title> and an aria-label; charts with nothing to show are left out."""

    CHARTS = tuple(f"chart-{name}" for name in (
        "ecosystem-eu", "ecosystem-kr", "country-eu", "country-kr", "timeline", "interests", "targets", "pairs"
    ))

    def test_every_chart_is_present_and_titled(self, page: Page) -> None:
        svgs = [attrs for tag, attrs in page.tags if tag == "svg"]
        assert [attrs["id"] for attrs in svgs] == list(self.CHARTS)
        for attrs in svgs:
            assert attrs["role"] == "img"
            assert attrs["aria-label"]

    def test_title_is_the_first_child(self, html: str) -> None:
        for chart_id in self.CHARTS:
            assert re.match(r"<svg [^>]*><title>[^<]+</title>", svg_of(html, chart_id))

    def test_bars_carry_the_counts(self, html: str) -> None:
        svg = svg_of(html, "chart-targets")
        assert "Germany · 독일" in svg
        assert re.findall(r">(\d)</text>", svg).count("2") >= 1

    def test_empty_charts_are_left_out(self) -> None:
        data = dataclasses.replace(sample(), pairs=(), kr=())
        page = Page(render_report(data))
        ids = [attrs["id"] for tag, attrs in page.tags if tag == "svg"]
        assert ids == ["chart-ecosystem-eu", "chart-country-eu", "chart-timeline", "chart-interests"]

    def test_a_long_list_is_cut_to_the_largest_and_the_title_says_so(self) -> None:
        codes = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
                 "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI"]
        rows = tuple(ClusterRow(f"eu:{n}", f"C{n}", code, ("Digital",), True, at(1, 1), at(1, 1))
                     for n, code in enumerate(codes) for _ in range(1 + (code == "SI")))
        html = render_report(dataclasses.replace(sample(), eu=rows))
        svg = svg_of(html, "chart-country-eu")
        assert 'aria-label="European clusters on ECCP by country (the 20/25 largest) · ' in svg
        assert svg.count("<text") > 20
        assert "Slovenia" in svg  # the largest, though last in the input
        assert "Slovakia" not in svg  # alphabetically last among the equal ones
        assert len(Page(html).body_rows("country-table-eu")) == 25  # the table lists them all

    def test_text_stays_text(self, html: str) -> None:
        # svg.fonttype = none: labels are <text>, so Hangul is drawn by the reader's fonts
        assert "<text" in svg_of(html, "chart-ecosystem-kr")
        assert "모빌리티·운송·자동차" in svg_of(html, "chart-ecosystem-kr")

    def test_ids_are_unique_in_the_page(self, page: Page) -> None:
        ids = [attrs["id"] for _, attrs in page.tags if attrs.get("id")]
        assert len(ids) == len(set(ids))


HOSTILE = "<script>alert('x')</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'


def hostile_data() -> ReportData:
    base = sample()
    eu = (
        ClusterRow("eu:666", HOSTILE, "<b>", (BREAKOUT, "Digital"), True, at(5, 12), at(5, 12),
                   seeks_partners=True, target_countries=("KR",)),
        *base.eu,
    )
    kr = (
        ClusterRow("kr:666", "Evil Cluster", "KR", ("Digital",), True, at(5, 12), at(5, 12), name_ko=HOSTILE,
                   seeks_partners=True, target_countries=("</title>",)),
        *base.kr,
    )
    pair = PairRow("eu:666", HOSTILE, "kr:666", BREAKOUT, 1.0, (HOSTILE,), (BREAKOUT,), kr_name_ko=HOSTILE)
    health = DirectionHealth(HOSTILE, NOW, BREAKOUT, NOW)
    return dataclasses.replace(base, eu=eu, kr=kr, pairs=(pair, *base.pairs), health=(health,),
                               eu_platform="<i>ECCP</i>")


@pytest.fixture(scope="module")
def hostile() -> str:
    return render_report(hostile_data())


class TestEscaping:
    """Cluster text is untrusted: names, ecosystems, countries and reasons never become markup."""

    def test_no_injected_element_in_the_html(self, hostile: str) -> None:
        tags = {tag for tag, _ in Page(hostile).tags}
        assert not tags & {"script", "img", "b", "i"}
        assert "onerror" not in {name for _, attrs in Page(hostile).tags for name in attrs}

    def test_names_are_escaped_in_tables(self, hostile: str) -> None:
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in hostile
        assert Page(hostile).body_rows("pairs-table")[0][1] == f"{HOSTILE} eu:666"

    def test_names_are_escaped_in_the_svg(self, hostile: str) -> None:
        pairs = svg_of(hostile, "chart-pairs")
        assert "&lt;script&gt;alert('x')&lt;/script&gt; ↔ \"&gt;&lt;img src=x" in pairs
        assert "<script" not in pairs
        assert "<img" not in pairs
        ecosystems = svg_of(hostile, "chart-ecosystem-eu")
        assert "&lt;img src=x onerror=alert(1)&gt;" in ecosystems
        assert "<img" not in ecosystems

    def test_titles_and_labels_are_escaped(self, hostile: str) -> None:
        svg = svg_of(hostile, "chart-ecosystem-eu")
        assert 'aria-label="European clusters on &lt;i&gt;ECCP&lt;/i&gt; by industrial ecosystem' in svg
        targets = svg_of(hostile, "chart-targets")
        assert "&lt;/title&gt;" in targets.lower()  # a country code is upper-cased before it is shown
        assert targets.lower().count("</title>") == 1

    def test_a_dollar_sign_is_not_mathematics(self) -> None:
        row = dataclasses.replace(sample().pairs[0], eu_name="Cost $x^2$ Cluster", score=0.99)
        html = render_report(dataclasses.replace(sample(), pairs=(row,)))
        assert "Cost $x^2$ Cluster" in svg_of(html, "chart-pairs")


class TestSelfContained:
    """The page references nothing outside itself: no URL in any src or href, no @import, no url(...)."""

    REFERENCES: ClassVar = {
        "src", "href", "xlink:href", "action", "formaction", "poster", "data", "srcset", "background",
    }

    def test_references_are_fragments(self, page: Page) -> None:
        found = [(tag, name, value) for tag, attrs in page.tags for name, value in attrs.items()
                 if name in self.REFERENCES]
        assert found  # the tick marks reuse a marker through href="#…"
        assert all(value and value.startswith("#") for _, _, value in found), found

    def test_no_remote_address_anywhere(self, html: str) -> None:
        assert "http:" not in html
        assert "https:" not in html
        assert not re.search(r"""["'(]//""", html)

    def test_no_css_imports_or_urls(self, html: str) -> None:
        assert "@import" not in html
        assert "url(" not in html
        assert "@font-face" not in html

    def test_no_loading_elements(self, page: Page) -> None:
        tags = {tag for tag, _ in page.tags}
        assert not tags & {"script", "link", "img", "iframe", "object", "embed", "image", "audio", "video", "source"}
        assert not [attrs for tag, attrs in page.tags if tag == "meta" and attrs.get("http-equiv") == "refresh"]

    def test_content_security_policy_forbids_fetching(self, page: Page) -> None:
        (policy,) = [attrs["content"] for tag, attrs in page.tags
                     if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"]
        assert policy is not None
        assert "default-src 'none'" in policy

    def test_reasonably_small(self, html: str) -> None:
        assert len(html.encode()) < 150_000


class TestDeterminism:
    """The same input gives the same bytes, in this process and in a fresh one with another hash seed."""

    def test_twice_in_one_process(self, html: str) -> None:
        assert render_report(sample()) == html

    @pytest.mark.parametrize("seed", ["1", "2"])
    def test_in_a_fresh_process(self, html: str, seed: str) -> None:
        script = ("import sys; from clusterbridge.report import render_report; "
                  "from tests.report.sample import sample; sys.stdout.write(render_report(sample()))")
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
        )
        assert result.stdout.decode() == html

    def test_output_depends_on_the_input_times_only(self) -> None:
        later = render_report(dataclasses.replace(sample(), generated_at=NOW.replace(hour=13)))
        assert later != render_report(sample())
        assert "2026-05-15 13:00 UTC" in later
        assert SINCE.tzinfo is not None
