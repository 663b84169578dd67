"""KICOX wire shapes: the data.go.kr-style read envelope and the partner ingest API's foreign clusters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

KST = timezone(timedelta(hours=9), "KST")
KICOX_TIME_FORMAT = "%Y%m%d%H%M%S"


def parse_kst(value: str) -> datetime:
    """'20261015093000' (Korea Standard Time, no DST) → aware UTC datetime."""
    return datetime.strptime(value.strip(), KICOX_TIME_FORMAT).replace(tzinfo=KST).astimezone(UTC)


def format_kst(value: datetime) -> str:
    """Aware datetime → 'yyyyMMddHHmmss' in KST, as modDtFrom wants it."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(KST).strftime(KICOX_TIME_FORMAT)


def blank_to_none(value: Any) -> Any:
    """The open-data service writes an unknown value as '' or ' '."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


class KicoxCluster(BaseModel):
    """One Korean cluster as the open-data service lists it. Every value arrives as a string."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    clstrId: str = Field(min_length=1)
    clstrNm: str = Field(min_length=1)
    clstrEngNm: str | None = None
    cmplxNm: str | None = None
    ctprvnNm: str | None = None
    signguNm: str | None = None
    rdnmadr: str | None = None
    indutyNm: str | None = None
    ksicCd: str | None = None
    mberCo: int | None = Field(default=None, ge=0)
    smeCo: int | None = Field(default=None, ge=0)
    rsrchInsttCo: int | None = Field(default=None, ge=0)
    estblYear: int | None = Field(default=None, ge=1800, le=2100)
    hmpgUrl: str | None = None
    intrcn: str | None = None
    cprtnIntrstCn: str | None = None
    cprtnNatnCd: str | None = None
    chargerNm: str | None = None
    chargerTelno: str | None = None
    chargerEmail: str | None = None
    chargerOthbcAt: Literal["Y", "N"] = "N"
    updtDt: datetime
    useAt: Literal["Y", "N"]

    @field_validator("*", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return blank_to_none(value)

    @field_validator("updtDt", mode="before")
    @classmethod
    def _kst(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_kst(value)
        return value

    @field_validator("chargerOthbcAt", mode="before")
    @classmethod
    def _flag_default(cls, value: Any) -> Any:
        # an unknown publication flag means the contact stays private
        return "N" if value is None else value

    @property
    def live(self) -> bool:
        return self.useAt == "Y"


class ForeignCluster(BaseModel):
    """A European cluster as the Korean site shows it (the partner ingest API's item)."""

    model_config = ConfigDict(extra="ignore")

    extrlId: str = Field(max_length=100)
    srcSysCd: Literal["ECCP"] = "ECCP"
    clstrEngNm: str = Field(min_length=1, max_length=300)
    clstrNm: str = Field(default="", max_length=300)
    acrnm: str = Field(default="", max_length=64)
    natnCd: str = Field(pattern=r"^[A-Z]{2}$")
    natnNm: str = ""
    rgnNm: str = ""
    ctyNm: str = ""
    indutyNm: str = ""
    ksicCd: str = ""
    ecsysNm: str = ""
    mberCo: int | None = Field(default=None, ge=0)
    smeCo: int | None = Field(default=None, ge=0)
    rsrchInsttCo: int | None = Field(default=None, ge=0)
    estblYear: int | None = None
    hmpgUrl: str = Field(default="", max_length=500)
    intrcn: str = Field(default="", max_length=8000)
    intrcnLang: str = ""
    cprtnIntrstCn: str = ""
    cprtnNatnCd: str = ""
    qlityLblNm: Literal["", "gold", "silver", "bronze"] = ""
    chargerNm: str = ""
    chargerEmail: str = ""
    chargerTelno: str = ""
    srcUpdtDt: str
    frgnClstrId: str | None = None
    updtDt: str | None = None
