"""The shared model: what both platforms' cluster records normalise into before crossing over.

A `Cluster` is platform-neutral. Connectors know the wire shapes; `clusterbridge.mapping` turns a wire record
into a `Cluster` (normalise) and a `Cluster` into the other platform's mirror payload (render).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

QualityLabel = Literal["gold", "silver", "bronze"]


class Text(BaseModel):
    """Text with the BCP 47 tag of the language it is written in (rule 8: the tag travels with it)."""

    model_config = ConfigDict(frozen=True)

    text: str
    lang: str = Field(description="BCP 47 language tag, e.g. 'en', 'ko', 'de'")


class Members(BaseModel):
    """Member counts by kind; None where the source does not say."""

    model_config = ConfigDict(frozen=True)

    total: int | None = None
    sme: int | None = None
    large: int | None = None
    research: int | None = None
    other: int | None = None


class Contact(BaseModel):
    """A contact person: personal data that crosses only when `public` is true (rule 7)."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    public: bool = False


class Cooperation(BaseModel):
    """The expression of interest for cooperation."""

    model_config = ConfigDict(frozen=True)

    seeking: Text | None = None
    offering: Text | None = None
    target_countries: tuple[str, ...] = ()


class Cluster(BaseModel):
    """One cluster organisation as both platforms understand it."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="the side the record is native to ('eu', 'kr' by default)")
    source_id: str
    source_changed: AwareDatetime
    live: bool = Field(description="False when deleted, unpublished (ECCP) or withdrawn (KICOX useAt=N)")

    # names by language tag; `name_en` is the English display name and `name_en_origin` says where it
    # came from, so a cluster's own English name always beats a romanisation (rule 8)
    lang: str = Field(default="en", description="BCP 47 tag of the source's own language (sectors, terms)")
    names: dict[str, str]
    name_en: str
    name_en_origin: Literal["source", "own", "romanised"]
    acronym: str | None = None

    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 (GR, never EL; GB, never UK)")
    region_code: str | None = Field(default=None, description="NUTS 2021 code or ISO 3166-2:KR code")
    region: dict[str, str] = Field(default_factory=dict, description="region names by language tag")
    city: dict[str, str] = Field(default_factory=dict, description="city names by language tag")
    address: str | None = None
    industrial_complex: dict[str, str] = Field(default_factory=dict)
    website: str | None = None
    year_established: int | None = None

    members: Members = Members()
    ecosystems: tuple[str, ...] = Field(default=(), description="EU industrial ecosystems, ECCP wording")
    sectors: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    industry_labels: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="industry labels by language tag (e.g. Korean indutyNm)"
    )
    nace_codes: tuple[str, ...] = Field(default=(), description="NACE Rev.2, e.g. C26.1 or C26")
    ksic_codes: tuple[str, ...] = Field(default=(), description="KSIC 10th revision, e.g. 29172 or C29")

    description: Text | None = Field(default=None, description="sanitised safe HTML subset or plain text")
    cooperation: Cooperation = Cooperation()
    quality_label: QualityLabel | None = None
    contact: Contact | None = None

    @property
    def key(self) -> str:
        """The id other systems know this record by: '<side>:<source id>'."""
        return f"{self.source}:{self.source_id}"


def utc(dt: datetime) -> datetime:
    """Normalise an aware datetime to UTC (naive input is refused, never guessed)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: the source's time zone must be known")
    from datetime import UTC

    return dt.astimezone(UTC)
