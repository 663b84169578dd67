"""Tables in files: CSV, XLSX and JSON Lines read into rows of cells, and written by replacing the file
atomically.

A file is replaced, never edited in place: the new content goes to a temporary file in the same folder, is
flushed to disk, and is renamed over the old one (a rename within one file system is atomic), then the folder
itself is synced so the rename survives a power cut. A reader, or a crash at any instant, therefore sees
either the old file or the new one, whole.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from clusterbridge.connectors.files.settings import Format

Cell = str | int | float | bool | list[Any] | None
# what a spreadsheet would take for the start of a formula; a leading apostrophe marks such a value as text
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


class TableError(Exception):
    """The file cannot be read as a table at all (not the format its name says, no header, a bad encoding)."""


@dataclass
class Row:
    """One data row: its number in the file (the header row of CSV and XLSX is row 1; JSON Lines count lines)
    and its cells by header. `error` says why the row could not be split into cells."""

    number: int
    cells: dict[str, Cell] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Table:
    headers: tuple[str, ...]
    rows: list[Row]


# --- reading ------------------------------------------------------------------------------------------------


def read_table(path: Path, fmt: Format, *, sheet: str = "", encoding: str = "utf-8-sig",
               delimiter: str = ",") -> Table:
    """Every data row of a file (blank rows skipped); raises TableError when the file is not a table."""
    try:
        if fmt == "csv":
            return _read_csv(path, encoding, delimiter)
        if fmt == "xlsx":
            return _read_xlsx(path, sheet)
        return _read_jsonl(path)
    except UnicodeDecodeError as exc:
        raise TableError(f"{path.name}: not {encoding} text ({exc.reason} at byte {exc.start}); set the "
                         "export's encoding (a CSV saved by Korean Excel is usually cp949)") from exc


def _headers(cells: Sequence[Any], where: str) -> tuple[str, ...]:
    headers = tuple(str(c).replace("\ufeff", "").strip() if c is not None else "" for c in cells)
    named = [h for h in headers if h]
    if not named:
        raise TableError(f"{where}: the first row holds no column headers")
    twice = sorted({h for h in named if named.count(h) > 1})
    if twice:
        raise TableError(f"{where}: the header {', '.join(twice)} appears twice")
    return headers


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _row(number: int, headers: tuple[str, ...], cells: Sequence[Cell]) -> Row | None:
    """A data row, or None when every cell is blank."""
    if all(_blank(c) for c in cells):
        return None
    extra = [c for c in cells[len(headers):] if not _blank(c)]
    values = {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(headers) if h}
    error = f"the row has {len(cells)} cells, more than the {len(headers)} headers" if extra else None
    return Row(number, values, error)


def _read_csv(path: Path, encoding: str, delimiter: str) -> Table:
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            first = next(reader, None)
            if first is None:
                raise TableError(f"{path.name}: the file is empty (not even a header row)")
            headers = _headers(first, path.name)
            # numbered as a spreadsheet shows them (the header is row 1), whatever line breaks cells hold
            found = (_row(number, headers, cells) for number, cells in enumerate(reader, start=2))
            rows = [r for r in found if r is not None]
        except csv.Error as exc:
            raise TableError(f"{path.name}: not a CSV file: {exc}") from exc
    return Table(headers, rows)


def spreadsheet_cell(value: Any) -> Cell:
    """A spreadsheet cell as a value that survives JSON: dates and times as ISO 8601 text (without an offset,
    as spreadsheets keep them), whole numbers as int."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _read_xlsx(path: Path, sheet: str) -> Table:
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it does not read; only the values matter here
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise TableError(f"{path.name}: not an XLSX workbook ({type(exc).__name__}: {exc})") from exc
        try:
            if sheet and sheet not in book.sheetnames:
                raise TableError(f"{path.name}: no worksheet {sheet!r} (it has {', '.join(book.sheetnames)})")
            ws = book[sheet] if sheet else book.worksheets[0]
            if hasattr(ws, "reset_dimensions"):
                # other programs may record a wrong sheet size; read to the last row that holds anything
                ws.reset_dimensions()
            lines = ws.iter_rows(values_only=True)
            first = next(lines, None)
            if first is None:
                raise TableError(f"{path.name}: the worksheet {ws.title!r} is empty (not even a header row)")
            headers = _headers(first, path.name)
            rows: list[Row] = []
            for number, values in enumerate(lines, start=2):
                row = _row(number, headers, [spreadsheet_cell(v) for v in values])
                if row is not None:
                    rows.append(row)
        finally:
            book.close()
    return Table(headers, rows)


def _read_jsonl(path: Path) -> Table:
    headers: dict[str, None] = {}
    rows: list[Row] = []
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append(Row(number, error=f"line {number} is not JSON ({exc.msg})"))
                continue
            if not isinstance(value, dict):
                rows.append(Row(number, error=f"line {number} is a JSON {type(value).__name__}, not an object"))
                continue
            cells = {str(k).strip(): v for k, v in value.items()}
            headers.update(dict.fromkeys(cells))
            rows.append(Row(number, cells))
    return Table(tuple(headers), rows)


# --- writing ------------------------------------------------------------------------------------------------


def guard_formula(value: str) -> str:
    """A CSV value a spreadsheet would run as a formula, marked as text with a leading apostrophe (values that
    start with an apostrophe get one too, so `unguard_formula` undoes exactly this)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unguard_formula(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def write_table(path: Path, fmt: Format, headers: Sequence[str], rows: Iterable[Sequence[str]], *,
                sheet: str = "clusters", delimiter: str = ",", numbers: Iterable[int] = (),
                formula_guard: bool = True) -> str:
    """Replace `path` with a table of `rows` (strings; '' for nothing) and return the new file's SHA-256.
    `numbers` are the indexes of columns a spreadsheet gets as numbers."""
    if fmt == "csv":
        return replace_atomically(path, lambda fh: _write_csv(fh, headers, rows, delimiter, formula_guard))
    if fmt == "xlsx":
        return replace_atomically(path, lambda fh: _write_xlsx(fh, headers, rows, sheet, frozenset(numbers)))
    return replace_atomically(path, lambda fh: _write_jsonl(fh, headers, rows))


def _write_csv(fh: IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[str]], delimiter: str,
               formula_guard: bool) -> None:
    # UTF-8 with a byte order mark and CRLF line ends: what spreadsheet programs open without asking
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([guard_formula(v) if formula_guard else v for v in row])
    text.flush()
    text.detach()


def _write_xlsx(fh: IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[str]], sheet: str,
                numbers: frozenset[int]) -> None:
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    bold = Font(bold=True)
    ws.append([_text_cell(ws, h, bold) for h in headers])
    for row in rows:
        ws.append([int(v) if i in numbers and _whole(v) else _text_cell(ws, v) for i, v in enumerate(row)])
    book.save(fh)


def _whole(value: str) -> bool:
    """A whole number that reads back as the same text once stored as a number."""
    return value.isascii() and value.isdigit() and value == str(int(value))


def _text_cell(ws: Any, value: str, font: Font | None = None) -> Any:
    if value == "":
        return None
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # always text: a value starting with '=' is never stored as a formula
    if font is not None:
        cell.font = font
    return cell


def _write_jsonl(fh: IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    for row in rows:
        line = json.dumps(dict(zip(headers, row, strict=True)), ensure_ascii=False, separators=(",", ":"))
        fh.write(line.encode() + b"\n")


def replace_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> str:
    """Write a new `path` through `write` and rename it into place; the old file stays intact whatever fails.
    Returns the SHA-256 of what was written."""
    folder = path.parent
    remove_leftovers(path)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            os.fchmod(fh.fileno(), mode)
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
            fh.seek(0)
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(folder)
    return digest


def remove_leftovers(path: Path) -> None:
    """Temporary files an earlier, killed write left beside `path` (one sync runs at a time, rule 10)."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        leftover.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    # the rename is durable only once the folder's entry is on disk; some file systems cannot open a folder
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def iter_pages(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
