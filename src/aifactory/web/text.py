"""Markdown for catalog texts, stories and call descriptions: CommonMark (markdown-it-py, tables and
strikethrough on, raw HTML and linkify off), then the nh3 allow-list sanitizer as a second wall. Headings move
one level down (the page has its own ``<h1>``); tables are wrapped so that they scroll on a phone; links keep
only ``http``, ``https`` and ``mailto`` targets and get ``rel="noopener nofollow"``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markupsafe import Markup

MAX_SOURCE = 100_000  # characters rendered; a longer text is cut (stored bodies have at most 20,000)
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
TAGS = frozenset(
    {"p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "del", "s", "code", "pre", "blockquote"}
    | {"a", "hr", "br", "div", "table", "thead", "tbody", "tr", "th", "td"}
)
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
CLASSES = {"div": {"table-wrap"}}


def _table_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return '<div class="table-wrap"><table>\n'


def _table_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return "</table></div>\n"


def _image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image shows as its alt text: the portal loads nothing from other hosts."""
    return escapeHtml(tokens[idx].content)


def _safe_link(url: str) -> bool:
    """A link (or autolink) is made only with an allowed scheme; any other stays text, never an ``<a>``."""
    scheme, sep, _ = url.partition(":")
    return bool(sep) and scheme.strip().lower() in LINK_SCHEMES


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.enable(["table", "strikethrough"])
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", _table_close)
    md.add_render_rule("image", _image)
    return md


def _demote_headings(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1:]) + 1, 6)}"


def _keep_link(tag: str, attr: str, value: str) -> str | None:
    """nh3's attribute filter: a link's target only with an allowed scheme (no relative or odd ones)."""
    if tag == "a" and attr == "href":
        return value if _safe_link(value) else None
    return value


def sanitize(html: str) -> str:
    """The allow-list: only the tags Markdown makes, links with safe schemes, nothing executable."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        allowed_classes={k: set(v) for k, v in CLASSES.items()},
        attribute_filter=_keep_link,
        url_schemes=set(LINK_SCHEMES),
        link_rel="noopener nofollow",
        strip_comments=True,
    )


@lru_cache(maxsize=256)
def _render(source: str) -> str:
    """Rendered once per text (bodies are shown again and again; a long one costs a good part of a second)."""
    md = _parser()
    tokens = md.parse(source)
    _demote_headings(tokens)
    return sanitize(md.renderer.render(tokens, md.options, {})).strip()


def markdown(source: str | None) -> Markup:
    return Markup(_render((source or "")[:MAX_SOURCE]))
