"""Which of a job's artifacts the portal shows inline, and how: an HTML report in a sandboxed frame, an image,
the first rows of a CSV or TSV file as a table; everything else (and anything too large) stays a download.

Pure rules (no I/O): the kind is decided from the file's name and size only; the table is parsed from the
first bytes of the file, bounded in bytes, rows, columns and cell length."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath


class PreviewKind(StrEnum):
    HTML = "html"  # a report: shown in a sandboxed frame (no scripts, no forms, an opaque origin)
    IMAGE = "image"  # png, jpeg, gif, webp, svg: an <img> (an SVG as an image never runs its scripts)
    TABLE = "table"  # csv, tsv: the first rows as an HTML table, rendered (escaped) by the portal itself
    DOWNLOAD = "download"  # everything else, and whatever is too large to show inline


HTML_TYPES = {".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8"}
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
TABLE_SEPARATORS = {".csv": None, ".tsv": "\t"}  # None: guessed from the header line (, ; | or tab)
MAX_HTML_BYTES = 16 << 20  # a larger report is a download: the bakery's, its chart inlined, is about 0.1 MiB
MAX_IMAGE_BYTES = 8 << 20
TABLE_HEAD_BYTES = 64 << 10  # a table preview reads at most this much from the start of the file, whatever its size
TABLE_ROWS = 20  # data rows shown (after the header)
TABLE_COLUMNS = 30
TABLE_CELL_CHARS = 200


@dataclass(frozen=True)
class Preview:
    kind: PreviewKind
    media_type: str = "application/octet-stream"  # what the file is served as when it is viewed (html, image)
    separator: str | None = None  # a table's, None: guessed

    @property
    def framed(self) -> bool:
        """Served from the viewing route (HTML and images); tables are rendered by the page itself."""
        return self.kind in (PreviewKind.HTML, PreviewKind.IMAGE)


DOWNLOAD_ONLY = Preview(PreviewKind.DOWNLOAD)


def preview_of(path: str, size: int) -> Preview:
    """How an artifact of this name and size is shown; case-insensitive on the suffix."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in HTML_TYPES:
        return Preview(PreviewKind.HTML, HTML_TYPES[suffix]) if size <= MAX_HTML_BYTES else DOWNLOAD_ONLY
    if suffix in IMAGE_TYPES:
        return Preview(PreviewKind.IMAGE, IMAGE_TYPES[suffix]) if size <= MAX_IMAGE_BYTES else DOWNLOAD_ONLY
    if suffix in TABLE_SEPARATORS:
        return Preview(PreviewKind.TABLE, "text/plain; charset=utf-8", TABLE_SEPARATORS[suffix])
    return DOWNLOAD_ONLY


@dataclass(frozen=True)
class TablePreview:
    header: list[str]
    rows: list[list[str]]
    more_rows: bool  # the file goes on past what is shown
    more_columns: bool  # some row has more columns than are shown

    @property
    def width(self) -> int:
        return max([len(self.header), *(len(r) for r in self.rows)])


def guess_separator(line: str) -> str:
    """The most frequent of comma, semicolon, tab and pipe in a header line (comma when none occurs)."""
    counts = {sep: line.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _cell(text: str) -> str:
    return text if len(text) <= TABLE_CELL_CHARS else text[: TABLE_CELL_CHARS - 1] + "…"


def _lines(data: bytes, whole: bool) -> tuple[str, bool]:
    """The text of the whole lines in ``data`` (a cut last line is dropped unless ``data`` is the whole file),
    and whether anything was dropped."""
    if not whole:
        cut = data.rfind(b"\n")
        if cut >= 0:
            data = data[: cut + 1]
    text = data.decode("utf-8-sig", errors="replace").replace("\x00", "")
    return text, not whole


def parse_table(data: bytes, separator: str | None, *, whole: bool) -> TablePreview:
    """The first rows of a CSV/TSV text (``data``: the start of the file; ``whole``: it is all of it). Never
    raises on malformed input: a quoting error shows the rows parsed so far."""
    text, cut = _lines(data[:TABLE_HEAD_BYTES], whole and len(data) <= TABLE_HEAD_BYTES)
    sep = separator or guess_separator(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    parsed: list[list[str]] = []
    try:
        for row in reader:
            if row:
                parsed.append(row)
            if len(parsed) > TABLE_ROWS + 1:
                break
    except csv.Error:
        cut = True
    header, body = (parsed[0], parsed[1:]) if parsed else ([], [])
    more_rows = cut or len(body) > TABLE_ROWS
    body = body[:TABLE_ROWS]
    more_columns = any(len(r) > TABLE_COLUMNS for r in [header, *body])
    return TablePreview(
        header=[_cell(c) for c in header[:TABLE_COLUMNS]],
        rows=[[_cell(c) for c in r[:TABLE_COLUMNS]] for r in body],
        more_rows=more_rows,
        more_columns=more_columns,
    )
