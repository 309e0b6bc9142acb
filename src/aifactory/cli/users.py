"""``aifactory users``: list, create, roles."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from .output import Col, Row, done, show_page, show_record, under
from .state import CliError, api

app = typer.Typer(
    help="Users: operators see everyone, organization admins their own organization.", no_args_is_help=True
)


def roles(user: Row) -> str:
    named = [
        label
        for key, label in (("is_operator", "operator"), ("is_reviewer", "reviewer"), ("is_org_admin", "org admin"))
        if user.get(key)
    ]
    return ", ".join(named) or "member"


USER_COLS = [
    Col("ID", "id", justify="right"),
    Col("E-mail", "email", wrap=True),
    Col("Name", "name", wrap=True),
    Col("Organization", "organization_id", wrap=True, names="organization"),
    Col("Roles", roles, wrap=True),
    Col("Active", "active", style=lambda v: None if v else "red"),
]

USER_FIELDS = [*USER_COLS, Col("Created", "created_at")]
TOKEN_FIELDS = [
    Col("Token ID", "id"),
    Col("Name", "name"),
    Col("Expires", "expires_at"),
    Col("Secret (shown once)", "token", style=lambda _: "bold yellow"),
]

Role = Literal["operator", "reviewer"]


@app.command("list")
def list_users(
    org: Annotated[int | None, typer.Option("--org", help="organization id")] = None,
    role: Annotated[Role | None, typer.Option(help="only operators or reviewers")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """List users."""
    show_page(api().list_users(organization_id=org, role=role, limit=limit, offset=offset), USER_COLS, title="Users")


@app.command("create")
def create_user(
    email: Annotated[str, typer.Option(help="e-mail (the login name)")],
    name: Annotated[str, typer.Option(help="full name")],
    org: Annotated[int | None, typer.Option("--org", help="organization id (none: factory staff)")] = None,
    reviewer: Annotated[bool, typer.Option("--reviewer", help="may review proposals")] = False,
    operator: Annotated[bool, typer.Option("--operator", help="factory operator")] = False,
    org_admin: Annotated[bool, typer.Option("--org-admin", help="admin of the organization")] = False,
) -> None:
    """Create a user; prints its first API token once."""
    out = api().create_user(
        email=email, name=name, organization_id=org, is_reviewer=reviewer, is_operator=operator, is_org_admin=org_admin
    )
    show_record(out, under("user", USER_FIELDS) + under("token", TOKEN_FIELDS), title="User created")


@app.command("roles")
def set_roles(
    user_ref: Annotated[str, typer.Argument(metavar="USER", help="user id or e-mail address")],
    reviewer: Annotated[bool | None, typer.Option("--reviewer/--no-reviewer")] = None,
    operator: Annotated[bool | None, typer.Option("--operator/--no-operator")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
    verified: Annotated[
        bool | None, typer.Option("--verified/--unverified", help="vouch for the user's e-mail address (or not)")
    ] = None,
) -> None:
    """Grant or take away the reviewer and operator roles; (de)activate a user; vouch for their e-mail
    address (operators)."""
    user = api().set_roles(
        _user_id(user_ref), is_reviewer=reviewer, is_operator=operator, active=active, email_verified=verified
    )
    state = "active" if user["active"] else "inactive"
    done(user, f"User {user['id']} ({user['email']}): {roles(user)}, {state}")


def _user_id(ref: str) -> int:
    """A user id as given, or the id of the user with that e-mail address."""
    if ref.strip().isdigit():
        return int(ref)
    found = api().find_user(ref) if "@" in ref else None
    if found is None:
        raise CliError(f"no user {ref!r} among those you may list (give a user id or an e-mail address)")
    return int(found["id"])
