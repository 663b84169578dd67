"""Names, times and durations as the report prints them."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from clusterbridge.report.labels import both, chart_text, country, day, duration, ecosystem, moment, text_width
from tests.report.sample import at


class TestNames:
    """Countries from CLDR in English and Korean; ecosystems with their Korean label where one is given."""

    def test_country(self) -> None:
        assert country("DE") == ("Germany", "독일")
        assert country(" kr") == ("South Korea", "대한민국")
        assert country("ZZZ") == ("ZZZ", "ZZZ")
        assert country(None) == ("No country stated", "국가 미기재")

    def test_ecosystem(self) -> None:
        assert ecosystem("Digital", {"Digital": "디지털"}) == ("Digital", "디지털")
        assert ecosystem("Retail", {}) == ("Retail", "")
        assert ecosystem(None, {}) == ("No ecosystem stated", "생태계 미기재")

    def test_both(self) -> None:
        assert both(("Digital", "디지털")) == "Digital · 디지털"
        assert both(("Retail", "")) == "Retail"
        assert both(("ZZ", "ZZ")) == "ZZ"


class TestTimes:
    """Times in UTC whatever zone they come in; durations rounded down to what a reader needs."""

    def test_moment_and_day_in_utc(self) -> None:
        kst = timezone(timedelta(hours=9))
        assert moment(at(5, 1, 3).astimezone(kst)) == "2026-05-01 03:00 UTC"
        assert day(at(5, 1, 23).astimezone(kst)) == "2026-05-01"

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (timedelta(seconds=59), ("0 min", "0분")),
            (timedelta(minutes=61), ("1 h 1 min", "1시간 1분")),
            (timedelta(days=2, hours=3, minutes=59), ("2 d 3 h", "2일 3시간")),
            (timedelta(minutes=-5), ("0 min", "0분")),
        ],
    )
    def test_duration(self, value: timedelta, expected: tuple[str, str]) -> None:
        assert duration(value) == expected


class TestChartText:
    """Chart labels are single-line, printable and bounded; their room is estimated generously."""

    def test_chart_text(self) -> None:
        assert chart_text("a\nb\tc\x07d") == "a b c d"
        assert chart_text("abcdef", limit=4) == "abc…"

    def test_hangul_counts_wider_than_latin(self) -> None:
        assert text_width("클러스터", 10) == 40
        assert text_width("abcd", 10) < text_width("클러스터", 10)
