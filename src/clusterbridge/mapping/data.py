"""The mappings/ data files, read once into immutable tables (DESIGN: mappings are data, not code).

A CSV file in CLUSTERBRIDGE_CONFIG_DIR replaces the default whole (`config.find_file`); `links.toml` is merged
over the default key by key (`config.load_toml`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusterbridge.config import Settings, find_file, load_toml
from clusterbridge.errors import ConfigurationError
from clusterbridge.mapping.codes import Crosswalk


@dataclass(frozen=True)
class Ecosystem:
    name: str
    label_ko: str
    ksic: tuple[str, ...]


@dataclass(frozen=True)
class IndustryLabel:
    label_ko: str
    label_en: str
    ksic: tuple[str, ...]
    ecosystems: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    iso_code: str
    name_ko: str
    name_en: str
    short_ko: str
    former_ko: tuple[str, ...]


@dataclass(frozen=True)
class LinkRule:
    """A rule-11 pair an operator forces or forbids: a home native (KICOX clstrId) and its own profile on the
    other platform (ECCP uuid)."""

    home_id: str
    profile_id: str
    reason: str = ""


@dataclass(frozen=True)
class LinkOverrides:
    force: tuple[LinkRule, ...] = ()
    forbid: tuple[LinkRule, ...] = ()
    name_threshold: float = 0.9


@dataclass(frozen=True)
class MappingData:
    ecosystems: tuple[Ecosystem, ...]
    crosswalk: Crosswalk
    regions: tuple[Region, ...]
    glossary: Mapping[str, str]
    labels: tuple[IndustryLabel, ...]
    links: LinkOverrides


def read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a mappings CSV whose leading '#' lines are its header comment; checks the columns it needs."""
    text = path.read_text(encoding="utf-8")
    body = "".join(line for line in io.StringIO(text) if not line.lstrip().startswith("#"))
    reader = csv.DictReader(io.StringIO(body))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigurationError(f"{path}: missing column(s) {', '.join(missing)}")
    rows = []
    for number, row in enumerate(reader, start=1):
        cleaned = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not cleaned.get(columns[0]):
            raise ConfigurationError(f"{path}: data row {number} has no {columns[0]}")
        rows.append(cleaned)
    return rows


def _split(value: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(sep) if part.strip())


def load_data(settings: Settings | None = None) -> MappingData:
    def path(name: str) -> Path:
        return find_file("mappings", name, settings)

    ecosystems = tuple(
        Ecosystem(r["ecosystem"], r["label_ko"], _split(r["ksic"]))
        for r in read_csv(path("ecosystems.csv"), ("ecosystem", "label_ko", "ksic"))
    )
    crosswalk = Crosswalk(
        tuple((r["nace"].upper(), r["ksic"].upper()) for r in read_csv(path("nace_ksic.csv"), ("nace", "ksic")))
    )
    regions = tuple(
        Region(r["iso_code"], r["name_ko"], r["name_en"], r["short_ko"], _split(r.get("former_ko", "")))
        for r in read_csv(path("korea_regions.csv"), ("iso_code", "name_ko", "name_en", "short_ko"))
    )
    glossary = {r["ko"]: r["en"] for r in read_csv(path("glossary.csv"), ("ko", "en"))}
    labels = tuple(
        IndustryLabel(r["label_ko"], r["label_en"], _split(r["ksic"]), _split(r["ecosystems"], ";"))
        for r in read_csv(path("korean_labels.csv"), ("label_ko", "label_en", "ksic", "ecosystems"))
    )
    links_file = load_toml("mappings", "links.toml", settings)
    links = parse_links(links_file.data, links_file.where)
    data = MappingData(ecosystems, crosswalk, regions, glossary, labels, links)
    _check(data)
    return data


def parse_links(doc: Mapping[str, Any], path: Path | str) -> LinkOverrides:
    def rules(key: str) -> tuple[LinkRule, ...]:
        # the file names the two ids by platform (kicox_id, eccp_id), or generically (home_id, profile_id)
        out = []
        for i, item in enumerate(doc.get(key, [])):
            home = item.get("home_id") or item.get("kicox_id") if isinstance(item, dict) else None
            profile = item.get("profile_id") or item.get("eccp_id") if isinstance(item, dict) else None
            if not home or not profile:
                raise ConfigurationError(f"{path}: [[{key}]] entry {i + 1} needs kicox_id and eccp_id")
            out.append(LinkRule(str(home), str(profile), str(item.get("reason", ""))))
        return tuple(out)

    threshold = doc.get("matching", {}).get("name_threshold", 0.9)
    if not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise ConfigurationError(f"{path}: matching.name_threshold must be a number in (0, 1]")
    return LinkOverrides(rules("force"), rules("forbid"), float(threshold))


def _check(data: MappingData) -> None:
    """Refuse data files that disagree with each other (a typo would silently drop a mapping)."""
    names = {e.name for e in data.ecosystems}
    for label in data.labels:
        unknown = [e for e in label.ecosystems if e not in names]
        if unknown:
            raise ConfigurationError(f"korean_labels.csv: {label.label_ko}: unknown ecosystem(s) {unknown}")
        for code in label.ksic:
            if data.crosswalk.parse_ksic(code) != code:
                raise ConfigurationError(f"korean_labels.csv: {label.label_ko}: unknown KSIC code {code}")
    for eco in data.ecosystems:
        for code in eco.ksic:
            if data.crosswalk.parse_ksic(code) != code:
                raise ConfigurationError(f"ecosystems.csv: {eco.name}: unknown KSIC code {code}")
