"""Country codes and names: ISO 3166-1 alpha-2, names in Korean from CLDR (Babel), never a hand-kept table."""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale

# EU usage differs from ISO for two countries
_EU_TO_ISO = {"EL": "GR", "UK": "GB"}


def iso_country(code: str) -> str | None:
    """'el' → 'GR', 'UK' → 'GB', 'de ' → 'DE'; None when it is not two letters."""
    value = code.strip().upper()
    value = _EU_TO_ISO.get(value, value)
    return value if re.fullmatch(r"[A-Z]{2}", value) else None


@lru_cache(maxsize=4)
def _territories(locale: str) -> dict[str, str]:
    return dict(Locale.parse(locale).territories)


def country_name(code: str, locale: str = "ko") -> str:
    """The CLDR name of a country in `locale` ('DE' → '독일'); '' when CLDR does not know the code."""
    iso = iso_country(code)
    return _territories(locale).get(iso, "") if iso else ""
