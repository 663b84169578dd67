"""ECCP wire shapes (Drupal JSON:API, node--cluster_organisation): the only place they are spelled out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RESOURCE_TYPE: Final = "node--cluster_organisation"
MEDIA_TYPE = "application/vnd.api+json"
NATIVE_ORIGIN = "eccp"


class Description(BaseModel):
    model_config = ConfigDict(extra="ignore")

    value: str = ""
    format: Literal["basic_html", "plain_text"] = "basic_html"


class Website(BaseModel):
    model_config = ConfigDict(extra="ignore")

    uri: str
    title: str | None = None


class CooperationInterest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    seeking: str = ""
    offering: str = ""
    target_countries: list[str] = Field(default_factory=list)

    @field_validator("target_countries", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [v.strip().upper() for v in value if isinstance(v, str) and v.strip()]
        return value


class ContactPerson(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = ""
    email: str = ""
    phone: str = ""
    public: bool = False


class EccpAttributes(BaseModel):
    """ClusterAttributes of the contract: strict where correctness matters (country, origin, counts)."""

    model_config = ConfigDict(extra="ignore")

    drupal_internal__nid: int | None = None
    title: str = Field(min_length=1, max_length=255)
    field_acronym: str | None = None
    status: bool = True
    created: datetime | None = None
    changed: datetime
    langcode: str = "en"
    field_description: Description | None = None
    field_website: Website | None = None
    field_country: str = Field(pattern=r"^[A-Z]{2}$")
    field_nuts_region: str | None = None
    field_region_name: str | None = None
    field_city: str | None = None
    field_year_established: int | None = Field(default=None, ge=1800, le=2100)
    field_members_sme: int | None = Field(default=None, ge=0)
    field_members_large: int | None = Field(default=None, ge=0)
    field_members_research: int | None = Field(default=None, ge=0)
    field_members_other: int | None = Field(default=None, ge=0)
    field_ecosystems: list[str] = Field(default_factory=list)
    field_sectors: list[str] = Field(default_factory=list)
    field_technologies: list[str] = Field(default_factory=list)
    field_nace_codes: list[str] = Field(default_factory=list)
    field_esca_label: Literal["gold", "silver", "bronze"] | None = None
    field_cooperation_interest: CooperationInterest | None = None
    field_contact: ContactPerson | None = None
    field_origin: str
    field_external_id: str | None = None
    field_source_changed: datetime | None = None
    field_original_language: str | None = None

    @field_validator("field_country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        # EU usage: EL is Greece (ISO GR), UK is the United Kingdom (ISO GB)
        if isinstance(value, str):
            value = value.strip().upper()
            return {"EL": "GR", "UK": "GB"}.get(value, value)
        return value

    @field_validator("field_ecosystems", "field_sectors", "field_technologies", "field_nace_codes", mode="before")
    @classmethod
    def _terms(cls, value: Any) -> Any:
        if value is None:
            return []
        return value

    @field_validator("changed")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("changed has no time zone offset")
        return value


class EccpCluster(BaseModel):
    """One node--cluster_organisation resource."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["node--cluster_organisation"] = RESOURCE_TYPE
    id: str
    attributes: EccpAttributes

    @property
    def is_native(self) -> bool:
        return self.attributes.field_origin == NATIVE_ORIGIN


def changed_seconds(raw: Any) -> int | None:
    """The unix second of a raw resource's `changed`, or None when it has none that parses."""
    try:
        value = raw["attributes"]["changed"]
        stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
    except (KeyError, TypeError, ValueError):
        return None
    if stamp is None or stamp.tzinfo is None:
        return None
    return int(stamp.timestamp())


class TokenResponse(BaseModel):
    """The OAuth2 client-credentials answer; expires_in may arrive as a string."""

    model_config = ConfigDict(extra="ignore")

    access_token: str = Field(min_length=1)
    token_type: str = "Bearer"  # noqa: S105 - the token kind, not a secret
    expires_in: int = Field(default=300, ge=0)


class Link(BaseModel):
    model_config = ConfigDict(extra="ignore")

    href: str


class ListLinks(BaseModel):
    model_config = ConfigDict(extra="ignore")

    next: Link | None = None


class ListMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    count: int | None = None


class ListDocument(BaseModel):
    """One page of a listing. Resources stay raw here: each is validated on its own, so one bad record
    becomes a RecordProblem instead of failing the page."""

    model_config = ConfigDict(extra="ignore")

    data: list[Any]
    links: ListLinks = Field(default_factory=ListLinks)
    meta: ListMeta = Field(default_factory=ListMeta)


class ResourceRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    attributes: dict[str, Any] = Field(default_factory=dict)


class ResourceDocument(BaseModel):
    """The answer to a create or update: the resource as stored."""

    model_config = ConfigDict(extra="ignore")

    data: ResourceRef


class ErrorSource(BaseModel):
    model_config = ConfigDict(extra="ignore")

    pointer: str | None = None


class ApiError(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: str | None = None
    title: str | None = None
    detail: str | None = None
    source: ErrorSource | None = None
    meta: dict[str, Any] | None = None

    @property
    def field(self) -> str | None:
        """'/data/attributes/field_country' → 'field_country' (nested parts joined by dots)."""
        pointer = self.source.pointer if self.source is not None else None
        if not pointer:
            return None
        prefix = "/data/attributes/"
        part = pointer[len(prefix) :] if pointer.startswith(prefix) else pointer.lstrip("/")
        return part.replace("/", ".") or None

    @property
    def reason(self) -> str:
        return self.detail or self.title or f"HTTP {self.status or '?'}"


class ErrorDocument(BaseModel):
    model_config = ConfigDict(extra="ignore")

    errors: list[ApiError] = Field(default_factory=list)
