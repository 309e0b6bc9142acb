"""The KPI dashboard for funders and operators (headline figures, charts with their data tables, a period
filter) and its CSV export. Every figure comes from ``services.reports`` (SQL aggregates); nothing here
loads rows one by one."""

from __future__ import annotations

import csv
import io
import threading
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.errors import InvalidInput
from ...domain.reports import Dimension
from ...services import reports
from ..cache import per_app
from ..charts import Series, bar_chart, legend, line_chart
from ..forms import field_errors
from ..render import finish, render
from ..viewer import Viewer
from .operator import Operator

router = APIRouter()
CHART_DIMENSIONS = ("sector", "org_kind", "access_mode", "month")
CSV_DIMENSIONS = tuple(d.value for d in Dimension) + ("utilization",)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CACHE_SECONDS = 30


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    svg: Any  # Markup from charts.py
    legend: list[tuple[int, str]]
    headers: list[str]
    rows: list[list[str]]
    csv: str | None = None  # the dimension of the CSV export, if any


def default_period(viewer: Viewer) -> tuple[str, str]:
    """The last twelve months, this one included."""
    today = viewer.ctx.clock.now().date()
    y, m = (today.year - 1, today.month + 1) if today.month < 12 else (today.year, 1)
    return f"{y:04d}-{m:02d}", f"{today:%Y-%m}"


def read_period(viewer: Viewer, start: str | None, end: str | None) -> tuple[str, str]:
    """The period asked for (blank: the default), or InvalidInput naming ``start`` / ``end``."""
    first, last = default_period(viewer)
    start, end = (start or "").strip()[:20] or first, (end or "").strip()[:20] or last
    reports.check_period(start, end)
    return start, end


def _months(start: str, end: str) -> list[str]:
    out: list[str] = []
    y, m = int(start[:4]), int(start[5:])
    while (y, m) <= (int(end[:4]), int(end[5:])) and len(out) < 600:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _names(viewer: Viewer) -> dict[str, str]:
    """People's words for the keys of kinds and access modes (the same msgids as _labels.html)."""
    g = viewer.t.gettext
    return {
        "startup": g("Startup"),
        "sme": g("SME"),
        "industry": g("Industry"),
        "academia": g("Academia"),
        "public_sector": g("Public sector"),
        "playground": g("Playground"),
        "fast_lane": g("Fast lane"),
        "large_scale": g("Large scale"),
        "none": g("none"),
        "unspecified": g("unspecified"),
        "all": g("all"),
    }


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


class ReportCache:
    """The dashboard's reports for a few seconds, per period: many operators (or one reloading) share one set
    of aggregate queries. When an entry is stale, one request recomputes it while the others are still served
    the previous figures. One cache per app (``app.state``), so apps on other databases never share one."""

    def __init__(self, ttl: float = CACHE_SECONDS, size: int = 32):
        self.ttl, self.size = ttl, size
        self.lock = threading.Lock()
        self.entries: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self.refreshing: set[tuple[str, str]] = set()
        self.computing: dict[tuple[str, str], threading.Lock] = {}  # one computation per period at a time

    def _fresh(self, key: tuple[str, str]) -> dict[str, Any] | None:
        hit = self.entries.get(key)
        return hit[1] if hit is not None and time.monotonic() - hit[0] < self.ttl else None

    def get(self, viewer: Viewer, start: str, end: str) -> dict[str, Any]:
        key = (start, end)
        with self.lock:
            hit = self.entries.get(key)
            if (fresh := self._fresh(key)) is not None or (hit is not None and key in self.refreshing):
                return fresh if fresh is not None else hit[1]  # type: ignore[index]
            one = self.computing.setdefault(key, threading.Lock())
        with one:  # nothing to serve yet: the first request computes, the others wait for its figures
            with self.lock:
                if (fresh := self._fresh(key)) is not None:
                    return fresh
                self.refreshing.add(key)
            try:
                data = _load(viewer, start, end)
            finally:
                with self.lock:
                    self.refreshing.discard(key)
            with self.lock:
                if len(self.entries) >= self.size and key not in self.entries:
                    self.entries.pop(min(self.entries, key=lambda k: self.entries[k][0]))
                self.entries[key] = (time.monotonic(), data)
        return data


def report_cache(request: Request) -> ReportCache:
    return per_app(request, "operator_kpis", ReportCache)


def _load(viewer: Viewer, start: str, end: str) -> dict[str, Any]:
    actor = viewer.actor
    with viewer.ctx.uow_factory(write=False) as uow:
        usage = {d: reports.gpu_hours_by(uow, actor, d, start=start, end=end) for d in CHART_DIMENSIONS}
        return {
            "usage": usage,
            "served": reports.smes_served(uow, actor, start, end),
            "decision": reports.time_to_decision(uow, actor),
            "first_job": reports.time_to_first_job(uow, actor),
            "utilization": reports.utilization(uow, actor, start, end),
        }


def _usage_chart(viewer: Viewer, report: reports.UsageReport, title: str, *, horizontal: bool = False) -> Chart:
    names, g = _names(viewer), viewer.t.gettext
    dim = report.by.value
    labels = [names.get(r.label, r.label) for r in report.rows]
    values = [r.gpu_hours for r in report.rows]
    series = [Series(g("GPU-hours"), values)]
    height = max(200, 40 + 26 * len(labels)) if horizontal else 280
    svg = bar_chart(
        labels,
        series,
        id=f"chart-{dim.replace('_', '-')}",
        title=title,
        unit=g("GPU-hours"),
        horizontal=horizontal,
        height=height,
    )
    rows = [[lab, _fmt(v)] for lab, v in zip(labels, values, strict=True)]
    return Chart(f"chart-{dim.replace('_', '-')}", title, svg, legend(series), [g("Group"), g("GPU-hours")], rows, dim)


def _month_chart(viewer: Viewer, report: reports.UsageReport, months: list[str]) -> Chart:
    """Every month of the period, empty ones too, as a line."""
    g = viewer.t.gettext
    title = g("GPU-hours by month")
    hours = {r.key: r.gpu_hours for r in report.rows}
    values = [hours.get(k, 0.0) for k in months]
    series = [Series(g("GPU-hours"), values)]
    svg = line_chart(months, series, id="chart-month", title=title, unit=g("GPU-hours"))
    return Chart(
        "chart-month",
        title,
        svg,
        legend(series),
        [g("Month"), g("GPU-hours")],
        [[m, _fmt(v)] for m, v in zip(months, values, strict=True)],
        "month",
    )


def _utilization_chart(viewer: Viewer, report: reports.UtilizationReport) -> Chart:
    g = viewer.t.gettext
    title = g("Utilization per resource")
    labels = [r.resource for r in report.rows]
    series = [Series(g("Utilization"), [round(r.utilization * 100, 2) for r in report.rows])]
    svg = bar_chart(labels, series, id="chart-utilization", title=title, unit="%")
    rows = [
        [r.resource, f"{r.gpus:,}", _fmt(r.capacity_gpu_hours), _fmt(r.gpu_hours), f"{r.utilization:.2%}"]
        for r in report.rows
    ]
    return Chart(
        "chart-utilization",
        title,
        svg,
        legend(series),
        [g("Resource"), g("GPUs"), g("Capacity (GPU-hours)"), g("Delivered (GPU-hours)"), g("Utilization")],
        rows,
        "utilization",
    )


def _duration_chart(viewer: Viewer, rows: list[reports.DurationRow], id: str, title: str) -> Chart:
    names, g = _names(viewer), viewer.t.gettext
    labels = [names.get(r.access_mode, r.access_mode) for r in rows]
    series = [
        Series(g("Median"), [r.median_days or 0.0 for r in rows]),
        Series(g("90th percentile"), [r.p90_days or 0.0 for r in rows]),
    ]
    svg = bar_chart(labels, series, id=id, title=title, unit=g("days"))
    table = [
        [lab, str(r.count), str(r.waiting), _fmt(r.median_days), _fmt(r.p90_days)]
        for lab, r in zip(labels, rows, strict=True)
    ]
    return Chart(
        id,
        title,
        svg,
        legend(series),
        [g("Access mode"), g("Measured"), g("Waiting"), g("Median (days)"), g("90th percentile (days)")],
        table,
    )


def _median_all(rows: list[reports.DurationRow]) -> float | None:
    return next((r.median_days for r in rows if r.access_mode == "all"), None)


def _dashboard(viewer: Viewer, data: dict[str, Any], start: str, end: str) -> dict[str, Any]:
    g = viewer.t.gettext
    usage = data["usage"]
    month = usage["month"]
    charts = [
        _usage_chart(viewer, usage["sector"], g("GPU-hours by sector"), horizontal=True),
        _usage_chart(viewer, usage["org_kind"], g("GPU-hours by organization kind")),
        _usage_chart(viewer, usage["access_mode"], g("GPU-hours by access mode")),
        _month_chart(viewer, month, _months(start, end)),
        _utilization_chart(viewer, data["utilization"]),
        _duration_chart(viewer, data["decision"], "chart-decision", g("Days from submission to decision")),
        _duration_chart(viewer, data["first_job"], "chart-first-job", g("Days from acceptance to the first job")),
    ]
    served = data["served"]
    headline = {
        "delivered": _fmt(month.total_gpu_hours),
        "served": served.total,
        "by_kind": served.by_kind,
        "decision": _fmt(_median_all(data["decision"])),
        "first_job": _fmt(_median_all(data["first_job"])),
    }
    return {"charts": charts, "headline": headline}


@router.get("/operator/kpis", response_class=HTMLResponse)
def kpis(request: Request, viewer: Operator, start: str | None = None, end: str | None = None) -> Response:
    try:
        first, last = read_period(viewer, start, end)
    except InvalidInput as exc:
        return render(
            request,
            viewer,
            "operator/kpis.html",
            status=422,
            start=start or "",
            end=end or "",
            errors=field_errors(exc, {"start", "end"}),
            charts=[],
            headline=None,
        )
    data = report_cache(request).get(viewer, first, last)
    return render(
        request,
        viewer,
        "operator/kpis.html",
        start=first,
        end=last,
        errors={},
        cache_seconds=CACHE_SECONDS,
        **_dashboard(viewer, data, first, last),
    )


# ------------------------------------------------------------------ CSV


def csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ (or a tab/CR) gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_rows(viewer: Viewer, dimension: str, start: str, end: str) -> list[list[object]]:
    actor = viewer.actor
    with viewer.ctx.uow_factory(write=False) as uow:
        if dimension == "utilization":
            util = reports.utilization(uow, actor, start, end)
            header: list[object] = [
                "resource_id",
                "resource",
                "site_id",
                "gpus",
                "capacity_gpu_hours",
                "gpu_hours",
                "utilization",
            ]
            return [header] + [
                [
                    r.resource_id,
                    r.resource,
                    r.site_id,
                    r.gpus,
                    r.capacity_gpu_hours,
                    r.gpu_hours,
                    round(r.utilization, 6),
                ]
                for r in util.rows
            ]
        report = reports.gpu_hours_by(uow, actor, dimension, start=start, end=end)
        columns: list[object] = [dimension, "label", "gpu_hours", "entries"]
        return [columns] + [[r.key, r.label, r.gpu_hours, r.entries] for r in report.rows]


@router.get("/operator/kpis.csv")
def kpis_csv(viewer: Operator, dimension: str = "month", start: str | None = None, end: str | None = None) -> Response:
    if dimension not in CSV_DIMENSIONS:
        raise InvalidInput.on(
            "dimension", viewer.t.gettext("must be one of %(choices)s", choices=", ".join(CSV_DIMENSIONS))
        )
    first, last = read_period(viewer, start, end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in _csv_rows(viewer, dimension, first, last):
        writer.writerow([csv_cell(c) for c in row])
    name = f"gpu-hours-{dimension}-{first}-{last}.csv"
    response = Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    finish(response, viewer)
    return response
