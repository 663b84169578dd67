"""The wire shape of an export row: one native cluster as a platform team's file holds it, validated at the
edge (ids, countries, numbers, times) before anything else reads it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from clusterbridge.mapping.countries import iso_country

# ids as the other connectors allow them: the ledger keys records by them, mirrors carry them
NATIVE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$")
_TEXT_LIST = re.compile(r"[;\n]")
_CODE_LIST = re.compile(r"[,;\s]+")
# O and X are how Korean forms tick yes and no
_YES = frozenset({"y", "yes", "true", "t", "1", "on", "o", "예", "네", "공개"})
_NO = frozenset({"n", "no", "false", "f", "0", "off", "x", "아니오", "아니요", "비공개"})

LIST_FIELDS = ("ecosystems", "industries", "sectors", "technologies")
CODE_FIELDS = ("nace_codes", "ksic_codes", "target_countries")


def native_id(value: Any) -> str | None:
    """The id a cell holds (a spreadsheet's 1001 or 1001.0 reads as '1001'), or None when it is not one the
    contract allows: missing, longer than 64 characters, or of other characters."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip() if isinstance(value, str | int) else ""
    return text if NATIVE_ID.match(text) else None


def flag(value: Any, default: bool) -> bool:
    """yes/no in the ways spreadsheets and people write it (Y, true, 1, 예, 공개...); blank is the default."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"not a yes/no value: {str(value)[:20]!r}")


def parse_changed(value: Any, zone: str = "") -> datetime:
    """ISO 8601 with a UTC offset; a time without one takes `zone` when the settings name one, else it is
    refused (never guessed). Numbers are refused too: they could be epoch seconds, days or milliseconds."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("needs an ISO 8601 time with a UTC offset, e.g. 2026-10-15T09:30:00+09:00")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {value.strip()[:40]!r}") from None
    if parsed.tzinfo is None:
        if not zone:
            raise ValueError(f"{value.strip()[:40]!r} has no UTC offset (or set the export's time_zone)")
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed


class ExportRow(BaseModel):
    """One row of an export file, by the shared layout's field names (docs/connectors.md lists them)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    id: str
    name: str = Field(min_length=1)
    name_en: str | None = None
    language: str | None = None
    acronym: str | None = None
    country: str = Field(default="", validate_default=True)
    region: str | None = None
    region_code: str | None = None
    city: str | None = None
    website: str | None = None
    year: int | None = Field(default=None, ge=1800, le=2100)
    members_total: int | None = Field(default=None, ge=0)
    members_sme: int | None = Field(default=None, ge=0)
    members_large: int | None = Field(default=None, ge=0)
    members_research: int | None = Field(default=None, ge=0)
    members_other: int | None = Field(default=None, ge=0)
    ecosystems: list[str] = Field(default_factory=list)
    nace_codes: list[str] = Field(default_factory=list)
    ksic_codes: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)
    technologies: list[str] = Field(default_factory=list)
    description: str | None = None
    seeking: str | None = None
    offering: str | None = None
    target_countries: list[str] = Field(default_factory=list)
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_public: bool = False
    changed: datetime
    live: bool = True

    @field_validator("*", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        found = native_id(value)
        if found is None:
            raise ValueError("missing, longer than 64 characters or not of the characters A-Z a-z 0-9 . _ ~ -")
        return found

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError("missing: every row needs a name")
        return value

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            default = (info.context or {}).get("country")
            if default:
                return default
            raise ValueError("missing: an ISO 3166-1 alpha-2 code is needed")
        code = iso_country(str(value))
        if code is None:
            raise ValueError(f"not an ISO 3166-1 alpha-2 code: {str(value)[:20]!r}")
        return code

    @field_validator("year", "members_total", "members_sme", "members_large", "members_research", "members_other",
                     mode="before")
    @classmethod
    def _whole(cls, value: Any) -> Any:
        # '12', 12 and 12.0 are twelve; 12.5 and 'about 12' are refused by the int field
        return value.strip() if isinstance(value, str) else value

    @field_validator(*LIST_FIELDS, mode="before")
    @classmethod
    def _text_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [x.strip() for x in _TEXT_LIST.split(value) if x.strip()]
        return value

    @field_validator(*CODE_FIELDS, mode="before")
    @classmethod
    def _code_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, int):
            return [str(value)]
        if isinstance(value, str):
            return [x for x in _CODE_LIST.split(value) if x]
        return value

    @field_validator("contact_public", mode="before")
    @classmethod
    def _public(cls, value: Any) -> bool:
        return flag(value, default=False)

    @field_validator("live", mode="before")
    @classmethod
    def _live(cls, value: Any) -> bool:
        return flag(value, default=True)

    @field_validator("changed", mode="before")
    @classmethod
    def _changed(cls, value: Any, info: ValidationInfo) -> datetime:
        return parse_changed(value, (info.context or {}).get("time_zone", ""))
