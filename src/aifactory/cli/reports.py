"""``aifactory report``: the factory's KPIs (operators) and an allocation's burn-down (its members too).

Rich tables by default; ``--format csv`` writes the rows as CSV and ``--format json`` (or the global
``--json``) the API's answer, both to stdout for scripts and spreadsheets.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer

from ..domain.reports import Dimension
from .output import Col, emit, print_json, table
from .state import api, current

app = typer.Typer(
    help="Reports: delivered GPU-hours, SMEs served, times to decision and first job, utilization, burn-down.",
    no_args_is_help=True,
)


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json")]
StartOpt = Annotated[str | None, typer.Option("--start", help="first month, YYYY-MM (inclusive)")]
EndOpt = Annotated[str | None, typer.Option("--end", help="last month, YYYY-MM (inclusive)")]
ScenarioOpt = Annotated[str | None, typer.Option("--scenario", help="a what-if scenario instead of real usage")]


def hours(key: str) -> Any:
    return lambda row: None if row.get(key) is None else f"{row[key]:,.1f}"


def days(key: str) -> Any:
    return lambda row: None if row.get(key) is None else f"{row[key]:.1f}"


def period(data: Mapping[str, Any]) -> str:
    start, end = data.get("start"), data.get("end")
    text = f"{start or 'the beginning'} to {end or 'now'}"
    return text + (f", scenario {data['scenario']}" if data.get("scenario") else "")


def show(
    data: Any,
    rows: Sequence[Mapping[str, Any]],
    cols: Sequence[Col],
    fmt: Format,
    *,
    title: str,
    caption: str | None = None,
) -> None:
    """``data`` as JSON, ``rows`` as CSV (their own keys, raw values), or a table of ``cols``."""
    if fmt is Format.JSON or current().json_output:
        print_json(data)
    elif fmt is Format.CSV:
        write_csv(rows)
    else:
        emit(data, table(rows, cols, title=title, caption=caption or (None if rows else "none")))


def write_csv(rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


USAGE_COLS = [
    Col("Key", "key"),
    Col("Name", "label", wrap=True),
    Col("GPU-hours", hours("gpu_hours"), justify="right"),
    Col("Entries", "entries", justify="right"),
]
ORG_COLS = [
    Col("ID", "id", justify="right"),
    Col("Organization", "name", wrap=True),
    Col("Kind", "kind"),
    Col("Country", "country"),
]
DURATION_COLS = [
    Col("Access mode", "access_mode"),
    Col("Measured", "count", justify="right"),
    Col("Waiting", "waiting", justify="right"),
    Col("Median days", days("median_days"), justify="right"),
    Col("p90 days", days("p90_days"), justify="right"),
]
UTIL_COLS = [
    Col("ID", "resource_id", justify="right"),
    Col("Resource", "resource"),
    Col("GPUs", "gpus", justify="right"),
    Col("Capacity GPU-h", hours("capacity_gpu_hours"), justify="right"),
    Col("Delivered GPU-h", hours("gpu_hours"), justify="right"),
    Col("Utilization", lambda r: f"{r['utilization']:.1%}", justify="right"),
]
BURN_COLS = [
    Col("When", "at"),
    Col("Granted GPU-h", hours("granted_gpu_hours"), justify="right"),
    Col("Charged GPU-h", hours("charged_gpu_hours"), justify="right"),
]


@app.command("gpu-hours")
def gpu_hours(
    by: Annotated[Dimension, typer.Option("--by", help="the dimension to group by")] = Dimension.MONTH,
    start: StartOpt = None,
    end: EndOpt = None,
    scenario: ScenarioOpt = None,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Delivered GPU-hours by organization kind, sector, country, access mode, resource, month or project."""
    data = api().gpu_hours_report(by.value, start=start, end=end, scenario=scenario)
    caption = f"total {data['total_gpu_hours']:,.1f} GPU-hours in {data['total_entries']:,} entries"
    if data["by"] == "sector":
        caption += " (an organization's hours count under each of its sectors)"
    show(data, data["rows"], USAGE_COLS, fmt, title=f"GPU-hours by {data['by']}, {period(data)}", caption=caption)


@app.command("smes")
def smes(
    start: StartOpt = None, end: EndOpt = None, scenario: ScenarioOpt = None, fmt: FormatOpt = Format.TABLE
) -> None:
    """The SMEs and startups with delivered usage in the period (lead or partner of a charged project)."""
    data = api().smes_report(start=start, end=end, scenario=scenario)
    split = ", ".join(f"{n} {kind}" for kind, n in data["by_kind"].items())
    show(
        data,
        data["organizations"],
        ORG_COLS,
        fmt,
        title=f"SMEs and startups served, {period(data)}",
        caption=f"{data['total']} organizations: {split}",
    )


@app.command("time-to-decision")
def time_to_decision(fmt: FormatOpt = Format.TABLE) -> None:
    """Median and p90 days from submission to decision, by access mode."""
    data = api().time_to_decision_report()
    show(data, data["rows"], DURATION_COLS, fmt, title="Days from submission to decision")


@app.command("time-to-first-job")
def time_to_first_job(fmt: FormatOpt = Format.TABLE) -> None:
    """Median and p90 days from acceptance to the project's first job start (waiting: no job yet)."""
    data = api().time_to_first_job_report()
    show(data, data["rows"], DURATION_COLS, fmt, title="Days from acceptance to the first job")


@app.command("utilization")
def utilization(
    start: Annotated[str, typer.Option("--start", help="first month, YYYY-MM")],
    end: Annotated[str, typer.Option("--end", help="last month, YYYY-MM")],
    scenario: ScenarioOpt = None,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Per resource: delivered GPU-hours ÷ capacity (nodes × GPUs × hours of the months)."""
    data = api().utilization_report(start, end, scenario=scenario)
    show(data, data["rows"], UTIL_COLS, fmt, title=f"Utilization, {period(data)} ({data['hours']:,} hours)")


@app.command("burn-down")
def burn_down(
    allocation_id: Annotated[int, typer.Argument(help="allocation id")],
    by: Annotated[str, typer.Option("--by", help="day or month")] = "day",
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """An allocation's cumulative granted vs charged GPU-hours (its project's members and operators)."""
    d = api().burn_down(allocation_id, by=by)
    caption = (
        f"now: {d['granted_gpu_hours']:,.1f} granted, {d['charged_gpu_hours']:,.1f} charged, "
        f"{d['reserved_gpu_hours']:,.1f} reserved by open jobs, {d['available_gpu_hours']:,.1f} available"
    )
    show(d, d["points"], BURN_COLS, fmt, title=f"Burn-down of allocation {d['allocation_id']}", caption=caption)
