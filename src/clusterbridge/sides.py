"""The two sides clusterbridge connects, described as data (`connectors/sides.toml`).

A side is one platform's readers and records: which connector serves it, the language its readers read, the
industry code system it uses, the locale of its country names, and the countries whose clusters are native to
it. The engine, the reconciler and the ledger speak only of sides and directions ("eu-to-kr"); which platform a
side is, and how it is reached, is configuration.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from clusterbridge.config import Settings, load_toml
from clusterbridge.errors import ConfigurationError

SIDES_FILE = "sides.toml"
CodeSystem = Literal["NACE", "KSIC"]


@dataclass(frozen=True)
class Side:
    """One side of the bridge. `platform` names the platform (it keys ids in reports and aliases such as
    `eccp-to-kicox`); `connector` names the plugin that reaches it (the platform's API, or `files`)."""

    name: str
    platform: str
    connector: str
    language: str
    code_system: CodeSystem
    locale: str
    home_countries: tuple[str, ...] = ()
    title: str = ""
    area: tuple[tuple[str, str], ...] = ()  # where its clusters are, by language ("Europe", "유럽")

    def area_in(self, lang: str) -> str:
        """The side's area in `lang` (English, else the side's name, when not configured)."""
        names = dict(self.area)
        return names.get(lang) or names.get("en") or self.name

    def is_home_of(self, country: str) -> bool:
        """True when clusters of `country` are native to this side (rule 11 looks for their own profiles)."""
        return country in self.home_countries


@dataclass(frozen=True)
class Direction:
    """Natives of `source` mirrored onto `target`."""

    source: Side
    target: Side

    @property
    def name(self) -> str:
        return f"{self.source.name}-to-{self.target.name}"

    @property
    def alias(self) -> str:
        """The platform-named form operators used before sides existed (`eccp-to-kicox`)."""
        return f"{self.source.platform}-to-{self.target.platform}"


@dataclass(frozen=True)
class Bridge:
    """The two sides and the two directions between them, in a fixed order (the first side's natives first,
    so that its profiles of the second side's clusters are known before those are planned)."""

    first: Side
    second: Side

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.first, self.second)

    @property
    def directions(self) -> tuple[Direction, Direction]:
        return (Direction(self.first, self.second), Direction(self.second, self.first))

    def side(self, name: str) -> Side:
        for side in self.sides:
            if side.name == name:
                return side
        raise ConfigurationError(f"unknown side {name!r} (configured: {self.first.name}, {self.second.name})")

    def other(self, side: Side) -> Side:
        return self.second if side == self.first else self.first

    def direction(self, name: str) -> Direction:
        """A direction by its name (`eu-to-kr`) or its platform alias (`eccp-to-kicox`)."""
        for direction in self.directions:
            if name in (direction.name, direction.alias):
                return direction
        known = ", ".join(f"{d.name} (or {d.alias})" for d in self.directions)
        raise ConfigurationError(f"unknown direction {name!r}: use {known} or both")

    def select(self, name: str) -> list[Direction]:
        """The directions a `--direction` value asks for ("both" is every direction, in order)."""
        return list(self.directions) if name == "both" else [self.direction(name)]

    def __iter__(self) -> Iterator[Side]:
        return iter(self.sides)


_LANG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


def _side(name: str, raw: Mapping[str, Any], connector: str | None, where: str) -> Side:
    def text(key: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"{where}: [{name}] needs {key} (a non-empty string)")
        return value.strip()

    code_system = text("code_system").upper()
    if code_system not in ("NACE", "KSIC"):
        raise ConfigurationError(f"{where}: [{name}] code_system must be NACE or KSIC, not {code_system!r}")
    countries = raw.get("home_countries", [])
    if not isinstance(countries, list) or not all(isinstance(c, str) and len(c) == 2 for c in countries):
        raise ConfigurationError(f"{where}: [{name}] home_countries must be a list of ISO 3166 alpha-2 codes")
    language = text("language")
    if not re.match(_LANG, language):
        raise ConfigurationError(f"{where}: [{name}] language {language!r} is not a BCP 47 tag")
    return Side(
        name=name,
        platform=text("platform"),
        connector=connector or text("connector"),
        language=language,
        code_system=code_system,  # type: ignore[arg-type]  # checked just above
        locale=text("locale", language),
        home_countries=tuple(c.upper() for c in countries),
        title=str(raw.get("title", "") or ""),
        area=_area(raw.get("area", {}), name, where),
    )


def _area(raw: Any, name: str, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ConfigurationError(f"{where}: [{name}] area must be a table of names by language, e.g. "
                                 '{ en = "Europe", ko = "유럽" }')
    return tuple(sorted(raw.items()))


def load_bridge(settings: Settings) -> Bridge:
    """The sides of `connectors/sides.toml` (or its override), with the connectors the environment chooses
    (`CLUSTERBRIDGE_EU_CONNECTOR`, `CLUSTERBRIDGE_KR_CONNECTOR`)."""
    source = load_toml("connectors", SIDES_FILE, settings)
    doc, path = source.data, source.where
    names = [k for k, v in doc.items() if isinstance(v, dict)]
    if len(names) != 2:
        raise ConfigurationError(f"{path}: describe exactly two sides as [tables], found {len(names)}")
    chosen = {"eu": settings.eu_connector, "kr": settings.kr_connector}
    first, second = (_side(n, doc[n], chosen.get(n), str(path)) for n in names)
    if first.name == second.name:
        raise ConfigurationError(f"{path}: the two sides need different names")
    return Bridge(first, second)
