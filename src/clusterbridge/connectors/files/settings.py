"""Settings of the file exchange: `connectors/files.toml`, one table a side (`[eu]`, `[kr]`), each key
commented there and in docs/connectors.md.

Unlike the other connectors' files, a copy under CLUSTERBRIDGE_CONFIG_DIR is merged into the shipped one key by
key, so an operator's copy holds only what it changes (typically the folder of one side).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from clusterbridge.config import Settings, default_dir, find_file, read_toml
from clusterbridge.connectors.files.layout import EXPORT_FIELDS, EXPORT_REQUIRED, IMPORT_COLUMNS
from clusterbridge.errors import ConfigurationError

SETTINGS_FILE = "files.toml"
Format = Literal["csv", "xlsx", "jsonl"]
_EXTENSIONS: dict[str, Format] = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def file_format(name: str) -> Format:
    """The format a file name's extension says (one format per file); ValueError for any other."""
    found = _EXTENSIONS.get(Path(name).suffix.lower())
    if found is None:
        raise ValueError(f"{name!r}: the name must end in .csv, .xlsx or .jsonl")
    return found


def _one_char(value: str) -> str:
    if len(value) != 1:
        raise ValueError("must be exactly one character")
    return value


class ExportSettings(BaseModel):
    """Where a side's natives come from: the export file its platform team drops into the folder."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(min_length=1, description="file name, or a pattern (clusters-*.xlsx): the newest match wins")
    sheet: str = ""
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    time_zone: str = ""
    columns: dict[str, str] = Field(default_factory=dict)

    _check_delimiter = field_validator("delimiter")(_one_char)

    @field_validator("file")
    @classmethod
    def _known_format(cls, value: str) -> str:
        file_format(value)
        if Path(value).name != value:
            raise ValueError("a file name inside the folder, without a path")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Seoul)") from exc
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            "".encode(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        return _mapping(value, EXPORT_FIELDS, allow_blank=False)

    @property
    def format(self) -> Format:
        return file_format(self.file)

    def header(self, name: str) -> str:
        """The header under which the file holds the shared-model field `name`."""
        return self.columns.get(name, name)

    @property
    def required_headers(self) -> tuple[str, ...]:
        return tuple(self.header(name) for name in EXPORT_REQUIRED)


class ImportSettings(BaseModel):
    """Where the other side's mirrors go: the import file clusterbridge writes for this side's platform team."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(min_length=1)
    sheet: str = Field(default="clusters", min_length=1, max_length=31)
    delimiter: str = ","
    formula_guard: bool = True
    columns: dict[str, str] = Field(default_factory=dict)

    _check_delimiter = field_validator("delimiter")(_one_char)

    @field_validator("file")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        file_format(value)
        if Path(value).name != value or any(ch in value for ch in "*?["):
            raise ValueError("a plain file name inside the folder (no path, no pattern)")
        return value

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        mapped = _mapping(value, IMPORT_COLUMNS, allow_blank=True)
        if mapped.get("external_id", "external_id") == "":
            raise ValueError("external_id cannot be left out: it is the key of every row")
        return mapped

    @property
    def format(self) -> Format:
        return file_format(self.file)

    @property
    def layout(self) -> tuple[str, ...]:
        """The columns written, in the default layout's order (a column mapped to "" is left out)."""
        return tuple(name for name in IMPORT_COLUMNS if self.columns.get(name, name) != "")

    def header(self, name: str) -> str:
        return self.columns.get(name, name)


class FilesSettings(BaseModel):
    """One side's file exchange."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    folder: Path
    id_prefix: str = Field(default="", max_length=16, pattern=r"^[A-Za-z0-9._:-]*$")
    page_size: int = Field(default=500, ge=1, le=100_000)
    cursor_overlap_seconds: float = Field(default=300.0, ge=0)
    write_batch: int = Field(default=500, ge=1, le=100_000)
    export: ExportSettings
    import_: ImportSettings = Field(alias="import")

    @model_validator(mode="after")
    def _distinct_files(self) -> FilesSettings:
        if self.export.file == self.import_.file:
            raise ValueError("the export and the import file need different names")
        return self

    @property
    def import_path(self) -> Path:
        return self.folder / self.import_.file

    @property
    def manifest_path(self) -> Path:
        return self.folder / f"{self.import_.file}.manifest.json"


def _mapping(value: dict[str, str], known: tuple[str, ...], *, allow_blank: bool) -> dict[str, str]:
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)} (the layout has {', '.join(known)})")
    cleaned = {k: v.strip() for k, v in value.items()}
    if not allow_blank and any(not v for v in cleaned.values()):
        raise ValueError("a mapped header cannot be blank")
    headers = [cleaned.get(name, name) for name in known if cleaned.get(name, name)]
    twice = sorted({h for h in headers if headers.count(h) > 1})
    if twice:
        raise ValueError(f"two columns share the header(s) {', '.join(twice)}")
    return cleaned


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it, tables merged key by key."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def load_files_settings(settings: Settings, side: str, overrides: dict[str, Any] | None = None) -> FilesSettings:
    """The `[side]` table of the shipped `files.toml`, with CLUSTERBRIDGE_CONFIG_DIR's copy and `overrides`
    laid over it; a ConfigurationError names the file, the table and the key at fault."""
    shipped = default_dir("connectors") / SETTINGS_FILE
    doc = read_toml(shipped) if shipped.is_file() else {}
    where = str(shipped)
    chosen = find_file("connectors", SETTINGS_FILE, settings)
    if chosen != shipped:
        doc = merged(doc, read_toml(chosen))
        where = f"{chosen} (over {shipped})"
    table = doc.get(side)
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where}: no [{side}] table: describe the file exchange of side {side!r} there")
    data = merged(table, overrides or {})
    try:
        return FilesSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{where}: [{side}] {problems}") from exc
