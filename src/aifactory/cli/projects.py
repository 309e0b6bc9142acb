"""``aifactory projects`` (members) and ``aifactory allocations`` (GPU-hours granted to projects)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..domain.enums import ProjectRole
from .output import Col, Row, done, show_page, show_record, show_rows, status_style, table
from .state import api

app = typer.Typer(help="Projects (what work is charged to) and their members.", no_args_is_help=True)
allocations_app = typer.Typer(help="Allocations: GPU-hours on a resource for a period.", no_args_is_help=True)

ProjectId = Annotated[int, typer.Argument(help="project id")]
Limit = Annotated[int, typer.Option(min=1, max=200)]
Offset = Annotated[int, typer.Option(min=0)]


def _granted(p: Row) -> int:
    return sum(a["gpu_hours"] for a in p["allocations"])


PROJECT_COLS = [
    Col("ID", "id", justify="right"),
    Col("Name", "name", wrap=True),
    Col("Slurm account", "slurm_account", wrap=True),
    Col("Proposal", "proposal_id", justify="right", optional=True),
    Col("Members", lambda p: len(p["members"]), justify="right"),
    Col("GPU-hours", _granted, justify="right"),
]
PROJECT_FIELDS = [
    *PROJECT_COLS[:4],
    Col("Lead organization", "lead_organization_id", names="organization"),
    Col("Organizations", "organization_ids", names="organization"),
    Col("Created", "created_at"),
]
MEMBER_COLS = [Col("User", "user_id", justify="right"), Col("Role", "role"), Col("Added", "added_at")]
ALLOCATION_COLS = [
    Col("ID", "id", justify="right"),
    Col("Project", "project_id", wrap=True, names="project"),
    Col("Resource", "resource_id", wrap=True, names="resource"),
    Col("GPU-hours", "gpu_hours", justify="right"),
    Col("Start", "start_date", optional=True),
    Col("End", "end_date"),
    Col("Status", "status", style=status_style),
]


@app.command("list")
def list_projects(limit: Limit = 50, offset: Offset = 0) -> None:
    """Projects you are a member of (operators: all)."""
    show_page(api().list_projects(limit=limit, offset=offset), PROJECT_COLS, title="Projects")


@app.command("show")
def show(project_id: ProjectId) -> None:
    """A project with its members and allocations."""
    p = api().get_project(project_id)
    show_record(
        p,
        PROJECT_FIELDS,
        title=f"Project {p['id']}",
        extra=[
            table(p["members"], MEMBER_COLS, title="Members"),
            table(p["allocations"], ALLOCATION_COLS, title="Allocations"),
        ],
    )


@app.command("add-member")
def add_member(
    project_id: ProjectId,
    user: Annotated[int | None, typer.Option("--user", help="user id")] = None,
    email: Annotated[str | None, typer.Option(help="or the user's e-mail")] = None,
    role: Annotated[ProjectRole, typer.Option(help="pi or member")] = ProjectRole.MEMBER,
) -> None:
    """Add a user of one of the project's organizations by id, or invite by e-mail (the PI or operators)."""
    if (user is None) == (email is None):
        raise typer.BadParameter("name the user with exactly one of --user and --email")
    if email is not None:
        _invited(api().invite_to_project(project_id, email, role.value))
        return
    member = api().add_member(project_id, user_id=user, role=role.value)
    done(member, f"User {member['user_id']} added to project {project_id} as {member['role']}")


def _invited(invitation: Row) -> None:
    done(
        invitation,
        f"Invitation {invitation['id']} sent to {invitation['email']} as {invitation['role']} "
        f"(the link works once, until {invitation['expires_at'][:10]})",
    )


@app.command("invite")
def invite(
    project_id: ProjectId,
    email: Annotated[str, typer.Argument(help="the colleague's e-mail address")],
    role: Annotated[ProjectRole, typer.Option(help="pi or member")] = ProjectRole.MEMBER,
) -> None:
    """Invite a colleague by e-mail (the PI): they get a link to sign up or sign in and join."""
    _invited(api().invite_to_project(project_id, email, role.value))


INVITATION_COLS = [
    Col("ID", "id", justify="right"),
    Col("E-mail", "email", wrap=True),
    Col("Role", "role"),
    Col("Sent", "created_at", optional=True),
    Col("Expires", "expires_at"),
]


@app.command("invitations")
def invitations(project_id: ProjectId) -> None:
    """Pending invitations of a project (the PI)."""
    show_rows(api().project_invitations(project_id), INVITATION_COLS, title=f"Invitations to project {project_id}")


@app.command("revoke-invitation")
def revoke_invitation(invitation_id: Annotated[int, typer.Argument(help="invitation id")]) -> None:
    """Revoke a pending invitation: its link stops working."""
    revoked = api().revoke_invitation(invitation_id)
    done(revoked, f"Invitation {revoked['id']} to {revoked['email']} revoked")


@app.command("accept")
def accept(token: Annotated[str, typer.Argument(help="the token at the end of the invitation's link (inv_…)")]) -> None:
    """Accept an invitation sent to your address."""
    accepted = api().accept_invitation(token.rsplit("/", 1)[-1])
    done(
        accepted,
        f"Invitation accepted: you joined {accepted['kind']} {accepted['project_id'] or accepted['organization_id']}",
    )


@app.command("remove-member")
def remove_member(project_id: ProjectId, user_id: Annotated[int, typer.Argument(help="user id")]) -> None:
    """Remove a member (the PI or operators; a project keeps at least one PI)."""
    api().remove_member(project_id, user_id)
    done(
        {"project_id": project_id, "user_id": user_id, "removed": True},
        f"User {user_id} removed from project {project_id}",
    )


@allocations_app.command("list")
def list_allocations(
    project: Annotated[int | None, typer.Option("--project", help="only this project")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> None:
    """Allocations of your projects (operators: all)."""
    page = api().list_allocations(project_id=project, limit=limit, offset=offset)
    show_page(page, ALLOCATION_COLS, title="Allocations")


# (`allocations show` is in :mod:`.ledger`, with the balance)
