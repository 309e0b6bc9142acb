"""``aifactory submit`` and ``aifactory logs``: run work on the factory and read its output.

aifactory submit train.yaml --follow      # live output, then exit 0 when the job completed, 1 otherwise
aifactory submit train.yaml --project 4   # charge project 4, whatever the spec says
aifactory logs -f 42                      # follow a job's stdout (--stderr, --task N)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from ..client import AifactoryClient, Json, ValidationError
from .follow import raw_write, report_or_follow
from .jobref import JobRef, job_id_of
from .output import note, print_json
from .state import CliError, api, current

PROJECT_HELP = (
    "project id or Slurm account to charge (see `aifactory projects list`); overrides the spec's `project`. "
    "Without either, your only project"
)


def read_spec(path: Path) -> Json:
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
    spec: Json = json.loads(json.dumps(data, default=str))  # YAML dates as the strings the server would see
    return spec


def only_project(client: AifactoryClient, what: str, doing: str = "charging") -> int:
    """The caller's one project, for work that names none (``what``: e.g. "train.yaml names no project";
    ``doing``: what is done with it, e.g. "using"); else a one-line error that says what to do."""
    page = client.list_projects(limit=6)
    mine = page["items"]
    if len(mine) == 1:
        note(f"{what}: {doing} your project {mine[0]['id']} ({mine[0]['name']})", style="dim")
        return int(mine[0]["id"])
    if not mine:
        raise CliError(
            f"{what} and you have none yet: a project comes with an accepted proposal "
            "(`aifactory proposals create`), or a project's PI adds you to theirs"
        )
    shown = ", ".join(f"{p['id']} ({p['name']})" for p in mine[:5]) + (", …" if page["total"] > 5 else "")
    raise CliError(f"{what}: pass --project with one of yours: {shown}")


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
    project: Annotated[str | None, typer.Option("--project", help=PROJECT_HELP)] = None,
    name: Annotated[str | None, typer.Option("--name", help="job name (overrides the spec's)")] = None,
) -> None:
    """Submit a job from a spec file; with --follow, watch it run.

    The job is charged to --project, else to the spec's `project`, else to your only project."""
    spec = read_spec(file)
    client = api()
    charged: int | str | None = int(project) if project and project.isdigit() else project
    if charged is None and spec.get("project") in (None, ""):
        charged = only_project(client, f"{file} names no project")
    overrides = {k: v for k, v in {"project": charged, "name": name}.items() if v is not None}
    try:
        job = client.submit(file if not overrides else spec | overrides)  # unchanged YAML goes as YAML
    except ValidationError as exc:
        raise CliError(f"{file}: {exc}") from None
    report_or_follow(client, job, follow)


def _print_log(job_id: int, stream: str, task: int, offset: int) -> None:
    """What the log holds from ``offset`` now (with --json: the text, where to go on and whether it is all)."""
    client, data, complete, start = api(), b"", False, offset
    while True:
        chunk, offset, complete = client.read_log(job_id, stream=stream, task=task, offset=offset)
        data += chunk
        if not chunk or complete:
            break
    if current().json_output:
        text = data.decode("utf-8", errors="replace")
        where: dict[str, Any] = {"job_id": job_id, "stream": stream, "task": task, "offset": start}
        print_json(where | {"next_offset": offset, "complete": complete, "text": text})
        return
    typer.echo(data, nl=False)
    if not data and not complete:
        note(f"no {stream} yet; follow it with `aifactory logs -f {job_id}`")


def logs(
    job: JobRef,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing until the job ends")] = False,
    stderr_: Annotated[bool, typer.Option("--stderr", help="the error stream instead of stdout")] = False,
    task: Annotated[int, typer.Option("--task", min=0, help="array task index")] = 0,
    offset: Annotated[int, typer.Option("--offset", min=0, help="start at this byte")] = 0,
) -> None:
    """Print a job's output (stdout unless --stderr); -f follows it live until the job ends.

    With --json (and no -f): the text, the offset to go on from and whether the log is complete."""
    stream = "stderr" if stderr_ else "stdout"
    job_id = job_id_of(api(), job)
    if not follow:
        _print_log(job_id, stream, task, offset)
        return
    try:
        for text in api().follow_log(job_id, stream=stream, task=task, offset=offset):
            raw_write(text)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
