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


# --- what crosses: a cluster rendered for the readers of one side --------------------------------------------


class RenderedText(BaseModel):
    """A text as a reader sees it: in `lang`, with the original beside it when it is a machine translation.

    `note` and `original_heading` are already in the reader's language ("Machine translation from Korean",
    "원문 (영어)"), so a connector only places them. `format` says whether `text` and `original` are plain text
    or the safe HTML subset.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    lang: str
    format: Literal["plain", "html"] = "plain"
    label: str = Field(default="", description="what the text is, in the reader's language ('협력 희망 분야')")
    original: str | None = None
    original_lang: str | None = None
    machine_translated: bool = False
    note: str = ""
    original_heading: str = ""

    def with_original(self) -> str:
        """Plain text as a reader sees it: the translation, then the note and the original beside it."""
        if not self.machine_translated or not self.original:
            return self.text
        return f"{self.text}\n\n[{self.note}] {self.original_heading}: {self.original}"


class Section(BaseModel):
    """A piece of information the reader needs that a platform may have no field for ("Korean name", "Sectors",
    "Possible partners in Europe"): a stable `key`, a heading and lines in the reader's language."""

    model_config = ConfigDict(frozen=True)

    key: str
    heading: str
    lines: tuple[str, ...]
    lang: str


class RenderedCluster(BaseModel):
    """A `Cluster` rendered for the readers of one side: their language, their industry codes, their country
    names, translated texts with originals, and only what may be published (rule 7). A connector turns it into
    its platform's mirror payload (`MirrorTarget.shape`) without deciding anything about language or privacy."""

    model_config = ConfigDict(frozen=True)

    native_id: str
    external_id: str
    source_side: str
    source_changed: AwareDatetime
    reader_side: str
    reader_lang: str
    original_lang: str

    name: str = Field(description="Latin-script display name: the cluster's own English name, else a romanisation")
    name_local: str = Field(default="", description="the name in the reader's language and script, '' if unknown")
    acronym: str = ""
    country: str = Field(pattern=r"^[A-Z]{2}$")
    country_name: str = Field(default="", description="in the reader's locale (CLDR)")
    region: str = ""
    region_code: str = ""
    city: str = ""
    website: str | None = None
    year_established: int | None = None
    members: Members = Members()
    ecosystems: tuple[str, ...] = Field(default=(), description="EU industrial ecosystems, ECCP wording")
    industries: tuple[str, ...] = Field(default=(), description="industry labels in the reader's language")
    codes: tuple[str, ...] = Field(default=(), description="industry codes in the reader side's code system")
    code_system: Literal["NACE", "KSIC"] = "NACE"
    sectors: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    description: RenderedText | None = None
    seeking: RenderedText | None = None
    offering: RenderedText | None = None
    target_countries: tuple[str, ...] = ()
    quality_label: QualityLabel | None = None
    contact: Contact | None = Field(default=None, description="set only when the source marks it public")
    sections: tuple[Section, ...] = ()
    translation_pending: bool = Field(
        default=False, description="a text that should be translated is shown in its original for now"
    )
