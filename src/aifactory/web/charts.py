"""Pure, dependency-free server-side SVG charts for the portal (bar and line), embedded by the Jinja2 templates.

CSP-safe: no ``style=`` attributes, no scripts, no external references; only SVG presentation attributes.
Every text-like value is escaped with ``markupsafe.escape``. The root ``<svg>`` has ``role="img"`` and
``aria-labelledby`` pointing at its ``<title>``/``<desc>`` (ids prefixed with the caller's ``id``), and only a
``viewBox`` (no width/height) so CSS scales it. Series ``i`` is drawn in ``PALETTE[i % 8]``, which matches the
CSS class ``sw-i`` of the legend swatches the templates render from :func:`legend`. Values are drawn from 0 up;
negative values are drawn as 0 (they still appear, as given, in the hover titles and the description).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from babel.numbers import get_decimal_symbol, get_group_symbol
from markupsafe import Markup, escape

from .i18n import Translator

PALETTE = ["#0b5394", "#a04a00", "#1f6f3a", "#6b3fa0", "#a3262a", "#00727a", "#5b6470", "#8a5a00"]
TEXT = "#1b2430"
GRID = "#d5dbe3"
FONT_SIZE = 11
CHAR_W = 6.5  # approximate width of one character at FONT_SIZE, for truncation
MAX_X_LABELS = 12
MAX_MARKERS = 40
EMPTY_HEIGHT = 120  # a chart with nothing to draw is a short box with its message
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]  # one per x label; None not allowed (use 0)


def legend(series: list[Series]) -> list[tuple[int, str]]:
    """(palette index, name) per series, for the template's legend (``sw-{index}`` swatches)."""
    return [(i % len(PALETTE), s.name) for i, s in enumerate(series)]


def fmt_number(value: float, lang: str = "en") -> str:
    """Thousands separators and sensible decimals: 1234 -> '1,234', 12.5 -> '12.5', 0.125 -> '0.13'; in the
    separators of ``lang`` (German: '1.234', '12,5')."""
    text = _fmt_en(value)
    if lang == "en":
        return text
    group, point = get_group_symbol(lang), get_decimal_symbol(lang)
    return "".join(group if c == "," else point if c == "." else c for c in text)


def _fmt_en(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    size = abs(value)
    decimals = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 0.01 else 4
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def nice_ticks(peak: float, count: int = 5) -> list[float]:
    """Ticks 0, s, 2s, ... up to the first multiple of s >= peak, with s = 1, 2 or 5 x 10^k."""
    if not peak > 0 or not math.isfinite(peak):
        return [0.0, 1.0]
    raw = peak / count
    exp = math.floor(math.log10(raw))
    frac = raw / 10**exp
    step = (1 if frac <= 1 else 2 if frac <= 2 else 5 if frac <= 5 else 10) * 10**exp
    steps = max(1, math.ceil(peak / step - 1e-9))
    return [round(i * step, 12) for i in range(steps + 1)]


def _n(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _esc(text: object) -> str:
    return str(escape(text))


def _truncate(label: str, max_chars: int) -> str:
    max_chars = max(2, max_chars)
    return label if len(label) <= max_chars else label[: max_chars - 1] + "…"


def _with_unit(value: float, unit: str, lang: str = "en") -> str:
    return f"{fmt_number(value, lang)} {unit}" if unit else fmt_number(value, lang)


def _tip(label: str, name: str, value: float, unit: str, lang: str = "en") -> str:
    return f"<title>{_esc(f'{label} — {name}: {_with_unit(value, unit, lang)}')}</title>"


def _check(id: str, labels: list[str], series: list[Series]) -> None:
    if not isinstance(id, str) or not _ID_RE.match(id):
        raise ValueError(f"chart id must match {_ID_RE.pattern}: {id!r}")
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(labels)} labels")
        for v in s.values:
            if v is None or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"series {s.name!r} has a non-numeric value {v!r} (use 0)")


def _describe(title: str, labels: list[str], series: list[Series], unit: str, lang: str = "en") -> str:
    """The data in words, for screen readers: every value when few labels, otherwise totals and peaks."""
    parts = [f"{title}."]
    for s in series:
        if len(labels) <= 6:
            items = ", ".join(f"{lab} {_with_unit(v, unit, lang)}" for lab, v in zip(labels, s.values, strict=False))
            parts.append(f"{s.name}: {items}.")
        else:
            peak = max(range(len(labels)), key=lambda i: s.values[i])
            t = Translator(lang).gettext
            parts.append(
                t(
                    "%(name)s: total %(total)s over %(n)s points, highest %(peak)s at %(label)s.",
                    name=s.name,
                    total=_with_unit(sum(s.values), unit, lang),
                    n=len(labels),
                    peak=_with_unit(s.values[peak], unit, lang),
                    label=labels[peak],
                )
            )
    return " ".join(parts)


def _svg(id: str, title: str, desc: str, width: int, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {int(width)} {int(height)}" role="img" '
        f'aria-labelledby="{id}-title {id}-desc" font-family="sans-serif" class="chart-svg">'
        f'<title id="{id}-title">{_esc(title)}</title><desc id="{id}-desc">{_esc(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def empty_chart(id: str, title: str, width: int, height: int, message: str = "No data") -> Markup:
    """A chart with nothing to draw says so, in words (``message``, translated by the caller)."""
    text = (
        f'<text x="{_n(width / 2)}" y="{_n(height / 2)}" fill="{TEXT}" font-size="{FONT_SIZE + 2}" '
        f'text-anchor="middle" class="chart-empty">{_esc(message)}</text>'
    )
    return _svg(id, title, f"{title}. {message.rstrip('.')}.", width, height, [text])


def _nothing(labels: list[str], series: list[Series], zero_is_empty: bool) -> bool:
    if not labels or not series:
        return True
    return zero_is_empty and all(v <= 0 for s in series for v in s.values)


def _grid(
    ticks: list[float], unit: str, box: tuple[float, float, float, float], horizontal: bool, lang: str = "en"
) -> list[str]:
    """Gridlines and tick labels of the value axis (y for vertical charts, x for horizontal bars)."""
    x0, y0, x1, y1 = box
    lines = [f'<g stroke="{GRID}" stroke-width="1">']
    texts = [f'<g fill="{TEXT}" font-size="{FONT_SIZE}" text-anchor="{"middle" if horizontal else "end"}">']
    for t in ticks:
        if horizontal:
            p = x0 + t / ticks[-1] * (x1 - x0)
            lines.append(f'<line x1="{_n(p)}" y1="{_n(y0)}" x2="{_n(p)}" y2="{_n(y1)}"/>')
            texts.append(f'<text x="{_n(p)}" y="{_n(y1 + 16)}">{_esc(fmt_number(t, lang))}</text>')
        else:
            p = y1 - t / ticks[-1] * (y1 - y0)
            lines.append(f'<line x1="{_n(x0)}" y1="{_n(p)}" x2="{_n(x1)}" y2="{_n(p)}"/>')
            texts.append(f'<text x="{_n(x0 - 6)}" y="{_n(p + 4)}">{_esc(fmt_number(t, lang))}</text>')
    lines.append("</g>")
    texts.append("</g>")
    base = (
        f'<line x1="{_n(x0)}" y1="{_n(y0)}" x2="{_n(x0)}" y2="{_n(y1)}"'
        if horizontal
        else f'<line x1="{_n(x0)}" y1="{_n(y1)}" x2="{_n(x1)}" y2="{_n(y1)}"'
    )
    out = lines + texts + [base + f' stroke="{TEXT}" stroke-width="1"/>']
    if unit:
        ux, uy, anchor = (x1, y1 + 30, "end") if horizontal else (4, y0 - 8, "start")
        out.append(
            f'<text x="{_n(ux)}" y="{_n(uy)}" fill="{TEXT}" font-size="{FONT_SIZE}" '
            f'text-anchor="{anchor}">{_esc(unit)}</text>'
        )
    return out


def _category_labels(
    labels: list[str], pos: list[float], fixed: float, horizontal: bool, chars: int, stride: int
) -> list[str]:
    """Every ``stride``-th category label, truncated with "…" to ``chars`` (full text in a <title>)."""
    anchor = "end" if horizontal else "middle"
    out = [f'<g fill="{TEXT}" font-size="{FONT_SIZE}" text-anchor="{anchor}" class="chart-labels">']
    for i in range(0, len(labels), stride):
        x, y = (fixed, pos[i] + 4) if horizontal else (pos[i], fixed)
        short = _truncate(labels[i], chars)
        full = f"<title>{_esc(labels[i])}</title>" if short != labels[i] else ""
        out.append(f'<text x="{_n(x)}" y="{_n(y)}">{_esc(short)}{full}</text>')
    out.append("</g>")
    return out


def _rect(x: float, y: float, w: float, h: float, tip: str) -> str:
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}">{tip}</rect>'


def _bars(
    labels: list[str],
    series: list[Series],
    unit: str,
    stacked: bool,
    horizontal: bool,
    ticks: list[float],
    width: int,
    height: int,
    lang: str = "en",
) -> list[str]:
    n, k = len(labels), len(series)
    top_label = CHAR_W * len(fmt_number(ticks[-1], lang))  # the widest tick label ("1.000.000") must fit
    if horizontal:
        longest = max(len(lab) for lab in labels)
        left = min(max(60.0, 12 + CHAR_W * longest), width * 0.4)
        box = (left, 12.0, width - max(16.0, top_label / 2 + 4), height - 36.0)
    else:
        box = (max(56.0, top_label + 10), 20.0, width - 12.0, height - 36.0)
    x0, y0, x1, y1 = box
    length = (x1 - x0) if horizontal else (y1 - y0)
    scale = length / ticks[-1]
    band = ((y1 - y0) if horizontal else (x1 - x0)) / n
    thick = band * 0.6 if stacked else band * 0.8 / k
    offset = (band - (thick if stacked else band * 0.8)) / 2
    out = _grid(ticks, unit, box, horizontal, lang)
    base = [0.0] * n
    for si, s in enumerate(series):
        rects = []
        for i, v in enumerate(s.values):
            size = max(0.0, float(v)) * scale
            start = base[i] * scale if stacked else 0.0
            across = (y0 if horizontal else x0) + band * i + offset + (0 if stacked else si * thick)
            tip = _tip(labels[i], s.name, v, unit, lang)
            if horizontal:
                rects.append(_rect(x0 + start, across, size, thick, tip))
            else:
                rects.append(_rect(across, y1 - start - size, thick, size, tip))
            base[i] += max(0.0, float(v))
        color = PALETTE[si % len(PALETTE)]
        out.append(f'<g data-series="{_esc(s.name)}" fill="{color}">{"".join(rects)}</g>')
    centers = [(y0 if horizontal else x0) + band * (i + 0.5) for i in range(n)]
    if horizontal:
        room = max(1, int((y1 - y0) // (FONT_SIZE + 2)))  # label rows that fit without overlapping
        out += _category_labels(labels, centers, x0 - 6, True, int((x0 - 12) // CHAR_W), math.ceil(n / room))
    else:
        stride = max(1, math.ceil(n / MAX_X_LABELS))
        out += _category_labels(labels, centers, y1 + 16, False, int(band * stride // CHAR_W), stride)
    return out


def bar_chart(
    labels: list[str],
    series: list[Series],
    *,
    id: str,
    title: str,
    unit: str = "",
    stacked: bool = False,
    horizontal: bool = False,
    width: int = 640,
    height: int = 280,
    min_top: float = 0.0,
    empty: str = "No data",
    zero_is_empty: bool = False,
    lang: str = "en",
) -> Markup:
    """Grouped bars (one group per label, one bar per series); ``stacked`` stacks the series,
    ``horizontal`` draws horizontal bars with the labels on the y-axis (good for long category names).
    Numbers are written in ``lang``'s style. The value axis reaches at least ``min_top``; with nothing to draw
    (or only zeros, if ``zero_is_empty``) the chart shows ``empty``."""
    _check(id, labels, series)
    if _nothing(labels, series, zero_is_empty):
        return empty_chart(id, title, width, min(height, EMPTY_HEIGHT), empty)
    if stacked:
        peak = max(sum(max(0.0, s.values[i]) for s in series) for i in range(len(labels)))
    else:
        peak = max(max(s.values) for s in series)
    body = _bars(labels, series, unit, stacked, horizontal, nice_ticks(max(peak, min_top)), width, height, lang)
    return _svg(id, title, _describe(title, labels, series, unit, lang), width, height, body)


def line_chart(
    labels: list[str],
    series: list[Series],
    *,
    id: str,
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 280,
    step: bool = False,
    min_top: float = 0.0,
    empty: str = "No data",
    zero_is_empty: bool = False,
    lang: str = "en",
) -> Markup:
    """One polyline per series (one point per label; ``step`` draws a staircase instead), circle markers
    with hover titles when there are at most 40 points, x labels thinned to at most 12. ``min_top``,
    ``empty`` and ``zero_is_empty`` as for :func:`bar_chart`."""
    _check(id, labels, series)
    if _nothing(labels, series, zero_is_empty):
        return empty_chart(id, title, width, min(height, EMPTY_HEIGHT), empty)
    ticks = nice_ticks(max(max(max(s.values) for s in series), min_top))
    box = (56.0, 20.0, width - 30.0, height - 36.0)  # room for the last x label, centred on its point
    x0, y0, x1, y1 = box
    n = len(labels)
    xs = [x0 + (x1 - x0) / 2] if n == 1 else [x0 + i * (x1 - x0) / (n - 1) for i in range(n)]
    out = _grid(ticks, unit, box, False, lang)
    for si, s in enumerate(series):
        ys = [y1 - max(0.0, float(v)) / ticks[-1] * (y1 - y0) for v in s.values]
        pts = []
        for i in range(n):
            if step and i:
                pts.append(f"{_n(xs[i])},{_n(ys[i - 1])}")
            pts.append(f"{_n(xs[i])},{_n(ys[i])}")
        color = PALETTE[si % len(PALETTE)]
        name = _esc(s.name)
        line_tip = "" if n <= MAX_MARKERS else f"<title>{_esc(_describe(s.name, labels, [s], unit, lang))}</title>"
        out.append(
            f'<g><polyline data-series="{name}" fill="none" stroke="{color}" stroke-width="2" '
            f'stroke-linejoin="round" points="{" ".join(pts)}">{line_tip}</polyline>'
        )
        if n <= MAX_MARKERS:
            out.append(f'<g fill="{color}">')
            out += [
                f'<circle cx="{_n(xs[i])}" cy="{_n(ys[i])}" r="3">{_tip(labels[i], s.name, v, unit, lang)}</circle>'
                for i, v in enumerate(s.values)
            ]
            out.append("</g>")
        out.append("</g>")
    spacing = (x1 - x0) / max(1, n - 1)
    fit = math.ceil((CHAR_W * max(len(lab) for lab in labels) + 6) / spacing)  # labels must not overlap
    stride = max(1, math.ceil(n / MAX_X_LABELS), min(fit, math.ceil(n / 4)))
    out += _category_labels(labels, xs, y1 + 16, False, int(spacing * stride // CHAR_W), stride)
    return _svg(id, title, _describe(title, labels, series, unit, lang), width, height, out)
