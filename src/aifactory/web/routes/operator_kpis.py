"""The KPI dashboard for funders and operators (headline figures, charts with their data tables, a period
filter) and its CSV export. Every figure comes from ``services.reports`` (SQL aggregates); nothing here
loads rows one by one."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.errors import InvalidInput
from ...domain.reports import Dimension
from ...services import reports
from ..cache import per_app
from ..charts import Series, bar_chart, legend, line_chart
from ..charts_figure import Chart
from ..charts_units import amount_text, in_unit, number, unit_for_all, unit_label
from ..forms import field_errors
from ..labels import key_names
from ..render import finish, render
from ..viewer import Viewer
from .operator import Operator

router = APIRouter()
CHART_DIMENSIONS = ("sector", "org_kind", "access_mode", "month")
CSV_DIMENSIONS = tuple(d.value for d in Dimension) + ("utilization",)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CACHE_SECONDS = 30


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


def _fmt(value: float | None, lang: str) -> str:
    return "–" if value is None else number(value, lang, 1)


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


def _gpu_chart(
    viewer: Viewer,
    draw: Callable[..., Any],
    labels: list[str],
    hours: list[float],
    *,
    id: str,
    title: str,
    header: str,
    csv: str,
    **layout: Any,
) -> Chart:
    """GPU-hours drawn (``bar_chart`` or ``line_chart``) in the unit their largest value needs, on an axis of at
    least that unit's floor, and tabled with each amount in its own unit (charts_units)."""
    t, lang = viewer.t.gettext, viewer.lang
    unit = unit_for_all(hours)
    name = unit_label(unit, t)
    series = [Series(name, [in_unit(v, unit) for v in hours])]
    empty = t("No GPU time used in this period.")
    svg = draw(
        labels,
        series,
        id=id,
        title=title,
        unit=name,
        min_top=unit.floor,
        empty=empty,
        zero_is_empty=True,
        lang=lang,
        **layout,
    )
    rows = [[lab, amount_text(v, t, lang)] for lab, v in zip(labels, hours, strict=True)]
    return Chart(id, title, svg, legend(series), [header, t("GPU time")], rows, csv)


def _usage_chart(viewer: Viewer, report: reports.UsageReport, title: str, *, horizontal: bool = False) -> Chart:
    names, dim = key_names(viewer.t.gettext), report.by.value
    labels = [names.get(r.label, r.label) for r in report.rows]
    height = max(200, 40 + 26 * len(labels)) if horizontal else 280
    hours = [r.gpu_hours for r in report.rows]
    chart_id, group = f"chart-{dim.replace('_', '-')}", viewer.t.gettext("Group")
    return _gpu_chart(
        viewer,
        bar_chart,
        labels,
        hours,
        id=chart_id,
        title=title,
        header=group,
        csv=dim,
        horizontal=horizontal,
        height=height,
    )


def _month_chart(viewer: Viewer, report: reports.UsageReport, months: list[str]) -> Chart:
    """Every month of the period, empty ones too, as a line."""
    t = viewer.t.gettext
    by_month = {r.key: r.gpu_hours for r in report.rows}
    hours = [by_month.get(k, 0.0) for k in months]
    title, header = t("GPU-hours by month"), t("Month")
    return _gpu_chart(viewer, line_chart, months, hours, id="chart-month", title=title, header=header, csv="month")


def _utilization_chart(viewer: Viewer, report: reports.UtilizationReport) -> Chart:
    """Utilization on a 0-100 % axis at least (a resource at 0.2 % is a sliver, not a full bar)."""
    t, lang = viewer.t.gettext, viewer.lang
    title = t("Utilization per resource")
    labels = [r.resource for r in report.rows]
    series = [Series(t("Utilization"), [r.utilization * 100 for r in report.rows])]
    svg = bar_chart(
        labels,
        series,
        id="chart-utilization",
        title=title,
        unit="%",
        min_top=100.0,
        empty=t("No GPU time delivered on any resource in this period."),
        zero_is_empty=True,
        lang=viewer.lang,
    )
    rows = [
        [
            r.resource,
            number(r.gpus, lang, 0),
            amount_text(r.capacity_gpu_hours, t, lang),
            amount_text(r.gpu_hours, t, lang),
            _percent(r.utilization, lang),
        ]
        for r in report.rows
    ]
    return Chart(
        "chart-utilization",
        title,
        svg,
        legend(series),
        [t("Resource"), t("GPUs"), t("Capacity"), t("Delivered"), t("Utilization")],
        rows,
        "utilization",
    )


def _percent(share: float, lang: str) -> str:
    """A share as a percentage; a tiny one as "< 0.01 %" rather than a misleading 0.00 %."""
    if 0 < share < 0.0001:
        return "< " + number(0.01, lang, 2) + " %"
    return number(share * 100, lang, 2) + " %"


def _duration_chart(viewer: Viewer, rows: list[reports.DurationRow], id: str, title: str) -> Chart:
    """Days on an axis of at least one day; nothing measured yet says so."""
    names, t = key_names(viewer.t.gettext), viewer.t.gettext
    labels = [names.get(r.access_mode, r.access_mode) for r in rows]
    series = [
        Series(t("Median"), [r.median_days or 0.0 for r in rows]),
        Series(t("90th percentile"), [r.p90_days or 0.0 for r in rows]),
    ]
    nothing = all(r.count == 0 for r in rows)
    svg = bar_chart(
        labels,
        series,
        id=id,
        title=title,
        unit=t("days"),
        min_top=1.0,
        empty=t("Nothing measured yet."),
        zero_is_empty=nothing,
        lang=viewer.lang,
    )
    table = [
        [lab, str(r.count), str(r.waiting), _fmt(r.median_days, viewer.lang), _fmt(r.p90_days, viewer.lang)]
        for lab, r in zip(labels, rows, strict=True)
    ]
    return Chart(
        id,
        title,
        svg,
        [] if nothing else legend(series),  # no key to a chart that only says it is empty
        [t("Access mode"), t("Measured"), t("Waiting"), t("Median (days)"), t("90th percentile (days)")],
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
        "delivered": amount_text(month.total_gpu_hours, viewer.t.gettext, viewer.lang),
        "served": served.total,
        "by_kind": served.by_kind,
        "decision": _fmt(_median_all(data["decision"]), viewer.lang),
        "first_job": _fmt(_median_all(data["first_job"]), viewer.lang),
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
