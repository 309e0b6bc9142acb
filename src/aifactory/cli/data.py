"""``aifactory data``: a project's storage on the factory (put, ls, get, rm), datasets registered from it, and
its quota.

aifactory data put sales.csv --name sales/2024.csv   # resumes an interrupted upload of the same file
aifactory data ls sales/
aifactory data get sales/2024.csv --out copy.csv      # resumes a partial copy.csv.part
aifactory data register sales/2024.csv --slug kiel-sales --title "Kiel sales 2024" --licence CC-BY-4.0
aifactory data quota --project 3 --max-bytes 50GiB     # operators
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.text import Text

from ..client import AifactoryClient, AifactoryError, ApiError, Json, TransportError
from ..domain.storage import human_bytes
from .output import Col, Row, done, emit, fmt, note, page_caption, record, stderr, table
from .state import CliError, api
from .submit import only_project

app = typer.Typer(
    help="Your project's storage: upload, list, download and delete files; datasets.", no_args_is_help=True
)

ProjectOpt = Annotated[
    str | None, typer.Option("--project", help="project id or Slurm account (default: your only project)")
]
UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12}
UNITS |= {"tb": 10**12, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
FILE_COLS = [
    Col("Name", "name", wrap=True),
    Col("Size", "size", justify="right"),
    Col("SHA-256", lambda f: f["sha256"][:16] + "…", optional=True),
    Col("Uploaded", "updated_at"),
]


def project_id(client: AifactoryClient, given: str | None) -> int:
    """``--project`` as an id: digits, or one of your projects' Slurm accounts; else your only project."""
    if given is None:
        return only_project(client, "no --project given", "using")
    if given.isdigit():
        return int(given)
    mine = client.list_projects(limit=200)["items"]
    found = next((p for p in mine if p.get("slurm_account") == given), None)
    if found is None:
        raise CliError(f"--project {given!r}: not one of your projects (see `aifactory projects list`)")
    return int(found["id"])


def parse_size(text: str) -> int | None:
    """``10GiB``, ``500MB``, ``1048576`` as bytes; ``default`` for the site's default (None)."""
    if text.strip().lower() in ("default", "none"):
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if match is None or match.group(2).lower() not in UNITS:
        raise CliError(f"{text!r} is not a size: write e.g. 10GiB, 500MB or a number of bytes (or default)")
    return int(float(match.group(1)) * UNITS[match.group(2).lower()])


@contextmanager
def one_line() -> Iterator[None]:
    """The client's own failures (a checksum that does not match, an upload that makes no progress) as the
    CLI's one-line errors; the server's answers keep their own handling."""
    try:
        yield
    except (ApiError, TransportError):
        raise
    except AifactoryError as exc:
        raise CliError(str(exc)) from None


Advance = Callable[[int, int | None], None]


def transfer_bar() -> Progress:
    """Bars of bytes moved, with speed, on stderr; shown only on a terminal (uploads and downloads alike)."""
    console = stderr()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


@contextmanager
def transfer() -> Iterator[Callable[[str], Advance]]:
    """One Rich progress display on stderr (only on a terminal); ``track(label)`` adds a bar and answers the
    ``progress(done, total)`` that moves it."""
    bar = transfer_bar()

    def track(label: str) -> Advance:
        task = bar.add_task(label, total=None)
        return lambda done_, total: bar.update(task, completed=done_, total=total)

    with bar:
        yield track


def _usage_line(usage: Row) -> str:
    return (
        f"{human_bytes(usage['bytes'])} of {human_bytes(usage['max_bytes'])}, "
        f"{usage['files']:,} of {usage['max_files']:,} files"
        + (
            f"; {usage['uploads']} upload(s) under way ({human_bytes(usage['uploading_bytes'])})"
            if usage["uploads"]
            else ""
        )
    )


@app.command("put")
def put(
    file: Annotated[Path, typer.Argument(help="the local file", exists=True, dir_okay=False, readable=True)],
    name: Annotated[
        str | None, typer.Option("--name", help="its name in the storage (default: the file's name)")
    ] = None,
    project: ProjectOpt = None,
) -> None:
    """Upload a file (resumable: run it again after an interruption and it goes on where the server stands)."""
    client = api()
    pid = project_id(client, project)
    target = name or file.name
    with one_line(), transfer() as track:
        hashing, sending = track(f"hashing {file.name}"), track(f"uploading {target}")
        stored = client.upload_file(
            pid,
            file,
            name=target,
            progress=sending,
            hashing=hashing,
            on_resume=lambda at: note(f"resuming the upload of {target} at byte {at:,}", style="dim"),
        )
    done(stored, f"Stored {stored['name']} in project {pid} ({stored['size']:,} bytes, sha256 {stored['sha256']})")


@app.command("ls")
def ls(
    prefix: Annotated[str | None, typer.Argument(help="only names that start with this (e.g. a folder/)")] = None,
    project: ProjectOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 200,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """The project's files with their sizes and sha256, and its usage against its quota."""
    client = api()
    pid = project_id(client, project)
    page = client.list_storage(pid, prefix=prefix, limit=limit, offset=offset)
    caption = f"{page_caption(page)}; project {pid} uses {_usage_line(page['usage'])}"
    emit(page, table(page["items"], FILE_COLS, title=f"Storage of project {pid}", caption=caption))


@app.command("get")
def get(
    name: Annotated[str, typer.Argument(help="the stored file's name")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="where to write it (default: its file name here)")
    ] = None,
    project: ProjectOpt = None,
) -> None:
    """Download a stored file (sha256 verified; a partial OUT.part left by an interruption is continued)."""
    client = api()
    pid = project_id(client, project)
    target = out or Path(name.rsplit("/", 1)[-1])
    if target.is_dir():
        target = target / name.rsplit("/", 1)[-1]

    def resumed(have: int) -> None:
        note(f"resuming {target} at byte {have:,}", style="dim")

    with one_line(), transfer() as track:
        saved = client.download_stored(pid, name, target, progress=track(f"downloading {name}"), on_resume=resumed)
    done({"name": name, "file": str(saved)}, f"Saved {name} to {saved} (sha256 verified)")


@app.command("rm")
def rm(
    name: Annotated[str, typer.Argument(help="the stored file (or folder, with -r)")],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="a folder: every file in it")] = False,
    project: ProjectOpt = None,
) -> None:
    """Delete a stored file (datasets registered from it keep their own copy)."""
    client = api()
    pid = project_id(client, project)
    client.delete_stored(pid, name, recursive=recursive)
    done(
        {"name": name, "deleted": True},
        f"Deleted {name}{' and everything in it' if recursive else ''} from project {pid}",
    )


@app.command("register")
def register(
    name: Annotated[str, typer.Argument(help="a stored file or folder")],
    slug: Annotated[str, typer.Option("--slug", help="lowercase letters, digits and -")],
    title: Annotated[str, typer.Option("--title")],
    summary: Annotated[str, typer.Option("--summary")] = "",
    licence: Annotated[str | None, typer.Option("--licence", help="e.g. CC-BY-4.0")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="repeatable")] = None,
    public: Annotated[
        bool,
        typer.Option("--public", help="visible to everyone once an operator approved it (default: your organization)"),
    ] = False,
    project: ProjectOpt = None,
) -> None:
    """Register a stored file or folder as a catalog dataset (format, sha256 and a preview are worked out)."""
    client = api()
    pid = project_id(client, project)
    item = client.register_dataset(
        pid,
        path=name,
        slug=slug,
        title=title,
        summary=summary,
        licence=licence,
        tags=tag or [],
        visibility="public" if public else "organization",
    )
    details: dict[str, Any] = item["details"]
    waits = " (waits for an operator's approval to be listed)" if item.get("approval") == "pending" else ""
    done(
        item,
        f"Registered dataset {item['slug']}: {details.get('format')}, {details['size']:,} bytes, "
        f"sha256 {details['sha256']}{waits}; see `aifactory catalog show dataset {item['slug']}`",
    )


@app.command("quota")
def quota(
    project: ProjectOpt = None,
    max_bytes: Annotated[str | None, typer.Option("--max-bytes", help="e.g. 50GiB, or default")] = None,
    max_files: Annotated[str | None, typer.Option("--max-files", help="a number, or default")] = None,
) -> None:
    """The project's storage usage and quota; operators set it with --max-bytes / --max-files."""
    client = api()
    pid = project_id(client, project)
    usage: Json = client.list_storage(pid, limit=1)["usage"]
    if max_bytes is None and max_files is None:
        emit(usage, record(usage, _QUOTA_FIELDS, title=f"Storage of project {pid}"))
        return
    new_bytes = parse_size(max_bytes) if max_bytes is not None else usage["quota_bytes"]
    new_files = usage["quota_files"] if max_files is None else _count(max_files)
    usage = client.set_storage_quota(pid, max_bytes=new_bytes, max_files=new_files)
    emit(usage, Text(f"Project {pid} may now store {_usage_line(usage)}", style="green"))


def _count(text: str) -> int | None:
    if text.strip().lower() in ("default", "none"):
        return None
    if not text.strip().replace(",", "").replace("_", "").isdigit():
        raise CliError(f"--max-files {text!r}: a whole number (or default)")
    return int(text.strip().replace(",", "").replace("_", ""))


_QUOTA_FIELDS = [
    Col("Used", lambda u: f"{human_bytes(u['bytes'])} ({u['bytes']:,} bytes) in {u['files']:,} files"),
    Col("Quota", lambda u: f"{human_bytes(u['max_bytes'])}, {u['max_files']:,} files"),
    Col(
        "Set by an operator",
        lambda u: "yes" if u["quota_bytes"] is not None or u["quota_files"] is not None else "no (defaults)",
    ),
    Col(
        "Uploads under way",
        lambda u: f"{u['uploads']} ({human_bytes(u['uploading_bytes'])})" if u["uploads"] else fmt(0),
    ),
]
