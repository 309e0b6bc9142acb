"""``aifactory usage``: external usage records into this machine's database (like ``admin``, no HTTP)."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..services.ports import SystemClock
from .local import DataDir, local_settings, local_store, shown_url
from .output import emit, error, stderr
from .state import current

if TYPE_CHECKING:
    from ..services.usage_import import ImportProgress, ImportSummary

app = typer.Typer(
    help="External usage records (job traces) into the ledger as what-if scenarios, on this machine's database.",
    no_args_is_help=True,
)

Format = Annotated[str, typer.Option("--format", help="trace format: swf | alibaba")]
Scenario = Annotated[str, typer.Option("--scenario", help="what-if scenario name (never part of real balances)")]


def _progress() -> Progress:
    return Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>10} records/s"),
        TimeElapsedColumn(),
        console=stderr(),
        transient=True,
        disable=current().json_output,
    )


def _lines(lines: list[int] | None) -> str:
    return f" (lines {', '.join(map(str, lines))}…)" if lines else ""


def _summary_table(s: ImportSummary, database: str) -> Table:
    title = "Import already done: nothing changed" if s.already_done else "Usage import"
    t = Table(title=title, show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("scenario", s.scenario)
    t.add_row("trace", s.trace_id)
    t.add_row("database", database)
    t.add_row("records read", f"{s.position:,}" + (f" (resumed at {s.resumed_from:,})" if s.resumed_from else ""))
    t.add_row("imported", f"{s.imported:,}")
    for reason, n in sorted(s.counted.items()):
        t.add_row(reason.replace("-", " "), f"{n:,}")
    for reason, n in sorted(s.skipped.items()):
        t.add_row(f"skipped: {reason}", f"{n:,}{_lines(s.skipped_lines.get(reason))}")
    if s.extra_field_lines:
        t.add_row("extra fields ignored", f"{s.extra_field_lines:,} lines (up to {s.most_fields} fields)")
    t.add_row("state", s.state)
    rate = s.seconds > 0 and not s.already_done
    t.add_row(
        "time",
        f"{s.seconds:.2f} s" + (f" ({(s.position - s.resumed_from) / s.seconds:,.0f} records/s)" if rate else ""),
    )
    return t


def _failure(s: ImportSummary) -> str:
    """The one-line error of an import that is not done."""
    first = max(s.skipped, key=lambda k: (s.skipped[k], k), default="")
    lines = s.skipped_lines.get(first)
    where = f" (first {first} at lines {', '.join(map(str, lines))})" if lines else ""
    hint = "" if s.allow_skips or sum(s.skipped.values()) >= s.position else "; rerun with --allow-skips to accept them"
    return f"import {s.state}: {s.problem}{where}{hint}"


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="the trace file", dir_okay=False)],
    fmt: Format,
    scenario: Scenario,
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map", help="CSV or YAML: user:N / group:N (SWF), pod:NAME / qos:CLASS (Alibaba) -> project account or id"
        ),
    ] = None,
    default_project: Annotated[
        str | None, typer.Option("--default-project", help="project (account or id) for records the map does not name")
    ] = None,
    resource: Annotated[
        str | None,
        typer.Option("--resource", help="resource (name or id) the usage ran on; needed where there are several"),
    ] = None,
    replay_until: Annotated[
        int | None, typer.Option("--replay-until", min=1, help="replay the trace, shifted by its span, until N records")
    ] = None,
    gpus_per_processor: Annotated[
        str | None,
        typer.Option(
            "--gpus-per-processor",
            help="SWF: GPUs per processor, e.g. 0.25 or 1/8 (default: the resource's GPUs per CPU core)",
        ),
    ] = None,
    trace_id: Annotated[
        str | None,
        typer.Option(
            "--trace-id",
            help="the trace's identity in the records' keys (default: a hash of its first record); give the same "
            "one to the parts of a trace split into files",
        ),
    ] = None,
    allow_skips: Annotated[
        bool, typer.Option("--allow-skips", help="records that cannot be imported are counted, not an error")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Import a trace (resumes an interrupted import; a finished one is left as it is). Exit 1 when records
    were skipped (unless --allow-skips) or none could be imported."""
    from ..services.usage_import import import_trace

    settings = local_settings(data_dir=data_dir)
    with local_store(settings) as uow_factory, _progress() as bar:
        task = bar.add_task("import", total=None, rate="")
        first: list[tuple[int, float]] = []  # (position, time) at the first checkpoint of this run

        def show(p: ImportProgress) -> None:
            now = time.perf_counter()
            first[:] = first or [(p.position, now)]
            pos0, t0 = first[0]
            rate = f"{(p.position - pos0) / (now - t0):,.0f}" if now > t0 else ""
            bar.update(task, total=p.total, completed=p.position, rate=rate)

        summary = import_trace(
            uow_factory,
            SystemClock(),
            file,
            fmt=fmt,
            scenario=scenario,
            mapping=map_file,
            default_project=default_project,
            resource=resource,
            replay_until=replay_until,
            gpus_per_processor=gpus_per_processor,
            trace_id=trace_id,
            allow_skips=allow_skips,
            progress=show,
        )
    emit(asdict(summary), _summary_table(summary, shown_url(settings.resolved_database_url)))
    if summary.state != "done":
        error(_failure(summary))
        raise typer.Exit(1)
