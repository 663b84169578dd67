"""KICOX wire shapes: the data.go.kr-style read envelope and the partner ingest API's foreign clusters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal
from xml.etree import ElementTree

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

KST = timezone(timedelta(hours=9), "KST")
KICOX_TIME_FORMAT = "%Y%m%d%H%M%S"


def parse_kst(value: str) -> datetime:
    """'20261015093000' (Korea Standard Time, no DST) → aware UTC datetime."""
    value = value.strip()
    if not (len(value) == 14 and value.isascii() and value.isdigit()):
        raise ValueError(f"not a yyyyMMddHHmmss time: {value[:20]!r}")
    return datetime.strptime(value, KICOX_TIME_FORMAT).replace(tzinfo=KST).astimezone(UTC)


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
        # only the contract's form: a number would otherwise be read as epoch seconds or milliseconds
        if not isinstance(value, str):
            raise ValueError("updtDt must be a yyyyMMddHHmmss string (KST)")
        return parse_kst(value)

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


def parse_iso(value: Any) -> datetime | None:
    """An ISO 8601 timestamp of the ingest API (with offset), or None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else None


def updated_seconds(raw: Any) -> int | None:
    """The unix second of a raw open-data record's updtDt (KST), or None when it has none that parses."""
    try:
        return int(parse_kst(raw["updtDt"]).timestamp())
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


# --- the open-data read envelope ----------------------------------------------------------------------


class EnvelopeHeader(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    resultCode: str
    resultMsg: str = ""


class EnvelopeBody(BaseModel):
    """Paging numbers arrive as strings; `items` is a list, a single object, or "" when empty."""

    model_config = ConfigDict(extra="ignore")

    items: list[Any] = Field(default_factory=list)
    numOfRows: int | None = None
    pageNo: int | None = None
    totalCount: int | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _items(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return []
        if isinstance(value, dict):
            value = value.get("item")
        if value is None or (isinstance(value, str) and not value.strip()):
            return []
        if not isinstance(value, list):
            return [value]  # one element, whatever it is: a record or a problem of its own
        return value

    @field_validator("numOfRows", "pageNo", "totalCount", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        return blank_to_none(value)


class Envelope(BaseModel):
    """`response.header` and `response.body` of the read service, from JSON or XML alike. A gateway error
    (OpenAPI_ServiceResponse) is read into the same shape: its returnReasonCode becomes resultCode."""

    model_config = ConfigDict(extra="ignore")

    header: EnvelopeHeader
    body: EnvelopeBody = Field(default_factory=EnvelopeBody)


def _text(element: ElementTree.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _from_xml(content: bytes) -> Envelope:
    # expat (>= 2.4.1, bundled with every supported Python) caps entity expansion and ElementTree resolves no
    # external entities; the body comes from the configured partner service
    root = ElementTree.fromstring(content)  # noqa: S314 - see above
    if root.tag == "OpenAPI_ServiceResponse":
        header = root.find("cmmMsgHeader")
        code = _text(header.find("returnReasonCode") if header is not None else None)
        auth = _text(header.find("returnAuthMsg") if header is not None else None)
        err = _text(header.find("errMsg") if header is not None else None)
        return Envelope(header=EnvelopeHeader(resultCode=code or "99", resultMsg=auth or err))
    if root.tag != "response":
        raise ValueError(f"unexpected XML root <{root.tag}>")
    header_el = root.find("header")
    body_el = root.find("body")
    fields = {child.tag: child.text or "" for child in header_el} if header_el is not None else {}
    body: dict[str, Any] = {}
    if body_el is not None:
        for child in body_el:
            if child.tag == "items":
                body["items"] = [{f.tag: f.text or "" for f in item} for item in child.findall("item")]
            else:
                body[child.tag] = child.text or ""
    return Envelope.model_validate({"header": fields, "body": body})


def parse_envelope(content: bytes) -> Envelope:
    """Read the envelope by sniffing the body, not by what `type` asked for (the gateway ignores it at times).
    Raises ValueError for anything that is neither (an HTML error page, a truncated or garbled body)."""
    text = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    try:
        if text.startswith(b"<"):
            return _from_xml(text)
        if text.startswith(b"{"):
            document = json.loads(text)
            if not isinstance(document, dict) or not isinstance(document.get("response"), dict):
                raise ValueError("no response object")
            return Envelope.model_validate(document["response"])
    except (ElementTree.ParseError, ValidationError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable envelope: {exc}") from exc
    raise ValueError("neither JSON nor XML")


# --- the partner ingest API ---------------------------------------------------------------------------


class ForeignList(BaseModel):
    """One page of the foreign-cluster listing; items stay raw (they are our own mirrors, read back)."""

    model_config = ConfigDict(extra="ignore")

    items: list[Any]
    totalCount: int = Field(ge=0)
    pageNo: int | None = None
    numOfRows: int | None = None


class BatchItemResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    extrlId: str
    status: str
    frgnClstrId: str | None = None
    errorCode: str | None = None
    errorMessage: str | None = None


class BatchResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    results: list[BatchItemResult]
