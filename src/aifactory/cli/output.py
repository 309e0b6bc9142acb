"""Everything the CLI prints: Rich tables and records for people, raw JSON for scripts, one-line errors.

Commands describe their columns once (:class:`Col`) and call :func:`show_page`, :func:`show_rows`,
:func:`show_record` or :func:`done`; with ``--json`` those print the API's JSON unchanged instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, JustifyMethod, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from .names import Kind
from .state import current

Row = Mapping[str, Any]
Getter = str | Callable[[Row], Any]

STATUS_STYLES = {
    "draft": "cyan",
    "submitted": "blue",
    "under_review": "magenta",
    "accepted": "green",
    "rejected": "red",
    "withdrawn": "dim",
    "active": "green",
    "expired": "dim",
    "exhausted": "yellow",
    "suspended": "red",
    "overdue": "bold red",
    "due_soon": "yellow",
    "on_track": "green",
    "decided": "dim",
    "not_submitted": "dim",
}


def stdout() -> Console:
    return Console(highlight=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def fmt(value: Any) -> str:
    """A JSON value for a table cell: ``–`` for none, lists joined, booleans as yes/no, times to the minute."""
    if value is None or value == [] or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items())
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        return value[:16].replace("T", " ")
    return str(value)


def dig(row: Row, key: str) -> Any:
    """``row["a"]["b"]`` for ``"a.b"``; None where a part is missing."""
    value: Any = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def status_style(value: Any) -> str | None:
    return STATUS_STYLES.get(str(value))


@dataclass(frozen=True)
class Col:
    """A column: header, where its value comes from (a dotted key or a function), an optional style
    chosen from the value (e.g. overdue in red), whether long values wrap (on spaces, never inside a word),
    and whether the column may be left out when the terminal is too narrow for all of them."""

    header: str
    get: Getter
    style: Callable[[Any], str | None] | None = None
    justify: JustifyMethod = "left"
    wrap: bool = False  # only long text wraps; ids, states, numbers and dates stay on one line
    optional: bool = False  # left out (rightmost first) when the columns do not fit the terminal
    names: Kind | None = None  # the id(s) it holds are of this kind: shown with their names (``3 Bakery``)

    def value(self, row: Row) -> Any:
        value = self.get(row) if callable(self.get) else dig(row, self.get)
        return value if self.names is None else named(self.names, value)

    def cell(self, row: Row) -> Text:
        value = self.value(row)
        return Text(fmt(value), style=(self.style(value) if self.style else None) or "")


def named(kind: Kind, value: Any) -> Any:
    """An id with its name where one is known (``3 Bakery``); each id of a list so; anything else as it is."""

    def one(v: Any) -> Any:
        name = current().name_of(kind, v) if isinstance(v, int) and not isinstance(v, bool) else None
        return f"{v} {name}" if name else v

    return [one(v) for v in value] if isinstance(value, list) else one(value)


def under(prefix: str, cols: Sequence[Col]) -> list[Col]:
    """The same columns, read from the nested object ``row[prefix]``."""
    return [replace(c, get=_nested(prefix, c)) for c in cols]


def _nested(prefix: str, col: Col) -> Callable[[Row], Any]:
    return lambda row: col.value(row.get(prefix) or {})


def _longest_word(text: Text) -> int:
    return max((cell_len(word) for word in text.plain.split()), default=0)


def _widest_line(text: Text) -> int:
    return max((cell_len(line) for line in text.plain.splitlines()), default=0)


@dataclass(frozen=True)
class Listing:
    """Rows as a table that fits the terminal it is printed on, without breaking a word: a wrapping column
    is never narrower than its longest word and the other columns keep their full width; when that is too
    wide, the optional columns are left out, and when it still is, each row is shown as a block of labelled
    lines. Only a single word wider than the terminal is folded."""

    rows: Sequence[Row]
    cols: Sequence[Col]
    title: str | None = None
    caption: str | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.render(options.max_width)

    def render(self, width: int) -> RenderableType:
        cells = [[c.cell(row) for c in self.cols] for row in self.rows]
        natural = [max([cell_len(c.header), *(_widest_line(r[i]) for r in cells)]) for i, c in enumerate(self.cols)]
        least = [
            max([cell_len(c.header), *(_longest_word(r[i]) for r in cells)]) if c.wrap else natural[i]
            for i, c in enumerate(self.cols)
        ]
        keep = list(range(len(self.cols)))
        while sum(least[i] for i in keep) + _chrome(len(keep)) > width:
            optional = [i for i in keep if self.cols[i].optional]
            if not optional:
                return self._stacked(cells)
            keep.remove(optional[-1])
        widths = _share(width - _chrome(len(keep)), [natural[i] for i in keep], [least[i] for i in keep])
        t = Table(
            title=self.title,
            caption=self.caption,
            box=box.SIMPLE_HEAD,
            padding=(0, 1, 0, 0),
            pad_edge=False,
            title_justify="left",
            caption_justify="left",
        )
        for i, w in zip(keep, widths, strict=True):
            c = self.cols[i]
            t.add_column(c.header, justify=c.justify, no_wrap=not c.wrap, overflow="fold", width=w)
        for row in cells:
            t.add_row(*[row[i] for i in keep])
        return t

    def _stacked(self, cells: Sequence[Sequence[Text]]) -> RenderableType:
        """Each row as labelled lines, for a terminal too narrow for the columns side by side."""
        parts: list[RenderableType] = [Text(self.title, style="italic")] if self.title else []
        for row in cells:
            parts += [Text(), _labelled([(c.header, cell) for c, cell in zip(self.cols, row, strict=True)])]
        if self.caption:
            parts += [Text(), Text(self.caption, style="dim")]
        return Group(*parts)


def _chrome(columns: int) -> int:
    """The width a table of ``columns`` columns takes besides their content: the two edges, and a divider
    plus one space of padding between neighbours."""
    return 2 * columns


def _share(room: int, natural: Sequence[int], least: Sequence[int]) -> list[int]:
    """Column widths within ``room``: each its natural width if they all fit; else each at least its
    ``least`` and the rest of the room shared in proportion to what each lacks of its natural width."""
    if sum(natural) <= room:
        return list(natural)
    spare, lacking = room - sum(least), [n - m for n, m in zip(natural, least, strict=True)]
    total = sum(lacking)
    widths = [m + spare * lack // total for m, lack in zip(least, lacking, strict=True)]
    for i in sorted(range(len(widths)), key=lambda i: -lacking[i])[: room - sum(widths)]:
        widths[i] += 1  # what the rounding down left over
    return widths


def table(
    rows: Iterable[Row],
    cols: Sequence[Col],
    *,
    title: str | None = None,
    caption: str | None = None,
) -> Listing:
    """A table of ``rows`` that fits the terminal (see :class:`Listing`)."""
    return Listing(list(rows), cols, title=title, caption=caption)


def _labelled(pairs: Sequence[tuple[str, Text]], title: str | None = None) -> Table:
    """Labelled values, one per line: the labels in bold, the values wrapping on spaces."""
    t = Table(show_header=False, title=title, title_justify="left", box=None, padding=(0, 2, 0, 0))
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    for label, value in pairs:
        t.add_row(label, value)
    return t


def record(obj: Row, fields: Sequence[Col], *, title: str | None = None) -> Table:
    """One object as a two-column table of labelled values."""
    return _labelled([(f.header, f.cell(obj)) for f in fields], title=title)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def emit(data: Any, *renderables: RenderableType | None) -> None:
    """``data`` as JSON under ``--json``, else the given renderables (None ones skipped)."""
    if current().json_output:
        print_json(data)
        return
    console = stdout()
    for r in renderables:
        if r is not None:  # text is never hard-wrapped, so commands and tokens in it stay copyable
            console.print(r, soft_wrap=isinstance(r, (str, Text)))


def page_caption(page: Row) -> str:
    n, total, offset = len(page["items"]), page["total"], page["offset"]
    if n == 0:
        return f"none of {total}" if total else "none"
    more = f" (more with --offset {offset + n})" if offset + n < total else ""
    return f"{offset + 1}–{offset + n} of {total}{more}"


def show_page(page: Row, cols: Sequence[Col], *, title: str) -> None:
    emit(page, table(page["items"], cols, title=title, caption=page_caption(page)))


def show_rows(
    rows: Sequence[Row], cols: Sequence[Col], *, title: str, extra: Sequence[RenderableType | None] = ()
) -> None:
    emit(rows, table(rows, cols, title=title, caption=None if rows else "none"), *extra)


def show_record(
    obj: Row,
    fields: Sequence[Col],
    *,
    title: str | None = None,
    extra: Sequence[RenderableType | None] = (),
) -> None:
    emit(obj, record(obj, fields, title=title), *extra)


def done(data: Any, message: str) -> None:
    """After a change: the answer as JSON under ``--json``, else a one-line confirmation."""
    emit(data, Text(message, style="green"))


def note(message: str, style: str = "yellow") -> None:
    """A remark for people (on stderr, so it never spoils ``--json`` output)."""
    stderr().print(Text(message, style=style), soft_wrap=True)


def error(message: str) -> None:
    stderr().print(Text(f"error: {message}", style="red"), soft_wrap=True)
