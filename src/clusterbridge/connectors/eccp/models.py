"""ECCP wire shapes (Drupal JSON:API, node--cluster_organisation): the only place they are spelled out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RESOURCE_TYPE = "node--cluster_organisation"
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
    field_year_established: int | None = Field(default=None, ge=1800)
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
