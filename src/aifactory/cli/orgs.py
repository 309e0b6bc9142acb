"""``aifactory orgs``: organizations (public facts only)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..domain.enums import OrgKind
from .output import Col, done, show_page, show_record, show_rows
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


OrgId = Annotated[int, typer.Argument(help="organization id")]
MEMBER_COLS = [
    Col("ID", "id", justify="right"),
    Col("Name", "name", wrap=True),
    Col("E-mail", "email", wrap=True),
    Col("Admin", "is_org_admin"),
]


@app.command("invite")
def invite(
    org_id: OrgId,
    email: Annotated[str, typer.Argument(help="the colleague's e-mail address")],
    admin: Annotated[bool, typer.Option("--admin", help="as an admin of the organization")] = False,
) -> None:
    """Invite a colleague to your organization by e-mail (its admin)."""
    sent = api().invite_to_organization(org_id, email, "admin" if admin else "member")
    done(
        sent, f"Invitation {sent['id']} sent to {sent['email']} (the link works once, until {sent['expires_at'][:10]})"
    )


@app.command("members")
def members(org_id: OrgId) -> None:
    """The organization's members (its admin)."""
    show_rows(api().organization_members(org_id), MEMBER_COLS, title=f"Members of organization {org_id}")


@app.command("set-admin")
def set_admin(
    org_id: OrgId,
    user_id: Annotated[int, typer.Argument(help="user id")],
    admin: Annotated[bool, typer.Option("--admin/--no-admin", help="make or unmake an admin")] = True,
) -> None:
    """Make a member an admin of the organization, or not (an organization keeps one admin)."""
    user = api().set_organization_admin(org_id, user_id, admin)
    done(user, f"{user['email']} is {'an admin' if user['is_org_admin'] else 'a member'} of organization {org_id}")


@app.command("remove-member")
def remove_member(org_id: OrgId, user_id: Annotated[int, typer.Argument(help="user id")]) -> None:
    """Remove a member: their account is deactivated (the organization's admin)."""
    api().remove_organization_member(org_id, user_id)
    done({"organization_id": org_id, "user_id": user_id, "removed": True}, f"User {user_id} removed")


CONSENT_COLS = [
    Col("ID", "id", justify="right"),
    Col("Proposal", "proposal_id", justify="right"),
    Col("State", "state"),
    Col("Asked", "requested_at", optional=True),
    Col("Answered", "answered_at", optional=True),
]


@app.command("consents")
def consents() -> None:
    """Proposals that name your organization as a partner (its admin): confirm or decline each."""
    show_rows(api().consent_requests(), CONSENT_COLS, title="Partnership requests")


@app.command("consent")
def consent(
    consent_id: Annotated[int, typer.Argument(help="request id (see `aifactory orgs consents`)")],
    confirm: Annotated[bool, typer.Option("--confirm/--decline", help="take part, or not")] = True,
) -> None:
    """Confirm (or decline) that your organization takes part in a proposal as a partner."""
    answered = api().answer_consent(consent_id, confirm)
    done(answered, f"Proposal {answered['proposal_id']}: partnership {answered['state']}")
