"""Which artifacts the portal shows inline and how (by name and size only), and the bounded table preview."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifactory.domain.jobs.previews import (
    MAX_HTML_BYTES,
    MAX_IMAGE_BYTES,
    TABLE_CELL_CHARS,
    TABLE_COLUMNS,
    TABLE_HEAD_BYTES,
    TABLE_ROWS,
    PreviewKind,
    guess_separator,
    parse_table,
    preview_of,
)

# path | kind | served as (an .xhtml is parsed by XML rules: not shown; a dotfile ".png" has no suffix)
SUFFIXES = """
report.html      | html     | text/html; charset=utf-8
out/REPORT.HTM   | html     | text/html; charset=utf-8
chart.png        | image    | image/png
a/b/photo.JPG    | image    | image/jpeg
x.jpeg           | image    | image/jpeg
anim.gif         | image    | image/gif
pic.webp         | image    | image/webp
plot.svg         | image    | image/svg+xml
sales.csv        | table    | text/plain; charset=utf-8
sales.TSV        | table    | text/plain; charset=utf-8
model.pkl        | download | application/octet-stream
report.html.txt  | download | application/octet-stream
page.xhtml       | download | application/octet-stream
html             | download | application/octet-stream
.png             | download | application/octet-stream
"""
CASES = [tuple(cell.strip() for cell in line.split("|")) for line in SUFFIXES.strip().splitlines()]


@pytest.mark.parametrize("path, kind, media", CASES)
def test_the_kind_follows_the_suffix(path: str, kind: str, media: str) -> None:
    preview = preview_of(path, 100)
    assert (preview.kind, preview.media_type) == (PreviewKind(kind), media)
    assert preview.framed == (kind in ("html", "image"))


def test_large_reports_and_images_are_downloads_and_tables_are_previewed_whatever_their_size() -> None:
    assert preview_of("r.html", MAX_HTML_BYTES).kind is PreviewKind.HTML
    assert preview_of("r.html", MAX_HTML_BYTES + 1).kind is PreviewKind.DOWNLOAD
    assert preview_of("c.png", MAX_IMAGE_BYTES).kind is PreviewKind.IMAGE
    assert preview_of("c.svg", MAX_IMAGE_BYTES + 1).kind is PreviewKind.DOWNLOAD
    assert preview_of("big.csv", 50 << 30).kind is PreviewKind.TABLE  # only its first bytes are read
    assert preview_of("t.tsv", 1).separator == "\t" and preview_of("t.csv", 1).separator is None


@pytest.mark.parametrize(
    "line, sep", [("a,b,c", ","), ("a;b;c", ";"), ("a\tb", "\t"), ("a|b|c", "|"), ("single", ","), ("a;b,c;d", ";")]
)
def test_the_separator_of_a_csv_is_the_most_frequent_one_in_its_header(line: str, sep: str) -> None:
    assert guess_separator(line) == sep


def test_a_table_preview_keeps_quoting_a_bom_and_the_german_separator() -> None:
    data = '\ufeffTag;Stück;Notiz\n2024-01-02;120;"mit ""Zitat""; und Semikolon"\n2024-01-03;80;"zwei\nZeilen"\n'
    table = parse_table(data.encode(), None, whole=True)
    assert table.header == ["Tag", "Stück", "Notiz"]
    assert table.rows == [["2024-01-02", "120", 'mit "Zitat"; und Semikolon'], ["2024-01-03", "80", "zwei\nZeilen"]]
    assert not table.more_rows and not table.more_columns and table.width == 3


def test_a_table_preview_is_bounded_in_rows_columns_and_cells() -> None:
    many = parse_table(("n\n" + "".join(f"{i}\n" for i in range(100))).encode(), ",", whole=True)
    assert [r[0] for r in many.rows] == [str(i) for i in range(TABLE_ROWS)] and many.more_rows
    wide = ",".join(f"c{i}" for i in range(TABLE_COLUMNS + 5))
    rows = "".join(",".join(["x" * (TABLE_CELL_CHARS + 50)] * (TABLE_COLUMNS + 5)) + "\n" for _ in range(3))
    table = parse_table((wide + "\n" + rows).encode(), ",", whole=True)
    assert len(table.header) == TABLE_COLUMNS and len(table.rows) == 3
    assert all(len(r) == TABLE_COLUMNS for r in table.rows)
    assert all(len(c) == TABLE_CELL_CHARS and c.endswith("…") for c in table.rows[0])
    assert table.more_columns and not table.more_rows
    long_rows = "".join(",".join(["y" * 1000] * 10) + "\n" for _ in range(30))  # 10 kB a row
    bytes_bound = parse_table(("a\n" + long_rows).encode(), ",", whole=True)
    assert len(bytes_bound.rows) == TABLE_HEAD_BYTES // 10_010 and bytes_bound.more_rows  # what 64 KiB hold


def test_only_the_head_is_read_and_a_line_cut_there_is_dropped() -> None:
    head = ("n,v\n" + "".join(f"{i},{i}\n" for i in range(5))).encode()
    cut = head + b"5,12345"  # the file goes on: the last line is cut
    table = parse_table(cut, ",", whole=False)
    assert [r[0] for r in table.rows] == ["0", "1", "2", "3", "4"] and table.more_rows
    assert parse_table(head, ",", whole=True).more_rows is False
    big = b"a,b\n" + b"1,2\n" * (TABLE_HEAD_BYTES // 4 + 10)
    assert parse_table(big, ",", whole=True).more_rows  # past the head: never read as a whole file


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from([None, ",", "\t"]), st.booleans())
def test_any_bytes_give_a_bounded_preview_and_never_an_error(data: bytes, sep: str | None, whole: bool) -> None:
    table = parse_table(data, sep, whole=whole)
    assert len(table.rows) <= TABLE_ROWS and len(table.header) <= TABLE_COLUMNS
    assert all(len(c) <= TABLE_CELL_CHARS for r in [table.header, *table.rows] for c in r)
    assert all("\x00" not in c for r in [table.header, *table.rows] for c in r)


def test_an_empty_file_is_an_empty_table() -> None:
    table = parse_table(b"", None, whole=True)
    assert (table.header, table.rows, table.more_rows, table.width) == ([], [], False, 0)
