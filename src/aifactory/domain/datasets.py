"""Datasets registered from project storage: their format (from the content, then the extension), a folder's
manifest hash, and the schema preview of a CSV table (columns with inferred types, the first rows). Pure
functions over bytes and text; the services read the files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

FORMATS = ("csv", "parquet", "json", "txt", "other")
PREVIEW_ROWS = 10
PREVIEW_COLUMNS = 100
PREVIEW_CELL = 100  # characters of one shown value
TYPE_SAMPLE = 1000  # rows whose values decide a column's type
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".geojson": "json",
    ".txt": "txt",
    ".md": "txt",
    ".text": "txt",
}
_INT = re.compile(r"^[+-]?\d{1,18}$")
_BOOL = {"true", "false", "yes", "no", "ja", "nein"}


def detect_format(name: str, head: bytes, tail: bytes = b"") -> str:
    """csv, parquet, json, txt or other: Parquet by its magic bytes, binary content as other, then the
    extension, then JSON's first character, and text that a CSV dialect splits into several columns."""
    if head[:4] == b"PAR1" and (not tail or tail[-4:] == b"PAR1"):
        return "parquet"
    text = _text(head)
    if text is None:
        return "other"
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if suffix in _EXTENSIONS and _EXTENSIONS[suffix] != "parquet":
        return _EXTENSIONS[suffix]
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        return "json"
    return "csv" if _dialect(text) is not None else "txt"


def _text(data: bytes) -> str | None:
    """The bytes as UTF-8 text (a character cut at the end forgiven), or None for binary content."""
    if b"\x00" in data:
        return None
    for cut in range(4):
        try:
            return data[: len(data) - cut].decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
    return None


def _dialect(text: str) -> type[csv.Dialect] | None:
    """A CSV dialect whose delimiter splits the first lines into the same number (> 1) of columns."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return None
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
    except csv.Error:
        return None
    widths = {len(row) for row in csv.reader(lines[:-1] or lines, dialect)}
    return dialect if len(widths) == 1 and widths.pop() > 1 else None


# ------------------------------------------------------------------ a folder's manifest


@dataclass(frozen=True)
class ManifestEntry:
    path: str  # relative to the folder, with '/'
    size: int
    sha256: str


def manifest_sha256(entries: Iterable[ManifestEntry]) -> str:
    """The sha256 of the folder's manifest: one line ``<sha256>  <path>`` per file, sorted by path (UTF-8 byte
    order), each ending in a newline: what ``sha256sum`` prints, so that
    ``find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum`` gives the same."""
    lines = "".join(f"{e.sha256}  {e.path}\n" for e in sorted(entries, key=lambda e: e.path.encode("utf-8")))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ previews


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # integer, number, boolean, date, datetime, string, empty (or the Parquet type)


@dataclass(frozen=True)
class Preview:
    """A table's schema and first rows; ``row_count`` None when counting would cost too much."""

    columns: list[Column]
    rows: list[list[Any]]
    row_count: int | None = None
    notes: list[str] = field(default_factory=list)
    delimiter: str | None = None

    def as_details(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "columns": [{"name": c.name, "type": c.type} for c in self.columns],
            "rows": self.rows,
            "row_count": self.row_count,
        }
        if self.delimiter is not None:
            out["delimiter"] = self.delimiter
        if self.notes:
            out["notes"] = self.notes
        return out


def cell(value: Any) -> Any:
    """A value as shown in a preview: finite numbers, booleans and None as they are, anything else as bounded
    text (a JSON column holds no NaN)."""
    if value is None or isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)):
        return value
    text = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    return text if len(text) <= PREVIEW_CELL else text[: PREVIEW_CELL - 1] + "…"


def infer_type(values: Sequence[str]) -> str:
    """The narrowest type every non-empty value fits: integer, number, boolean, date, datetime or string."""
    seen = [v.strip() for v in values if v.strip()]
    if not seen:
        return "empty"
    for name, fits in (("integer", _is_int), ("number", _is_number), ("boolean", _is_bool), ("date", _is_date)):
        if all(fits(v) for v in seen):
            return name
    return "datetime" if all(_is_datetime(v) for v in seen) else "string"


def _is_int(v: str) -> bool:
    return _INT.match(v) is not None


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return v.lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def _is_bool(v: str) -> bool:
    return v.lower() in _BOOL


def _is_date(v: str) -> bool:
    try:
        date.fromisoformat(v)
    except ValueError:
        return False
    return len(v) == 10


def _is_datetime(v: str) -> bool:
    try:
        datetime.fromisoformat(v)
    except ValueError:
        return False
    return True


def csv_preview(head: bytes, *, complete: bool) -> Preview:
    """The preview of a CSV whose first bytes are ``head`` (``complete``: that is the whole file, so the rows
    are counted). The first line is the header; types come from up to :data:`TYPE_SAMPLE` rows."""
    text = _text(head)
    if text is None:
        return Preview([], [], notes=["not UTF-8 text: no preview"])
    if not complete:  # the last line may be cut
        text = text[: text.rfind("\n") + 1] if "\n" in text else text
    dialect = _dialect(text)
    reader = csv.reader(io.StringIO(text), dialect) if dialect is not None else csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        return Preview([], [], notes=[f"not readable as CSV: {exc}"])
    rows = [r for r in rows if any(v.strip() for v in r)]
    if not rows:
        return Preview([], [], row_count=0 if complete else None, notes=["empty"])
    header, body = rows[0], rows[1:]
    notes = [f"{len(header)} columns; the first {PREVIEW_COLUMNS} are shown"] if len(header) > PREVIEW_COLUMNS else []
    shown = header[:PREVIEW_COLUMNS]
    sample = body[:TYPE_SAMPLE]
    columns = [
        Column(str(cell(name) or f"column {i + 1}"), infer_type([r[i] if i < len(r) else "" for r in sample]))
        for i, name in enumerate(shown)
    ]
    first = [[_typed(r[i] if i < len(r) else "", c.type) for i, c in enumerate(columns)] for r in body[:PREVIEW_ROWS]]
    delimiter = dialect.delimiter if dialect is not None else ","
    return Preview(columns, first, row_count=len(body) if complete else None, notes=notes, delimiter=delimiter)


def _typed(value: str, kind: str) -> Any:
    v = value.strip()
    if not v:
        return None
    if kind == "integer":
        return int(v)
    if kind == "number":
        return float(v)
    return cell(value)
