"""The weights of the partner signals, read from `mappings/partner_weights.toml` (data, with its rationale).

The file is read with `config.load_toml`, so a copy in CLUSTERBRIDGE_CONFIG_DIR overrides it key by key. Every
key is required and unknown keys are refused, so a typo never silently falls back to a default; errors name the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from clusterbridge.config import Settings, load_toml
from clusterbridge.errors import ConfigurationError

WEIGHTS_FILE = "partner_weights.toml"

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Signals(BaseModel):
    """Relative weight of each signal; the score is the weighted mean of the signal values."""

    model_config = _STRICT

    industries: float = Field(ge=0)
    ecosystems: float = Field(ge=0)
    countries: float = Field(ge=0)
    texts: float = Field(ge=0)
    members: float = Field(ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> Signals:
        if self.total <= 0:
            raise ValueError("at least one signal weight must be above 0")
        return self

    @property
    def total(self) -> float:
        return self.industries + self.ecosystems + self.countries + self.texts + self.members


class Countries(BaseModel):
    model_config = _STRICT

    one_sided: float = Field(ge=0, le=1)


class Texts(BaseModel):
    model_config = _STRICT

    floor: float = Field(ge=0, lt=100)
    full: float = Field(gt=0, le=100)
    ignore_words: tuple[str, ...]

    @model_validator(mode="after")
    def _floor_below_full(self) -> Texts:
        if self.floor >= self.full:
            raise ValueError(f"floor ({self.floor}) must be below full ({self.full})")
        return self


class Members(BaseModel):
    model_config = _STRICT

    sme_heavy: float = Field(gt=0, le=1)


class Weights(BaseModel):
    """Everything `partner_weights.toml` sets."""

    model_config = _STRICT

    signals: Signals
    countries: Countries
    texts: Texts
    members: Members


def parse_weights(doc: Mapping[str, Any], path: Path | str) -> Weights:
    """Validate a parsed weights file; a bad value is a ConfigurationError naming its key."""
    try:
        # TOML arrays arrive as lists; the strict model wants the tuple it stores
        texts = doc.get("texts")
        if isinstance(texts, dict) and isinstance(texts.get("ignore_words"), list):
            doc = {**doc, "texts": {**texts, "ignore_words": tuple(texts["ignore_words"])}}
        return Weights.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"{path}: {problems}") from exc


def load_weights(settings: Settings | None = None) -> Weights:
    """The partner weights of this deployment: the shipped file with CLUSTERBRIDGE_CONFIG_DIR's copy merged over
    it key by key."""
    toml = load_toml("mappings", WEIGHTS_FILE, settings)
    return parse_weights(toml.data, toml.where)
