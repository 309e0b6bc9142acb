"""A chart as a page shows it: its SVG, legend and the same data as a table (the table is what a phone
shows instead of the drawing, and what a screen reader user can browse). Rendered by ``_chart.html``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    svg: Any  # Markup from charts.py / charts_time.py
    legend: list[tuple[int, str]]
    headers: list[str]
    rows: list[list[str]]
    csv: str | None = None  # the dimension of the CSV export, if any
