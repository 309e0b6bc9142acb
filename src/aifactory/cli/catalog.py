"""``aifactory catalog`` (search, show, publish) and ``aifactory templates`` (list, run).

aifactory catalog search bread --kind model --tag food
aifactory templates run hello-gpu --project 1 --param greeting=moin --param repeat=2 --follow
aifactory catalog publish --job 7 --path out.json --kind model --slug bakery-model --title "Bakery model"
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markdown import Markdown

from ..client import AifactoryClient
from .jobs import report_or_follow
from .output import Col, done, emit, record, show_page, table
from .state import CliError, api

app = typer.Typer(help="The catalog: templates, models, datasets and stories.", no_args_is_help=True)
templates_app = typer.Typer(help="Job templates: list them, run one as a job.", no_args_is_help=True)

ITEM_COLS = [
    Col("Kind", "kind"),
    Col("Slug", "slug"),
    Col("Title", "title", wrap=True),
    Col("Tags", lambda i: ", ".join(i["tags"]), wrap=True),
    Col("Visibility", "visibility"),
]
# (the summary is in `catalog show`: a fifth wrapping column leaves none of them room on an 80-column terminal)
ITEM_FIELDS = [
    Col("Kind", "kind"),
    Col("Slug", "slug"),
    Col("Title", "title"),
    Col("Summary", "summary"),
    Col("Tags", lambda i: ", ".join(i["tags"])),
    Col("Visibility", "visibility"),
    Col("Owner organization", "owner_organization_id"),
    Col("Produced by job", "job_id"),
    Col("Details", lambda i: json.dumps(i["details"], indent=1, sort_keys=True)[:4000]),
]
LINK_COLS = [
    Col("From item", "from_item_id"),
    Col("Relation", "relation"),
    Col("To item", "to_item_id"),
    Col("Job", "job_id"),
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
    """One item: its details, its description and its provenance."""
    item = api().get_catalog_item(kind, slug)
    emit(
        item,
        record(item, ITEM_FIELDS, title=f"{item['kind']} {item['slug']}"),
        Markdown(item["body"]) if item["body"] else None,
        table(item["links"], LINK_COLS, title="Provenance") if item["links"] else None,
    )


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
) -> None:
    """Publish a job's artifact as a model or dataset (sha256 verified, provenance linked)."""
    item = api().publish_job_output(
        job,
        path=path,
        kind=kind,
        slug=slug,
        title=title,
        summary=summary,
        tags=tag or [],
        visibility="public" if public else "organization",
    )
    done(
        item,
        f"Published {item['kind']} {item['slug']} (sha256 {item['details']['sha256']}, "
        f"{item['details']['size']:,} bytes) from job {job}",
    )


@templates_app.command("list")
def list_templates() -> None:
    """The templates of this site (built in and its own)."""
    show_page(api().search_catalog(kind="template", limit=200), ITEM_COLS[1:4] + ITEM_COLS[5:], title="Templates")


def _params(client: AifactoryClient, name: str, given: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; a value is JSON (2, true, [1,2]) unless the template declares the parameter a string."""
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
    return out


@templates_app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="the template's name (see `aifactory templates list`)")],
    project: Annotated[str, typer.Option("--project", help="project id or Slurm account")],
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
    job = client.run_template(
        name,
        project=int(project) if project.isdigit() else project,
        params=_params(client, name, param or []),
        job_name=job_name,
    )
    report_or_follow(client, job, follow)
