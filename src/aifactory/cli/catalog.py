"""``aifactory catalog`` (search, show, publish) and ``aifactory templates`` (list, run).

aifactory catalog search bread --kind model --tag food
aifactory templates run hello-gpu --project 1 --param greeting=moin --param repeat=2 --follow
aifactory templates run bakery-forecast --param sales=@my-sales      # a dataset (or ./sales.csv: uploaded first)
aifactory catalog publish --job 7 --path out.json --kind model --slug bakery-model --title "Bakery model"
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import RenderableType
from rich.markdown import Markdown
from rich.rule import Rule
from rich.text import Text

from ..client import AifactoryClient
from ..domain.storage import human_bytes
from .data import one_line, project_id, transfer
from .follow import report_or_follow
from .output import Col, Row, dig, done, emit, note, record, show_page, table
from .state import CliError, api, current

app = typer.Typer(help="The catalog: templates, models, datasets and stories.", no_args_is_help=True)
templates_app = typer.Typer(help="Job templates: list them, run one as a job.", no_args_is_help=True)

ITEM_COLS = [
    Col("Kind", "kind"),
    Col("Slug", "slug", wrap=True),
    Col("Title", "title", wrap=True),
    Col("Tags", "tags", wrap=True),
    Col("Visibility", "visibility", optional=True),
]
# (the summary is in `catalog show`: a fifth wrapping column leaves none of them room on an 80-column terminal)
LINK_COLS = [
    Col("From item", "from_item_id"),
    Col("Relation", "relation"),
    Col("To item", "to_item_id"),
    Col("Job", "job_id"),
]
PARAMETER_COLS = [
    Col("Parameter", "name"),
    Col("Type", "type"),
    Col("Default", "default", wrap=True),
    Col("Description", "description", wrap=True),
]
# kinds whose items are files: their licence, size and checksum are shown even when not stated
FILE_KINDS = frozenset({"model", "dataset"})


def _size(value: Any) -> str | None:
    """``1,234,567 bytes (1.2 MiB)``."""
    if not isinstance(value, int):
        return None
    return f"{value:,} bytes" + (f" ({human_bytes(value)})" if abs(value) >= 1024 else "")


def _runs(item: Row) -> str | None:
    """What a template's job runs: its command, or the first line of its script."""
    job = dig(item, "details.job") or {}
    if job.get("command"):
        return " ".join(str(part).splitlines()[0] if str(part).strip() else str(part) for part in job["command"])
    script = str(job.get("script") or "").strip().splitlines()
    return f"script: {script[0]}{' …' if len(script) > 1 else ''}" if script else None


def item_fields(item: Row, owner: str) -> list[Col]:
    """The facts of one item worth reading, in order; those it does not have are left out."""
    files = item["kind"] in FILE_KINDS
    fields = [
        (Col("Title", "title"), True),
        (Col("Kind", "kind"), True),
        (Col("Slug", "slug"), True),
        (Col("Summary", "summary"), False),
        (Col("Owner", lambda _: owner), True),
        (Col("Visibility", "visibility"), True),
        (Col("Tags", "tags"), True),
        (Col("Version", "details.version"), False),
        (Col("Framework", "details.framework"), False),
        (Col("Format", "details.format"), False),
        (Col("Origin", "details.origin"), False),
        (Col("Licence", "details.licence"), files),
        (Col("Size", lambda i: _size(dig(i, "details.size"))), files),
        (Col("SHA-256", "details.sha256"), files),
        (Col("URL", "details.url"), False),
        (Col("Metrics", "details.metrics"), False),
        (Col("Organization", "details.organization"), False),
        (Col("Runs", _runs), False),
        (Col("Resources", "details.resources"), False),
        (Col("Datasets", "details.datasets"), False),
        (Col("Produced by job", "job_id"), False),
        (Col("Files", "details.files"), False),
        (Col("From storage", _from_storage), False),
        (Col("Updated", "updated_at"), True),
    ]
    return [col for col, always in fields if always or col.value(item) not in (None, "", [], {})]


def _owner(item: Row) -> str:
    org = item.get("owner_organization_id")
    if org is None:
        return "the factory (built in)" if dig(item, "details.source") == "builtin" else "the factory"
    name = current().name_of("organization", org)
    return f"{name} (organization {org})" if name else f"organization {org}"


def _parameters(item: Row) -> list[dict[str, Any]]:
    """A template's parameters: name, type, default and description."""
    properties = (dig(item, "details.parameters") or {}).get("properties") or {}
    return [
        {
            "name": name,
            "type": "dataset (@slug, storage path or local file)" if p.get("format") == "dataset" else p.get("type"),
            "default": p.get("default"),
            "description": p.get("description"),
        }
        for name, p in properties.items()
        if isinstance(p, dict)
    ]


def _from_storage(item: Row) -> str | None:
    """A dataset registered from project storage: where from, and who uploaded it."""
    source = dig(item, "details.provenance") or {}
    if source.get("source") != "project-storage":
        return None
    people = ", ".join(str(p.get("name")) for p in source.get("uploaded_by") or [])
    return f"project {source.get('project_id')}: {source.get('storage_path')} (uploaded by {people or 'unknown'})"


def preview_table(item: Row) -> RenderableType | None:
    """A dataset's schema preview: its columns (with their types) over its first rows, and the row count."""
    preview = dig(item, "details.preview") or {}
    columns = preview.get("columns") or []
    if not columns:
        notes = "; ".join(preview.get("notes") or [])
        return Text(f"Preview: {notes}", style="dim") if notes else None
    rows = [{str(i): v for i, v in enumerate(r)} for r in preview.get("rows") or []]
    cols = [Col(f"{c['name']} ({c['type']})", str(i), wrap=True) for i, c in enumerate(columns)]
    count = preview.get("row_count")
    caption = (f"{len(rows)} of {count:,} rows" if isinstance(count, int) else f"the first {len(rows)} rows") + (
        f" of {preview['file']}" if preview.get("file") else ""
    )
    return table(rows, cols, title="Preview", caption=caption)


def _item_view(item: Row) -> list[RenderableType | None]:
    parameters = _parameters(item)
    results = dig(item, "details.results")
    results = None if not results or str(results).strip() in str(item.get("body") or "") else results
    return [
        record(item, item_fields(item, _owner(item)), title=f"{item['kind']} {item['slug']}"),
        table(parameters, PARAMETER_COLS, title="Parameters") if parameters else None,
        preview_table(item),
        Text("Results", style="bold") if results else None,
        Markdown(str(results)) if results else None,
        Rule(style="dim") if item.get("body") else None,
        Markdown(item["body"]) if item.get("body") else None,
        table(item["links"], LINK_COLS, title="Provenance") if item.get("links") else None,
    ]


@app.command("search")
def search(
    q: Annotated[str | None, typer.Argument(help="words in titles, summaries and tags")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="template, model, dataset or story")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="only items with this tag (repeatable)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Search the catalog: public items and your organization's."""
    page = api().search_catalog(q, kind=kind, tags=tag or (), limit=limit, offset=offset)
    show_page(page, ITEM_COLS, title="Catalog")


@app.command("show")
def show(
    kind: Annotated[str, typer.Argument(help="template, model, dataset or story")],
    slug: Annotated[str, typer.Argument(help="the item's slug")],
) -> None:
    """One item, readable: its facts (owner, licence, size, sha256, …), its description and its provenance.

    With --json: the API's answer, for scripts."""
    item = api().get_catalog_item(kind, slug)
    emit(item, *([] if current().json_output else _item_view(item)))


@app.command("publish")
def publish(
    job: Annotated[int, typer.Option("--job", min=1, help="a completed job of your project")],
    path: Annotated[str, typer.Option("--path", help="the artifact (see `aifactory jobs artifacts`)")],
    slug: Annotated[str, typer.Option("--slug", help="lowercase letters, digits and -")],
    title: Annotated[str, typer.Option("--title")],
    kind: Annotated[str, typer.Option("--kind", help="model or dataset")] = "model",
    summary: Annotated[str, typer.Option("--summary")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="repeatable")] = None,
    public: Annotated[
        bool, typer.Option("--public", help="visible to every user (default: your organization only)")
    ] = False,
    save_to: Annotated[
        str | None,
        typer.Option("--save-to", help="also save it under this name in the project's storage (one step)"),
    ] = None,
) -> None:
    """Publish a job's artifact as a model or dataset (sha256 verified, provenance linked); --save-to stores it
    in the project's storage first (a dataset is then registered from there, usable as a job input)."""
    fields: dict[str, Any] = {"save_to": save_to} if save_to else {}
    item = api().publish_job_output(
        job,
        path=path,
        kind=kind,
        slug=slug,
        title=title,
        summary=summary,
        tags=tag or [],
        visibility="public" if public else "organization",
        **fields,
    )
    saved = f"; saved as {save_to}" if save_to else ""
    done(
        item,
        f"Published {item['kind']} {item['slug']} (sha256 {item['details']['sha256']}, "
        f"{item['details']['size']:,} bytes) from job {job}{saved}",
    )


@templates_app.command("list")
def list_templates() -> None:
    """The templates of this site (built in and its own)."""
    show_page(api().search_catalog(kind="template", limit=200), ITEM_COLS[1:], title="Templates")


def _params(client: AifactoryClient, name: str, given: list[str]) -> tuple[dict[str, Any], list[str]]:
    """``k=v`` pairs; a value is JSON (2, true, [1,2]) unless the template declares the parameter a string.
    Also the data parameters given (``"format": "dataset"``)."""
    schema = client.get_catalog_item("template", name)["details"]["parameters"].get("properties", {})
    out: dict[str, Any] = {}
    for pair in given:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--param {pair!r}: write it as NAME=VALUE")
        if schema.get(key, {}).get("type") == "string":
            out[key] = raw
            continue
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out, [k for k in out if schema.get(k, {}).get("format") == "dataset"]


def _upload_local(client: AifactoryClient, pid: int, template: str, params: dict[str, Any], data: list[str]) -> None:
    """A data parameter whose value is a local file (not ``@slug``): uploaded first to the project's storage
    (``runs/<template>/<file name>``, with a progress bar); the run gets its storage path."""
    for key in data:
        value = params[key]
        local = Path(value).expanduser() if isinstance(value, str) and value and not value.startswith("@") else None
        if local is None or not local.is_file():
            continue  # a dataset, or a path already in the project's storage
        target = f"runs/{template}/{local.name}"
        with one_line(), transfer() as track:
            stored = client.upload_file(pid, local, name=target, progress=track(f"uploading {local.name}"))
        note(f"uploaded {local} to the storage of project {pid} as {stored['name']}", style="dim")
        params[key] = stored["name"]


@templates_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="the template's name (see `aifactory templates list`)")],
    project: Annotated[
        str | None, typer.Option("--project", help="project id or Slurm account (default: your only project)")
    ] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE (repeatable)")] = None,
    job_name: Annotated[str | None, typer.Option("--name", help="job name (default: the template's)")] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-f", help="stream the job's output until it ends; exit 0 when it completed, 1 otherwise"
        ),
    ] = False,
) -> None:
    """Run a template as a job of your project (admitted and charged like any job)."""
    client = api()
    params, data = _params(client, name, param or [])
    pid = project_id(client, project)
    _upload_local(client, pid, name, params, data)
    job = client.run_template(name, project=pid, params=params, job_name=job_name)
    report_or_follow(client, job, follow)
