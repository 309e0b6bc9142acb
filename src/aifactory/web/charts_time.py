"""A step chart on a real time axis (an allocation's burn-down): the x-axis runs from the first to the last
day of a period, whatever the data, so that day one shows the whole period with the grant across it and
today's state as a dot, and later days sit where they belong in time (not evenly spaced like categories).

Same conventions as :mod:`aifactory.web.charts` (CSP-safe SVG, escaped text, ``role="img"`` with a title and a
description, ``PALETTE`` colours matching the ``sw-i`` legend swatches)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup

from .charts import (
    EMPTY_HEIGHT,
    FONT_SIZE,
    GRID,
    MAX_MARKERS,
    PALETTE,
    TEXT,
    _check,
    _esc,
    _grid,
    _n,
    _svg,
    empty_chart,
    fmt_number,
    nice_ticks,
)
from .formats import date_text
from .i18n import Translator

MAX_DATE_LABELS = 6


@dataclass(frozen=True)
class Steps:
    """A value that changes on some days and holds in between, drawn from its first day to ``until``."""

    name: str
    points: list[tuple[date, float]]  # ascending days; the value from that day on
    until: date


def date_ticks(start: date, end: date, count: int = MAX_DATE_LABELS) -> list[date]:
    """At most ``count`` days from ``start`` to ``end`` (both included), evenly spread, no repeats."""
    span = max(0, (end - start).days)
    count = max(2, min(count, span + 1))
    days = sorted({round(i * span / (count - 1)) for i in range(count)})
    return [start + timedelta(days=d) for d in days]


def _clamp(day: date, start: date, end: date) -> date:
    return min(max(day, start), end)


def _path(s: Steps, start: date, end: date) -> list[tuple[date, float]]:
    """The series' corners inside the period: each change, then its last value carried to ``until``."""
    pts: list[tuple[date, float]] = []
    for day, value in s.points:
        day = _clamp(day, start, end)
        if pts and pts[-1][0] == day:
            pts[-1] = (day, value)  # several changes before the period starts: the last one counts
        else:
            pts.append((day, value))
    until = _clamp(s.until, start, end)
    if pts and pts[-1][0] < until:
        pts.append((until, pts[-1][1]))
    return pts


def _describe(title: str, series: list[Steps], unit: str, start: date, end: date, lang: str) -> str:
    t = Translator(lang).gettext
    parts = [f"{title}, {date_text(start, lang)} – {date_text(end, lang)}."]
    for s in series:
        if s.points:
            day, value = s.points[-1]
            amount = f"{fmt_number(value, lang)} {unit}".rstrip()
            parts.append(
                t("%(name)s: %(amount)s on %(day)s.", name=s.name, amount=amount, day=date_text(max(day, start), lang))
            )
    return " ".join(parts)


def _x_axis(ticks: list[date], x: dict[date, float], y1: float, lang: str) -> list[str]:
    out = [f'<g fill="{TEXT}" font-size="{FONT_SIZE}" text-anchor="middle" class="chart-labels">']
    out += [f'<text x="{_n(x[d])}" y="{_n(y1 + 16)}">{date_text(d, lang)}</text>' for d in ticks]
    out.append("</g>")
    return out


def _today_marker(at: float, label: str, box: tuple[float, float, float, float]) -> str:
    """A dashed line at today, its label beside it on the side with room."""
    x0, y0, x1, y1 = box
    lx, anchor = (at - 5, "end") if at > (x0 + x1) / 2 else (at + 5, "start")
    return (
        f'<g class="chart-today"><line x1="{_n(at)}" y1="{_n(y0)}" x2="{_n(at)}" y2="{_n(y1)}" stroke="{GRID}" '
        f'stroke-width="2" stroke-dasharray="4 3"/><text x="{_n(lx)}" y="{_n(y1 - 8)}" fill="{TEXT}" '
        f'font-size="{FONT_SIZE}" text-anchor="{anchor}">{_esc(label)}</text></g>'
    )


def step_time_chart(
    series: list[Steps],
    *,
    start: date,
    end: date,
    id: str,
    title: str,
    unit: str = "",
    today: tuple[date, str] | None = None,
    min_top: float = 0.0,
    empty: str = "No data",
    width: int = 880,
    height: int = 260,
    lang: str = "en",
) -> Markup:
    """Staircases over ``start``..``end``; ``today`` (a day and its label) draws a dashed marker line."""
    _check(id, [], [])
    if end < start or not any(s.points for s in series):
        return empty_chart(id, title, width, min(height, EMPTY_HEIGHT), empty)
    paths = [_path(s, start, end) for s in series]
    peak = max((v for p in paths for _, v in p), default=0.0)
    ticks = nice_ticks(max(peak, min_top))
    x0, y0, x1, y1 = 56.0, 20.0, width - 40.0, height - 36.0
    span = max(1, (end - start).days)

    def x(day: date) -> float:
        return x0 + (day - start).days / span * (x1 - x0)

    def y(value: float) -> float:
        return y1 - max(0.0, value) / ticks[-1] * (y1 - y0)

    out = _grid(ticks, unit, (x0, y0, x1, y1), False, lang)
    if today is not None and start <= today[0] <= end:
        out.append(_today_marker(x(today[0]), today[1], (x0, y0, x1, y1)))
    for si, (s, pts) in enumerate(zip(series, paths, strict=True)):
        if not pts:
            continue
        color = PALETTE[si % len(PALETTE)]
        corners = [f"{_n(x(pts[0][0]))},{_n(y(pts[0][1]))}"]
        for (_, prev), (day, value) in zip(pts, pts[1:], strict=False):
            corners += [f"{_n(x(day))},{_n(y(prev))}", f"{_n(x(day))},{_n(y(value))}"]
        out.append(
            f'<g><polyline data-series="{_esc(s.name)}" fill="none" stroke="{color}" stroke-width="2" '
            f'stroke-linejoin="round" points="{" ".join(corners)}"/><g fill="{color}">'
        )
        shown = pts if len(pts) <= MAX_MARKERS else pts[-1:]
        for day, value in shown:
            tip = _esc(f"{date_text(day, lang)} — {s.name}: {fmt_number(value, lang)} {unit}".rstrip())
            out.append(f'<circle cx="{_n(x(day))}" cy="{_n(y(value))}" r="3"><title>{tip}</title></circle>')
        out.append("</g></g>")
    axis = date_ticks(start, end)
    out += _x_axis(axis, {d: x(d) for d in axis}, y1, lang)
    return _svg(id, title, _describe(title, series, unit, start, end, lang), width, height, out)
