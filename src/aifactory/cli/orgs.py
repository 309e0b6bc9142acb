"""``aifactory orgs``: organizations (public facts only)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..domain.enums import OrgKind
from .output import Col, show_page, show_record
from .state import api

app = typer.Typer(help="Organizations: name, kind, country, sectors.", no_args_is_help=True)

ORG_COLS = [
    Col("ID", "id", justify="right"),
    Col("Name", "name", wrap=True),
    Col("Kind", "kind"),
    Col("Country", "country"),
    Col("Sectors", "sectors", wrap=True),
]


@app.command("list")
def list_orgs(
    kind: Annotated[OrgKind | None, typer.Option(help="only this kind")] = None,
    country: Annotated[str | None, typer.Option(help="ISO country code, e.g. DE")] = None,
    q: Annotated[str | None, typer.Option("--q", help="name contains")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """List organizations."""
    page = api().list_organizations(kind=kind.value if kind else None, country=country, q=q, limit=limit, offset=offset)
    show_page(page, ORG_COLS, title="Organizations")


@app.command("show")
def show_org(org_id: Annotated[int, typer.Argument(help="organization id")]) -> None:
    """Show one organization."""
    show_record(api().get_organization(org_id), [*ORG_COLS, Col("Registered", "created_at")])
