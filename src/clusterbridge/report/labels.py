"""Words and numbers as the report prints them: country and ecosystem names in English and Korean, times
and durations, and cluster text made safe to place in a chart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from babel import Locale

NO_ECOSYSTEM = ("No ecosystem stated", "생태계 미기재")
NO_COUNTRY = ("No country stated", "국가 미기재")


@lru_cache(maxsize=2)
def _territories(locale: str) -> Mapping[str, str]:
    return dict(Locale.parse(locale).territories)


def country(code: str | None) -> tuple[str, str]:
    """A country's name in English and in Korean from CLDR; an unknown code stands for itself."""
    key = (code or "").strip().upper()
    if not key:
        return NO_COUNTRY
    return _territories("en").get(key, key), _territories("ko").get(key, key)


def ecosystem(name: str | None, labels_ko: Mapping[str, str]) -> tuple[str, str]:
    """An ecosystem's name (ECCP wording) and its Korean label; '' where no Korean label is known."""
    if name is None:
        return NO_ECOSYSTEM
    return name, labels_ko.get(name, "")


def both(pair: tuple[str, str]) -> str:
    """'English · 한국어', or the English alone when both are the same or the Korean is missing."""
    english, korean = pair
    return english if not korean or korean == english else f"{english} · {korean}"


def chart_text(text: str, limit: int = 60) -> str:
    """`text` fit for a chart label: control characters dropped (XML cannot hold them), at most `limit` long."""
    printable = "".join(" " if unicodedata.category(char) in {"Cc", "Cf"} else char for char in text)
    single = " ".join(printable.split())
    return single if len(single) <= limit else single[: limit - 1].rstrip() + "…"


def text_width(text: str, size: float) -> float:
    """A generous estimate of the width of `text` in points at font size `size`.

    Charts keep their text as text, drawn in the reader's fonts, so the layout cannot measure it: wide
    (Hangul, CJK) characters count a full em and others 0.62 em, wider than most sans-serif fonts.
    """
    ems = sum(1.0 if unicodedata.east_asian_width(char) in {"W", "F"} else 0.62 for char in text)
    return ems * size


def moment(value: datetime) -> str:
    """A timestamp as the report prints it, in UTC: '2026-05-04 09:30 UTC'."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(value: datetime) -> str:
    """The UTC day of a timestamp: '2026-05-04'."""
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def duration(value: timedelta) -> tuple[str, str]:
    """A duration, rounded down to what a reader needs, in English and Korean: ('2 d 3 h', '2일 3시간')."""
    minutes = max(int(value.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h", f"{days}일 {hours}시간"
    if hours:
        return f"{hours} h {minutes} min", f"{hours}시간 {minutes}분"
    return f"{minutes} min", f"{minutes}분"
