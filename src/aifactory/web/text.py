"""A safe subset of Markdown for catalog texts: headings, paragraphs, bullet lists, **bold**, `code`.
Everything is escaped first; no raw HTML passes."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    out = str(escape(text))
    out = _CODE.sub(r"<code>\1</code>", out)
    return _BOLD.sub(r"<strong>\1</strong>", out)


def _table_row(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _is_bullet(line: str) -> bool:
    return line.lstrip().startswith(("- ", "* "))


def _is_table(line: str) -> bool:
    return line.lstrip().startswith("|")


def _is_rule(line: str) -> bool:
    """A table's separator row (``|---|:-:|``): only pipes, dashes, colons and spaces."""
    return set(line.replace("|", "").strip()) <= set("-: ")


def _table(lines: list[str]) -> str:
    rows = [_table_row(line) for line in lines if not _is_rule(line)]
    if not rows:
        return ""  # separators only (e.g. ``|---|``): nothing to show
    head, body = rows[0], rows[1:]
    return (
        '<div class="table-wrap"><table><thead><tr>'
        + "".join(f"<th>{_inline(c)}</th>" for c in head)
        + "</tr></thead><tbody>"
        + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in body)
        + "</tbody></table></div>"
    )


def _block(lines: list[str], i: int) -> tuple[str, int]:
    """The HTML of the block starting at line ``i`` and the index after it; every block takes at least
    one line, so any text renders in one pass."""
    line = lines[i].rstrip()
    if line.startswith("#"):
        level = min(len(line) - len(line.lstrip("#")) + 1, 4)
        return f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>", i + 1
    kinds = {"ul": _is_bullet, "table": _is_table}
    for kind, test in kinds.items():
        if test(lines[i]):
            end = i + 1
            while end < len(lines) and test(lines[end]):
                end += 1
            if kind == "table":
                return _table(lines[i:end]), end
            items = "".join(f"<li>{_inline(x.strip()[2:])}</li>" for x in lines[i:end])
            return f"<ul>{items}</ul>", end
    end = i + 1
    while (
        end < len(lines)
        and lines[end].strip()
        and not (lines[end].startswith("#") or _is_table(lines[end]) or _is_bullet(lines[end]))
    ):
        end += 1
    return f"<p>{_inline(' '.join(x.strip() for x in lines[i:end]))}</p>", end


def markdown(source: str) -> Markup:
    html: list[str] = []
    lines = (source or "").splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block, i = _block(lines, i)
        html.append(block)
    return Markup("\n".join(b for b in html if b))
