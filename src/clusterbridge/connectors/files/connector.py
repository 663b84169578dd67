"""The file-exchange connector: a side whose platform has no API exchanges files in a folder.

Its platform team drops an **export file** there (CSV, XLSX or JSON Lines): each row one of its clusters; the
connector lists exactly what the file holds, so what a full export no longer holds is a deletion the engine
plans under its usual guard rails. clusterbridge writes the other side's clusters into an **import file** beside
it, in the reader's language, replaced atomically on every change, with a manifest saying what was written.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal

import structlog
from pydantic import ValidationError

from clusterbridge.abc import (
    JSON,
    Connector,
    MirrorRecord,
    MirrorWrite,
    NativePage,
    NativeRecord,
    RecordProblem,
    WriteResult,
)
from clusterbridge.config import Settings
from clusterbridge.connectors.files.formats import (
    Cell,
    Row,
    TableError,
    read_table,
    replace_atomically,
    sha256_of,
    unguard_formula,
    write_table,
)
from clusterbridge.connectors.files.layout import EXPORT_FIELDS, IMPORT_NUMBERS
from clusterbridge.connectors.files.models import ExportRow, native_id
from clusterbridge.connectors.files.normalise import normalise
from clusterbridge.connectors.files.settings import FilesSettings, load_files_settings
from clusterbridge.connectors.files.shape import cell, shape
from clusterbridge.errors import ConfigurationError, ListingIncomplete, PlatformError
from clusterbridge.mapping.vocabulary import Vocabulary
from clusterbridge.model import Cluster, RenderedCluster
from clusterbridge.sides import Side

PLATFORM = "files"
log = structlog.get_logger(__name__)

_EXTERNAL_ID_MAX = 200
# a quarantined row whose id several rows share: retried from the quarantine, it must fail again
_DUPLICATE = "duplicate_rows"


class FilesConnector(Connector):
    """Natives from an export file, the other side's mirrors into an import file, both in one folder.

    A mirror's `mirror_id` is its external id: the key of its row. The import file's rows are held in memory
    once read (import files are small) and re-read whenever the file changed under us.
    """

    name = PLATFORM
    server_keys: frozenset[str] = frozenset()
    concurrency = 1

    def __init__(self, settings: FilesSettings, *, side: Side, vocabulary: Vocabulary) -> None:
        self.settings = settings
        self.side = side
        self.vocabulary = vocabulary
        self.write_batch = settings.write_batch
        self._lock = threading.Lock()
        self._mirrors: dict[str, dict[str, str]] | None = None
        self._stamp: tuple[int, int, int] | None = None
        # by the column's header, case and spacing forgiven
        self._export_fields = {settings.export.header(f).casefold(): f for f in EXPORT_FIELDS}
        home = side.home_countries
        self._context = {"country": home[0] if len(home) == 1 else None, "time_zone": settings.export.time_zone}

    # --- natives (the export file) -----------------------------------------------------------------------

    def export_file(self) -> Path:
        """The export file to read: the one named, or the newest file that matches the pattern."""
        folder, pattern = self.settings.folder, self.settings.export.file
        ours = {self.settings.import_path.name, self.settings.manifest_path.name}
        found = [p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith(".") and p.name not in ours]
        if not found:
            raise ListingIncomplete(PLATFORM, f"side {self.side.name}: no export file {pattern!r} in {folder}")
        return max(found, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def iter_natives(self, since: datetime | None = None) -> Iterator[NativePage]:
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        rows, records, problems = self._read_export()
        records.sort(key=lambda r: (r.changed, r.native_id))
        if since is not None:
            floor = since - timedelta(seconds=self.settings.cursor_overlap_seconds)
            records = [r for r in records if r.changed >= floor]
        total = rows if since is None else None
        size = self.settings.page_size
        # the bad rows come first, all in one page: a page is counted as a whole, rows sharing an id included
        page = NativePage(records=records[:size], problems=problems, reported_total=total)
        log.info("files.natives.page", side=self.side.name, records=len(page.records), problems=len(problems))
        yield page
        for start in range(size, len(records), size):
            page = NativePage(records=records[start:start + size], reported_total=total)
            log.info("files.natives.page", side=self.side.name, records=len(page.records), problems=0)
            yield page

    def _read_export(self) -> tuple[int, list[NativeRecord], list[RecordProblem]]:
        """(data rows, readable records, problems) of the export file, read whole."""
        path = self.export_file()
        export = self.settings.export
        before = path.stat()
        try:
            table = read_table(path, export.format, sheet=export.sheet, encoding=export.encoding,
                               delimiter=export.delimiter)
        except (TableError, OSError) as exc:
            raise ListingIncomplete(PLATFORM, f"side {self.side.name}: {exc}") from exc
        after = path.stat()
        if (before.st_mtime_ns, before.st_size) != (after.st_mtime_ns, after.st_size):
            raise ListingIncomplete(PLATFORM, f"{path.name} changed while it was read; the next run reads it again")
        present = {h.casefold() for h in table.headers}
        missing = [h for h in export.required_headers if h.casefold() not in present]
        if missing and table.rows:
            raise ListingIncomplete(PLATFORM, f"{path.name} has no column {', '.join(missing)} (map the export's "
                                    f"headers under [{self.side.name}.export.columns] in files.toml)")
        raws = [(row, self._fields(row)) for row in table.rows]
        counts = Counter(key for _, raw in raws if (key := native_id(raw.get("id"))) is not None)
        records: list[NativeRecord] = []
        problems: list[RecordProblem] = []
        for row, raw in raws:
            key = native_id(raw.get("id"))
            if row.error is not None:
                problems.append(RecordProblem(key, f"row {row.number}: {row.error}", None, raw))
            elif key is not None and counts[key] > 1:
                numbers = [r.number for r, x in raws if native_id(x.get("id")) == key]
                problems.append(RecordProblem(
                    key, f"row {row.number}: {counts[key]} rows carry this id (rows {', '.join(map(str, numbers))})",
                    export.header("id"), {**raw, _DUPLICATE: numbers}, retryable=False))
            else:
                try:
                    wire = self._validate(raw)
                except ValidationError as exc:
                    problems.append(self._problem(row, key, raw, exc))
                    continue
                records.append(NativeRecord(wire.id, wire.changed, wire))
        log.info("files.export.read", side=self.side.name, file=path.name, rows=len(table.rows),
                 records=len(records), problems=len(problems))
        return len(table.rows), records, problems

    def _fields(self, row: Row) -> dict[str, Cell]:
        """The row's cells by shared-model field (columns the layout does not know are left out)."""
        out: dict[str, Cell] = {}
        for header, value in row.cells.items():
            name = self._export_fields.get(header.casefold())
            if name is not None:
                out[name] = value
        return out

    def _validate(self, raw: dict[str, Any]) -> ExportRow:
        return ExportRow.model_validate(raw, context=self._context)

    def _problem(self, row: Row, key: str | None, raw: dict[str, Cell], exc: ValidationError) -> RecordProblem:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else None
        column = self.settings.export.header(name) if name else None
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return RecordProblem(None if name == "id" else key, f"row {row.number}: {column}: {message}{more}",
                             column, raw)

    def normalise(self, record: NativeRecord) -> Cluster:
        wire = record.wire
        if not isinstance(wire, ExportRow):  # a raw row, as kept in the quarantine: read it again
            if not isinstance(wire, dict):
                raise ValueError("id: not a row of an export file")
            if _DUPLICATE in wire:
                raise ValueError(f"id: several rows carry this id (rows {wire[_DUPLICATE]})")
            try:
                wire = self._validate(wire)
            except ValidationError as exc:
                first = exc.errors()[0]
                name = str(first["loc"][0]) if first["loc"] else "row"
                raise ValueError(f"{name}: {str(first['msg']).removeprefix('Value error, ')}") from None
        return normalise(wire, self.side, self.vocabulary)

    def external_id(self, native_id: str) -> str:
        return f"{self.settings.id_prefix}{native_id}"

    # --- mirrors (the import file) ----------------------------------------------------------------------

    def shape(self, record: RenderedCluster) -> JSON:
        return shape(record, self.settings.import_.layout, self.vocabulary)

    def iter_mirrors(self) -> Iterator[list[MirrorRecord]]:
        with self._lock:
            rows = sorted(self._load().items())
        size = self.settings.page_size
        for start in range(0, len(rows), size):
            yield [MirrorRecord(key, key, dict(row)) for key, row in rows[start:start + size]]

    def write(self, writes: Sequence[MirrorWrite]) -> list[WriteResult]:
        layout = self.settings.import_.layout
        with self._lock:
            table = dict(self._load())  # a copy: a write that fails leaves the held rows as the file has them
            results: list[WriteResult] = []
            changes: Counter[str] = Counter()
            for w in writes:
                key = w.external_id
                if not key.strip() or len(key) > _EXTERNAL_ID_MAX or not key.isprintable():
                    problem = RecordProblem(key, f"external id: empty, longer than {_EXTERNAL_ID_MAX} characters or "
                                            "holding control characters", "external_id", retryable=False)
                    results.append(WriteResult(key, "failed", w.mirror_id, problem))
                    continue
                row = {name: cell(w.payload.get(name)) for name in layout}
                row["external_id"] = key
                current = table.get(key)
                if current == row:
                    results.append(WriteResult(key, "unchanged", key))
                    continue
                action: Literal["created", "adopted", "updated"] = (
                    "created" if current is None else "adopted" if w.mirror_id is None else "updated")
                table[key] = row
                changes["created" if current is None else "updated"] += 1
                results.append(WriteResult(key, action, key))
            if changes:
                self._save(table, changes)
        return results

    def delete(self, external_id: str, mirror_id: str | None) -> None:
        with self._lock:
            table = dict(self._load())
            key = next((k for k in (mirror_id, external_id) if k and k in table), None)
            if key is None:
                return  # already gone: done
            del table[key]
            self._save(table, Counter(deleted=1))

    def _load(self) -> dict[str, dict[str, str]]:
        """The import file's rows by external id: held from the last read or write, read again when the file
        changed since (an operator or the platform team touched it)."""
        path = self.settings.import_path
        stamp = _stamp(path)
        if self._mirrors is not None and stamp == self._stamp:
            return self._mirrors
        table: dict[str, dict[str, str]] = {}
        if stamp is not None:
            table = self._read_import(path)
        self._mirrors, self._stamp = table, stamp
        return table

    def _read_import(self, path: Path) -> dict[str, dict[str, str]]:
        imp = self.settings.import_
        try:
            read = read_table(path, imp.format, sheet=imp.sheet, delimiter=imp.delimiter)
        except (TableError, OSError) as exc:
            raise PlatformError(PLATFORM, f"cannot read the import file: {exc}; repair or remove it (a full sync "
                                "writes it anew)") from exc
        columns = {imp.header(name).casefold(): name for name in imp.layout}
        if read.rows and imp.header("external_id").casefold() not in {h.casefold() for h in read.headers}:
            raise PlatformError(PLATFORM, f"{path.name} has no column {imp.header('external_id')!r}: repair or remove "
                                "it (a full sync writes it anew)")
        guard = imp.format == "csv" and imp.formula_guard
        table: dict[str, dict[str, str]] = {}
        for row in read.rows:
            if row.error is not None:
                raise PlatformError(PLATFORM, f"{path.name} row {row.number}: {row.error}")
            values = {name: "" for name in imp.layout}
            for header, value in row.cells.items():
                name = columns.get(header.casefold())
                if name is not None:
                    text = _text(value)
                    values[name] = unguard_formula(text) if guard else text
            key = values["external_id"]
            if key:
                table[key] = values
        return table

    def _save(self, table: dict[str, dict[str, str]], changes: Counter[str]) -> None:
        """Replace the import file with `table` (ordered by external id), then its manifest."""
        imp = self.settings.import_
        layout = imp.layout
        path = self.settings.import_path
        rows = [[table[key][name] for name in layout] for key in sorted(table)]
        headers = [imp.header(name) for name in layout]
        try:
            digest = write_table(path, imp.format, headers, rows, sheet=imp.sheet, delimiter=imp.delimiter,
                                 numbers=[i for i, name in enumerate(layout) if name in IMPORT_NUMBERS],
                                 formula_guard=imp.formula_guard)
        except OSError as exc:
            self._mirrors, self._stamp = None, None
            raise PlatformError(PLATFORM, f"cannot write {path}: {exc}; the previous file is intact") from exc
        self._mirrors, self._stamp = table, _stamp(path)
        counts = {k: changes.get(k, 0) for k in ("created", "updated", "deleted")}
        manifest: dict[str, Any] = {
            "file": path.name,
            "format": imp.format,
            "side": self.side.name,
            "language": self.side.language,
            "code_system": self.side.code_system,
            "rows": len(rows),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sha256": digest,
            "columns": headers,
            "changes": counts,
        }
        data = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
        try:
            replace_atomically(self.settings.manifest_path, lambda fh: _put(fh, data))
        except OSError as exc:
            raise PlatformError(PLATFORM, f"{path.name} was written but not its manifest: {exc}") from exc
        log.info("files.import.written", side=self.side.name, file=path.name, rows=len(rows), **counts)

    def manifest(self) -> dict[str, Any] | None:
        """The manifest beside the import file, as last written (None when there is none)."""
        path = self.settings.manifest_path
        return json.loads(path.read_text()) if path.is_file() else None

    def verify(self) -> bool:
        """True when the import file is the one its manifest describes (what a consumer checks before reading)."""
        found = self.manifest()
        path = self.settings.import_path
        return found is not None and path.is_file() and found.get("sha256") == sha256_of(path)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _put(fh: IO[bytes], data: bytes) -> None:
    fh.write(data)


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def create(settings: Settings, *, side: Side, vocabulary: Vocabulary, **overrides: Any) -> FilesConnector:
    """Build the file exchange of `side` from the `[side]` table of `connectors/files.toml` (with
    CLUSTERBRIDGE_CONFIG_DIR's copy laid over it) and `overrides` (keys of that table, for tests).

    `observer=` (the daemon's HTTP metrics) and `stopping=` are accepted and unused: nothing here retries HTTP.
    """
    overrides.pop("observer", None)
    overrides.pop("stopping", None)
    config = load_files_settings(settings, side.name, overrides)
    folder = config.folder.expanduser().absolute()
    if not folder.is_dir():
        raise ConfigurationError(
            f"files: the folder of side {side.name!r} ({folder}) does not exist: create it, or set `folder` under "
            f"[{side.name}] in files.toml (a copy under CLUSTERBRIDGE_CONFIG_DIR needs only that key)"
        )
    config = config.model_copy(update={"folder": folder})
    return FilesConnector(config, side=side, vocabulary=vocabulary)
