"""Team pages: a project's team (members, roles, invitations; changes by its PI), and an invitation's link
(accept when signed in, or sign up from it and join)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.enums import ProjectRole
from ...domain.errors import DomainError, InvalidInput
from ...domain.teams import Invitation, InvitationKind
from ...services import invitations, projects, sessions
from ..forms import field_errors, read_form
from ..render import redirect, render
from ..viewer import CsrfChecked, CurrentViewer, SignedIn, SignedInChecked, Viewer
from .auth import _start_session

router = APIRouter()


@dataclass(frozen=True)
class TeamMember:
    user_id: int
    name: str
    email: str
    role: str


def _team(viewer: Viewer, project_id: int) -> dict[str, Any]:
    with viewer.ctx.uow_factory(write=False) as uow:
        project = projects.get(uow, viewer.actor, project_id)
        users = {m.user_id: uow.users.get(m.user_id) for m in project.members}
        members = [
            TeamMember(m.user_id, u.name, u.email, m.role.value) for m in project.members if (u := users[m.user_id])
        ]
        is_pi = viewer.actor.is_operator or project.role_of(viewer.actor.id) is ProjectRole.PI
        pending = invitations.pending(uow, viewer.ctx.clock, viewer.actor, project_id=project_id) if is_pi else []
    return {"project": project, "members": members, "is_pi": is_pi, "pending": pending}


@router.get("/projects/{project_id}/team", response_class=HTMLResponse)
def team_page(request: Request, project_id: int, viewer: SignedIn) -> Response:
    return render(request, viewer, "team/project.html", errors={}, form={}, **_team(viewer, project_id))


@router.post("/projects/{project_id}/team/invite", response_class=HTMLResponse)
async def invite(request: Request, project_id: int, viewer: SignedInChecked) -> Response:
    form = await read_form(request)
    try:
        with viewer.ctx.uow_factory(write=True) as uow:
            sent = invitations.invite_to_project(
                uow, viewer.ctx.clock, viewer.actor, project_id, email=form.get("email", ""), role=form.get("role", "")
            )
    except InvalidInput as exc:
        context = _team(viewer, project_id)
        errors = field_errors(exc, {"email", "role"})
        return render(request, viewer, "team/project.html", status=422, errors=errors, form=form, **context)
    flash = viewer.t.gettext("Invitation sent to %(email)s.", email=sent.invitation.email)
    return redirect(viewer, f"/projects/{project_id}/team", flash)


@router.post("/projects/{project_id}/team/remove/{user_id}")
async def remove(project_id: int, user_id: int, viewer: SignedInChecked) -> Response:
    with viewer.ctx.uow_factory(write=True) as uow:
        projects.remove_member(uow, viewer.ctx.clock, viewer.actor, project_id, user_id)
    return redirect(viewer, f"/projects/{project_id}/team", viewer.t.gettext("Member removed."))


@router.post("/team/invitations/{invitation_id}/revoke")
async def revoke(invitation_id: int, viewer: SignedInChecked) -> Response:
    with viewer.ctx.uow_factory(write=True) as uow:
        revoked = invitations.revoke(uow, viewer.ctx.clock, viewer.actor, invitation_id)
    target = f"/projects/{revoked.project_id}/team" if revoked.project_id else "/organization"
    return redirect(viewer, target, viewer.t.gettext("Invitation to %(email)s revoked.", email=revoked.email))


def _landing(invitation: Invitation) -> str:
    return f"/projects/{invitation.project_id}/team" if invitation.kind is InvitationKind.PROJECT else "/organization"


def _link_page(
    request: Request, viewer: Viewer, secret: str, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        view = invitations.lookup(uow, viewer.ctx.clock, secret)
    return render(request, viewer, "team/invitation.html", status=status, view=view, secret=secret, errors=errors or {})


@router.get("/invitations/{secret}", response_class=HTMLResponse)
def invitation_page(request: Request, secret: str, viewer: CurrentViewer) -> Response:
    return _link_page(request, viewer, secret)


@router.post("/invitations/{secret}", response_class=HTMLResponse)
async def accept(request: Request, secret: str, viewer: SignedInChecked) -> Response:
    try:
        with viewer.ctx.uow_factory(write=True) as uow:
            invitation = invitations.accept(uow, viewer.ctx.clock, viewer.actor, secret)
    except DomainError as exc:
        return _link_page(request, viewer, secret, exc.status, field_errors(exc, set()))
    return redirect(viewer, _landing(invitation), viewer.t.gettext("Welcome to the team."))


@router.post("/invitations/{secret}/signup", response_class=HTMLResponse)
async def signup(request: Request, secret: str, viewer: CsrfChecked) -> Response:
    """An account for the invited address, joined at once; the link proved the address."""
    form = await read_form(request)
    ctx = viewer.ctx
    try:
        if form.get("password", "") != form.get("password2", ""):
            raise InvalidInput.on("password2", viewer.t.gettext("the two passwords differ"))
        with ctx.uow_factory(write=False) as uow:
            email = invitations.lookup(uow, ctx.clock, secret).invitation.email
        password_hash = sessions.hash_password(form.get("password", ""), email, form.get("name", ""))
        with ctx.uow_factory(write=True) as uow:
            user = invitations.accept_new_account(
                uow, ctx.clock, secret, name=form.get("name", ""), password_hash=password_hash, language=viewer.lang
            )
            invitation = invitations.lookup_used(uow, secret)
    except DomainError as exc:
        errors = field_errors(exc, {"name", "password", "password2"})
        return _link_page(request, viewer, secret, exc.status, errors)
    return _start_session(viewer, user, _landing(invitation), viewer.t.gettext("Welcome to the team."))
