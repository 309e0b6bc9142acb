"""``aifactory submit``, ``aifactory logs`` and ``aifactory jobs``: run work on the factory and get its results.

aifactory submit train.yaml --follow      # live output, then exit 0 when the job completed, 1 otherwise
aifactory logs -f 42                      # follow a job's stdout (--stderr, --task N)
aifactory jobs artifacts 42 --download out/
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.text import Text

from ..client import AifactoryClient, ValidationError
from ..client_jobs import TERMINAL_STATES
from ..domain.jobs.states import JobState
from .output import Col, done, emit, note, print_json, show_page, show_record, show_rows, stderr, stdout, table
from .state import CliError, api, current

app = typer.Typer(help="Jobs: list, show, cancel; the spec schema; artifacts.", no_args_is_help=True)

JOB_STYLES = {
    "pending": "cyan",
    "submitted": "blue",
    "queued": "yellow",
    "running": "bold blue",
    "completed": "green",
    "failed": "red",
    "cancelled": "dim",
    "timeout": "red",
}
POLL_SECONDS = 0.5

JobId = Annotated[int, typer.Argument(help="job id", min=1)]
Limit = Annotated[int, typer.Option(min=1, max=200)]
Offset = Annotated[int, typer.Option(min=0)]


def job_style(value: Any) -> str | None:
    return JOB_STYLES.get(str(value))


def _work(job: dict[str, Any]) -> str:
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
    Col("Project", "project_id", justify="right"),
    Col("State", "state", style=job_style),
    Col("Exit", "exit_code", justify="right"),
    Col("Created", "created_at"),
    Col("Reason", "reason", wrap=True),
]
# (tasks and the finishing time are in `jobs show`: the list fits an 80-column terminal)
JOB_FIELDS = [
    *JOB_COLS[:4],
    Col("Exit code", "exit_code"),
    Col("Reason", "reason"),
    Col("Tasks", "tasks"),
    Col("Allocation", "allocation_id"),
    Col("Resource", "resource_id"),
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
ARTIFACT_COLS = [Col("Path", "path", wrap=True), Col("Size", "size", justify="right"), Col("Modified", "modified_at")]


# -- spec files ---------------------------------------------------------------------------------------


def read_spec(path: Path) -> dict[str, Any]:
    """The job spec in a YAML or JSON file; a :class:`CliError` naming the file when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"cannot read {path}: not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CliError(f"{path} is not valid YAML: {problem}{where}") from None
    if not isinstance(data, dict):
        raise CliError(
            f"{path} must hold a job spec: a mapping of fields (name, project, command, …), "
            f"not {type(data).__name__ if data is not None else 'nothing'}"
        )
    return json.loads(json.dumps(data, default=str))  # YAML dates as the strings the server would see


# -- following a job ----------------------------------------------------------------------------------


def _status_text(job: dict[str, Any]) -> Text:
    text = Text(f"job {job['id']} {job['name']}: ")
    text.append(job["state"], style=job_style(job["state"]) or "")
    return text


class _Lines:
    """Log text printed whole lines at a time through a Rich console (so a live status line stays below)."""

    def __init__(self, console: Console):
        self.console, self.rest = console, ""

    def write(self, text: str) -> None:
        *lines, self.rest = (self.rest + text).split("\n")
        for line in lines:
            self.console.print(Text(line), soft_wrap=True)

    def close(self) -> None:
        if self.rest:
            self.console.print(Text(self.rest), soft_wrap=True)
            self.rest = ""


def _raw_write(text: str) -> None:
    typer.echo(text, nl=False)


def follow_job(client: AifactoryClient, job: dict[str, Any], *, stream: str = "stdout", task: int = 0) -> dict:
    """Print the job's log as it is written, with a status line showing its state on a terminal; then wait
    for the job to be over and answer its final state."""
    out = stdout()
    status_console = out if out.is_terminal else (stderr() if stderr().is_terminal else None)
    if status_console is None:  # nothing to draw on: plain text, byte for byte
        for text in client.follow_log(job["id"], stream=stream, task=task):
            _raw_write(text)
        return client.wait(job["id"], poll=POLL_SECONDS)

    lines = _Lines(out) if status_console is out else None
    stop, failed = threading.Event(), []
    with status_console.status(_status_text(job)) as status:

        def update(j: dict[str, Any]) -> None:
            status.update(_status_text(j))

        def watch() -> None:  # the state, while the log is followed on the main thread
            while not stop.is_set():
                try:
                    j = client.get_job(job["id"])
                except Exception as exc:  # noqa: BLE001 - shown by the main thread's wait below
                    failed.append(exc)
                    return
                update(j)
                if j["state"] in TERMINAL_STATES:
                    return
                stop.wait(POLL_SECONDS)

        watcher = threading.Thread(target=watch, name="aifactory-job-state", daemon=True)
        watcher.start()
        try:
            for text in client.follow_log(job["id"], stream=stream, task=task):
                lines.write(text) if lines is not None else _raw_write(text)
        finally:
            stop.set()
            watcher.join()
            if lines is not None:
                lines.close()
        return client.wait(job["id"], poll=POLL_SECONDS, on_change=update)


def _summary(job: dict[str, Any]) -> str:
    took = ""
    if job.get("started_at") and job.get("finished_at"):
        seconds = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])
        took = f" in {seconds.total_seconds():.1f}s"
    exit_code = f" (exit code {job['exit_code']})" if job.get("exit_code") is not None else ""
    reason = f": {job['reason']}" if job.get("reason") and job["state"] != "completed" else ""
    return f"Job {job['id']} {job['name']} {job['state']}{exit_code}{took}{reason}"


# -- commands -----------------------------------------------------------------------------------------


def submit(
    file: Annotated[
        Path, typer.Argument(help="job spec: a YAML or JSON file (see `aifactory jobs schema`)", show_default=False)
    ],
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-f", help="stream the job's output until it ends; exit 0 when it completed, 1 otherwise"
        ),
    ] = False,
    project: Annotated[int | None, typer.Option("--project", help="project id (overrides the spec's)")] = None,
    name: Annotated[str | None, typer.Option("--name", help="job name (overrides the spec's)")] = None,
) -> None:
    """Submit a job from a spec file; with --follow, watch it run."""
    spec = read_spec(file)
    overrides = {k: v for k, v in {"project": project, "name": name}.items() if v is not None}
    client = api()
    try:
        job = client.submit(file if not overrides else spec | overrides)  # unchanged YAML goes as YAML
    except ValidationError as exc:
        raise CliError(f"{file}: {exc}") from None
    report_or_follow(client, job, follow)


def report_or_follow(client: Any, job: dict[str, Any], follow: bool) -> None:
    """After a submission (a spec, a template): one line, or with ``follow`` the job's output until it ends,
    exiting 0 when it completed and 1 otherwise (130 when the user stops following; the job goes on)."""
    if not follow:
        done(job, f"Job {job['id']} {job['name']} {job['state']}; follow it with `aifactory logs -f {job['id']}`")
        return
    try:
        if current().json_output:
            final = client.wait(job["id"], poll=POLL_SECONDS)
            print_json(final)
        else:
            final = follow_job(client, job)
            style = "green" if final["state"] == JobState.COMPLETED else "red"
            stderr().print(Text(_summary(final), style=style), soft_wrap=True)
    except KeyboardInterrupt:
        note(
            f"stopped following; job {job['id']} goes on (`aifactory logs -f {job['id']}`, "
            f"`aifactory jobs cancel {job['id']}`)"
        )
        raise typer.Exit(130) from None
    raise typer.Exit(0 if final["state"] == JobState.COMPLETED else 1)


def logs(
    job_id: JobId,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing until the job ends")] = False,
    stderr_: Annotated[bool, typer.Option("--stderr", help="the error stream instead of stdout")] = False,
    task: Annotated[int, typer.Option("--task", min=0, help="array task index")] = 0,
    offset: Annotated[int, typer.Option("--offset", min=0, help="start at this byte")] = 0,
) -> None:
    """Print a job's output (stdout unless --stderr); -f follows it live until the job ends.

    With --json (and no -f): the text, the offset to go on from and whether the log is complete."""
    stream = "stderr" if stderr_ else "stdout"
    client = api()
    if follow:
        try:
            for text in client.follow_log(job_id, stream=stream, task=task, offset=offset):
                _raw_write(text)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        return
    data, complete, start = b"", False, offset
    while True:
        chunk, offset, complete = client.read_log(job_id, stream=stream, task=task, offset=offset)
        data += chunk
        if not chunk or complete:
            break
    if current().json_output:
        print_json(
            {
                "job_id": job_id,
                "stream": stream,
                "task": task,
                "offset": start,
                "next_offset": offset,
                "complete": complete,
                "text": data.decode("utf-8", errors="replace"),
            }
        )
        return
    typer.echo(data, nl=False)
    if not data and not complete:
        note(f"no {stream} yet; follow it with `aifactory logs -f {job_id}`")


@app.command("list")
def list_jobs(
    project: Annotated[int | None, typer.Option("--project", help="only this project")] = None,
    state: Annotated[JobState | None, typer.Option("--state", help="only this state")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    all_: Annotated[bool, typer.Option("--all", help="every page (JSON: a list)")] = False,
) -> None:
    """Jobs of your projects (operators: all), newest first."""
    query = {"project_id": project, "state": state.value if state else None}
    if all_:
        show_rows(list(api().iter_jobs(**query)), JOB_COLS, title="Jobs")
    else:
        show_page(api().list_jobs(**query, limit=limit, offset=offset), JOB_COLS, title="Jobs")


@app.command("show")
def show(job_id: JobId) -> None:
    """A job: its state, exit code, resources and the history of its states."""
    job = api().get_job(job_id)
    show_record(job, JOB_FIELDS, title=f"Job {job['id']}", extra=[table(job["events"], EVENT_COLS, title="Events")])


@app.command("cancel")
def cancel(job_id: JobId) -> None:
    """Cancel a job (its submitter, the project's PI or an operator)."""
    job = api().cancel_job(job_id)
    if job["state"] == JobState.CANCELLED:
        done(job, f"Job {job['id']} {job['name']} cancelled")
    else:
        done(job, f"Job {job['id']} {job['name']} is {job['state']}; nothing to cancel")


def _schema_rows(schema: dict[str, Any], prefix: str = "") -> list[dict[str, str]]:
    rows = []
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


def _progress_bar() -> tuple[Progress, Callable[[dict[str, Any], int, int | None], None]]:
    console = stderr()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    tasks: dict[str, Any] = {}

    def advance(artifact: dict[str, Any], done_: int, total: int | None) -> None:
        if artifact["path"] not in tasks:
            tasks[artifact["path"]] = bar.add_task(artifact["path"], total=total or artifact.get("size"))
        bar.update(tasks[artifact["path"]], completed=done_)

    return bar, advance


@app.command("artifacts")
def artifacts(
    job_id: JobId,
    download: Annotated[
        Path | None, typer.Option("--download", file_okay=False, help="download them all into this folder")
    ] = None,
    checksums: Annotated[bool, typer.Option("--checksums", help="show sha256 checksums")] = False,
) -> None:
    """The files the job's spec names as outputs; --download fetches them (sha256 verified)."""
    client = api()
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
            saved = client.download_artifact(
                job_id,
                a["path"],
                download,
                sha256=a["sha256"],
                progress=lambda done_, total, a=a: advance(a, done_, total),
            )
            rows.append({**a, "file": str(saved)})
    if not rows:
        emit(rows, Text(f"Job {job_id} has no artifacts (nothing matches its spec's outputs)", style="yellow"))
        return
    total = sum(a["size"] for a in rows)
    emit(
        rows,
        table(
            rows,
            [Col("Path", "path", wrap=True), Col("Size", "size", justify="right"), Col("Saved as", "file", wrap=True)],
            title=f"Artifacts of job {job_id}",
        ),
        Text(
            f"Downloaded {len(rows)} artifact{'s' if len(rows) != 1 else ''} ({total:,} bytes) to {download}; "
            "sha256 verified",
            style="green",
        ),
    )
