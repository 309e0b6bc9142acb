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
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from .state import current

Getter = str | Callable[[Mapping[str, Any]], Any]

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


def dig(row: Mapping[str, Any], key: str) -> Any:
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
    chosen from the value (e.g. overdue in red), and whether long values wrap."""

    header: str
    get: Getter
    style: Callable[[Any], str | None] | None = None
    justify: str = "left"
    wrap: bool = False  # only long text wraps; ids, states, numbers and dates stay on one line

    def value(self, row: Mapping[str, Any]) -> Any:
        return self.get(row) if callable(self.get) else dig(row, self.get)

    def cell(self, row: Mapping[str, Any]) -> Text:
        value = self.value(row)
        return Text(fmt(value), style=(self.style(value) if self.style else None) or "")


def under(prefix: str, cols: Sequence[Col]) -> list[Col]:
    """The same columns, read from the nested object ``row[prefix]``."""
    return [replace(c, get=lambda row, c=c: c.value(row.get(prefix) or {})) for c in cols]


def table(
    rows: Iterable[Mapping[str, Any]],
    cols: Sequence[Col],
    *,
    title: str | None = None,
    caption: str | None = None,
    **options: Any,
) -> Table:
    """A Rich table of ``rows``; ``options`` go to :class:`rich.table.Table` (e.g. ``box=None``)."""
    options = {
        "box": box.SIMPLE_HEAD,
        "padding": (0, 1, 0, 0),
        "pad_edge": False,
        "title_justify": "left",
        "caption_justify": "left",
    } | options
    t = Table(title=title, caption=caption, **options)
    for c in cols:
        t.add_column(
            c.header,
            justify=c.justify,
            no_wrap=not c.wrap,  # type: ignore[arg-type]
            overflow="fold" if c.wrap else "ellipsis",
            min_width=len(c.header),
        )
    for row in rows:
        t.add_row(*[c.cell(row) for c in cols])
    return t


def record(obj: Mapping[str, Any], fields: Sequence[Col], *, title: str | None = None) -> Table:
    """One object as a two-column table of labelled values."""
    t = Table(show_header=False, title=title, title_justify="left", box=None, padding=(0, 2, 0, 0))
    t.add_column(style="bold", no_wrap=True)
    t.add_column()
    for f in fields:
        t.add_row(f.header, f.cell(obj))
    return t


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


def page_caption(page: Mapping[str, Any]) -> str:
    n, total, offset = len(page["items"]), page["total"], page["offset"]
    if n == 0:
        return f"none of {total}" if total else "none"
    more = f" (more with --offset {offset + n})" if offset + n < total else ""
    return f"{offset + 1}–{offset + n} of {total}{more}"


def show_page(page: Mapping[str, Any], cols: Sequence[Col], *, title: str) -> None:
    emit(page, table(page["items"], cols, title=title, caption=page_caption(page)))


def show_rows(
    rows: Sequence[Mapping[str, Any]], cols: Sequence[Col], *, title: str, extra: Sequence[RenderableType | None] = ()
) -> None:
    emit(rows, table(rows, cols, title=title, caption=None if rows else "none"), *extra)


def show_record(
    obj: Mapping[str, Any],
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
