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
from .output import emit, stderr
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


def _summary_table(s: ImportSummary, database: str) -> Table:
    title = "Import already done: nothing changed" if s.already_done else "Usage import"
    t = Table(title=title, show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_row("scenario", s.scenario)
    t.add_row("database", database)
    t.add_row("records read", f"{s.position:,}" + (f" (resumed at {s.resumed_from:,})" if s.resumed_from else ""))
    t.add_row("imported", f"{s.imported:,}")
    for reason, n in sorted(s.skipped.items()):
        lines = s.skipped_lines.get(reason)
        t.add_row(f"skipped: {reason}", f"{n:,}" + (f" (lines {', '.join(map(str, lines))}…)" if lines else ""))
    t.add_row(
        "time",
        f"{s.seconds:.2f} s"
        + (
            f" ({(s.position - s.resumed_from) / s.seconds:,.0f} records/s)"
            if s.seconds > 0 and not s.already_done
            else ""
        ),
    )
    return t


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
    data_dir: DataDir = None,
) -> None:
    """Import a trace (resumes an interrupted import; a finished one is left as it is)."""
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
            progress=show,
        )
    emit(asdict(summary), _summary_table(summary, shown_url(settings.resolved_database_url)))
