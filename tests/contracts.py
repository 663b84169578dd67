"""The platform contracts (`contracts/*.openapi.yaml`, the repository's copy) as JSON Schema validators.

Every test that checks a payload against a contract goes through here, so there is one place that knows
where the contracts live and how their component schemas are referenced.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"

# the vocabularies the sample and synthetic data must use (the contracts' descriptions and reference data)
ECOSYSTEMS = frozenset({
    "Aerospace & defence", "Agri-food", "Construction", "Cultural and creative industries (CCI)", "Digital",
    "Electronics", "Energy-intensive industries (EII)", "Energy-renewables", "Health",
    "Mobility-Transport-Automotive", "Proximity, social economy and civil society", "Retail", "Textiles", "Tourism",
})
INDUSTRY_LABELS = frozenset({
    "기계·장비", "전기·전자", "자동차·부품", "석유화학", "바이오·의료", "정보통신", "섬유·의류", "철강·금속",
    "조선·해양", "에너지·환경", "식품", "항공·우주", "반도체", "디스플레이", "이차전지", "로봇", "화장품", "뿌리산업",
})


@cache
def document(platform: str) -> dict[str, Any]:
    """The parsed OpenAPI document of `platform` ("eccp" or "kicox")."""
    loaded: dict[str, Any] = yaml.safe_load((CONTRACTS / f"{platform}.openapi.yaml").read_text(encoding="utf-8"))
    return loaded


@cache
def _registry(platform: str) -> tuple[str, Registry[Any]]:
    uri = f"urn:clusterbridge:contract:{platform}"
    resource = Resource.from_contents(document(platform), default_specification=DRAFT202012)
    return uri, Registry().with_resource(uri, resource)


@cache
def validator(platform: str, schema: str) -> Draft202012Validator:
    """A validator of the component schema `schema` of `platform`'s contract, formats checked."""
    uri, registry = _registry(platform)
    return Draft202012Validator(
        {"$ref": f"{uri}#/components/schemas/{schema}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validate(platform: str, schema: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError unless `instance` is a valid `schema` of the platform's contract."""
    validator(platform, schema).validate(instance)
