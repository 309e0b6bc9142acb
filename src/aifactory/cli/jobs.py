"""``aifactory jobs``: list, show and cancel jobs, the spec's schema, and the artifacts a job wrote.

aifactory jobs list --project 1 --state running
aifactory jobs artifacts 42 --download out/

(``aifactory submit`` and ``aifactory logs`` are in :mod:`.submit`.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.text import Text

from ..client import Json
from ..domain.jobs.states import TERMINAL, JobState
from .data import transfer_bar
from .follow import job_style
from .jobref import JobRef, job_id_of
from .output import Col, Row, done, emit, show_page, show_record, show_rows, table
from .state import api

app = typer.Typer(help="Jobs: list, show, cancel; the spec schema; artifacts.", no_args_is_help=True)

Limit = Annotated[int, typer.Option(min=1, max=200)]
Offset = Annotated[int, typer.Option(min=0)]


def _work(job: Row) -> str:
    spec = job.get("spec") or {}
    if spec.get("command"):
        return " ".join(spec["command"])
    script = str(spec.get("script") or "").strip().splitlines()
    return f"script: {script[0]}{' …' if len(script) > 1 else ''}" if script else ""


def _seconds(value: Any) -> str:
    return str(value)[:19].replace("T", " ") if value else "–"


JOB_COLS = [
    Col("ID", "id", justify="right"),
    Col("Name", "name", wrap=True),
    Col("Project", "project_id", wrap=True, names="project"),
    Col("State", "state", style=job_style),
    Col("Exit", "exit_code", justify="right", optional=True),
    Col("Created", "created_at", optional=True),
    Col("Reason", "reason", wrap=True),
]
# (tasks and the finishing time are in `jobs show`: the list fits an 80-column terminal)
JOB_FIELDS = [
    *JOB_COLS[:4],
    Col("Exit code", "exit_code"),
    Col("Reason", "reason"),
    Col("Tasks", "tasks"),
    Col("Allocation", "allocation_id"),
    Col("Resource", "resource_id", names="resource"),
    Col("Backend", "backend"),
    Col("Backend id", "backend_id"),
    Col("Submitted by", "submitted_by"),
    Col("Idempotency key", "idempotency_key"),
    Col("Created", "created_at"),
    Col("Submitted", "submitted_at"),
    Col("Started", "started_at"),
    Col("Finished", "finished_at"),
    Col("Resources", "spec.resources"),
    Col("Runs", _work),
    Col("Outputs", "spec.outputs"),
]
EVENT_COLS = [
    Col("At", lambda e: _seconds(e["at"])),
    Col("State", "state", style=job_style),
    Col("Detail", "detail", wrap=True),
]
ARTIFACT_COLS = [
    Col("Path", "path", wrap=True),
    Col("Size", "size", justify="right"),
    Col("Modified", "modified_at", optional=True),
]


@app.command("list")
def list_jobs(
    project: Annotated[int | None, typer.Option("--project", help="only this project")] = None,
    state: Annotated[JobState | None, typer.Option("--state", help="only this state")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    all_: Annotated[bool, typer.Option("--all", help="every page (JSON: a list)")] = False,
) -> None:
    """Jobs of your projects (operators: all), newest first."""
    client, wanted = api(), state.value if state else None
    if all_:
        show_rows(list(client.iter_jobs(project_id=project, state=wanted)), JOB_COLS, title="Jobs")
    else:
        show_page(
            client.list_jobs(project_id=project, state=wanted, limit=limit, offset=offset), JOB_COLS, title="Jobs"
        )


@app.command("show")
def show(job: JobRef) -> None:
    """A job: its state, exit code, resources and the history of its states."""
    client = api()
    found = client.get_job(job_id_of(client, job))
    events = table(found["events"], EVENT_COLS, title="Events")
    show_record(found, JOB_FIELDS, title=f"Job {found['id']}", extra=[events])


@app.command("cancel")
def cancel(job: JobRef) -> None:
    """Cancel a job (its submitter, the project's PI or an operator)."""
    client = api()
    cancelled = client.cancel_job(job_id_of(client, job))
    if cancelled["state"] == JobState.CANCELLED:
        done(cancelled, f"Job {cancelled['id']} {cancelled['name']} cancelled")
    elif cancelled.get("cancel_requested_at") and cancelled["state"] not in TERMINAL:
        done(cancelled, f"Job {cancelled['id']} {cancelled['name']}: cancel requested; done once the scheduler answers")
    else:
        done(cancelled, f"Job {cancelled['id']} {cancelled['name']} is {cancelled['state']}; nothing to cancel")


@app.command("save")
def save(
    job: JobRef,
    path: Annotated[str, typer.Argument(help="the artifact (see `aifactory jobs artifacts`)")],
    to: Annotated[str, typer.Option("--to", help="its name in the project's storage, e.g. results/report.html")],
) -> None:
    """Save a completed job's artifact into its project's storage (no download; the quota applies)."""
    client = api()
    job_id = job_id_of(client, job)
    stored = client.save_artifact(job_id, path, to=to)
    done(
        stored,
        f"Saved {path} of job {job_id} as {stored['name']} ({stored['size']:,} bytes, sha256 {stored['sha256']})",
    )


def _schema_rows(schema: Row, prefix: str = "") -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    required = set(schema.get("required", []))
    for key, prop in schema.get("properties", {}).items():
        kind = prop.get("type") or ("one of " + ", ".join(map(str, prop["enum"])) if "enum" in prop else "")
        rows.append(
            {
                "field": prefix + key,
                "type": "/".join(kind) if isinstance(kind, list) else kind,
                "required": "yes" if key in required else "",
                "description": prop.get("description", ""),
            }
        )
        if prop.get("type") == "object" and "properties" in prop:
            rows += _schema_rows(prop, prefix + key + ".")
    return rows


@app.command("schema")
def schema() -> None:
    """The job spec's fields (with --json: its JSON Schema)."""
    found = api().job_schema()
    cols = [
        Col("Field", "field"),
        Col("Type", "type"),
        Col("Required", "required"),
        Col("Description", "description", wrap=True),
    ]
    emit(
        found,
        table(
            _schema_rows(found),
            cols,
            title=str(found.get("title", "Job spec")),
            caption="exactly one of command or script; see `aifactory --json jobs schema` for all rules",
        ),
    )


def _progress_bar() -> tuple[Progress, Callable[[Json, int, int | None], None]]:
    bar = transfer_bar()
    tasks: dict[str, Any] = {}

    def advance(artifact: Json, done_: int, total: int | None) -> None:
        if artifact["path"] not in tasks:
            tasks[artifact["path"]] = bar.add_task(artifact["path"], total=total or artifact.get("size"))
        bar.update(tasks[artifact["path"]], completed=done_)

    return bar, advance


def _step(advance: Callable[[Json, int, int | None], None], artifact: Json) -> Callable[[int, int | None], None]:
    return lambda done_, total: advance(artifact, done_, total)


@app.command("artifacts")
def artifacts(
    job: JobRef,
    download: Annotated[
        Path | None, typer.Option("--download", file_okay=False, help="download them all into this folder")
    ] = None,
    checksums: Annotated[bool, typer.Option("--checksums", help="show sha256 checksums")] = False,
) -> None:
    """The files the job's spec names as outputs; --download fetches them (sha256 verified)."""
    client = api()
    job_id = job_id_of(client, job)
    if download is None:
        found = client.list_artifacts(job_id, checksums=checksums)
        cols = ARTIFACT_COLS + ([Col("SHA-256", "sha256")] if checksums else [])
        show_rows(found, cols, title=f"Artifacts of job {job_id}")
        return
    download.mkdir(parents=True, exist_ok=True)
    listing = client.list_artifacts(job_id, checksums=True)
    bar, advance = _progress_bar()
    rows = []
    with bar:
        for a in listing:
            step = _step(advance, a)
            saved = client.download_artifact(job_id, a["path"], download, sha256=a["sha256"], progress=step)
            rows.append({**a, "file": str(saved)})
    if not rows:
        emit(rows, Text(f"Job {job_id} has no artifacts (nothing matches its spec's outputs)", style="yellow"))
        return
    total = sum(a["size"] for a in rows)
    emit(
        rows,
        table(
            rows,
            [ARTIFACT_COLS[0], ARTIFACT_COLS[1], Col("Saved as", "file", wrap=True)],
            title=f"Artifacts of job {job_id}",
        ),
        Text(
            f"Downloaded {len(rows)} artifact{'s' if len(rows) != 1 else ''} ({total:,} bytes) to {download}; "
            "sha256 verified",
            style="green",
        ),
    )
