"""The organization page for its admin: members (make or unmake admin, remove), invitations (send, revoke),
and the proposals that name the organization as a partner (confirm or decline)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.errors import InvalidInput, NotFound
from ...services import consent, invitations, org_members
from ..forms import field_errors, read_form
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer

router = APIRouter()
PAGE = "/organization"


def _org_id(viewer: Viewer) -> int:
    org_id = viewer.actor.user.organization_id
    if org_id is None:
        raise NotFound("you belong to no organization")
    return org_id


def _page(request: Request, viewer: Viewer, status: int = 200, **context: object) -> Response:
    org_id = _org_id(viewer)
    clock = viewer.ctx.clock
    with viewer.ctx.uow_factory(write=False) as uow:
        org = invitations.require_org_admin(uow, viewer.actor, org_id)
        members = org_members.members(uow, viewer.actor, org_id)
        pending = invitations.pending(uow, clock, viewer.actor, organization_id=org_id)
        requests = consent.requests_for(uow, viewer.actor)
    context = {"errors": {}, "form": {}, **context}
    return render(
        request,
        viewer,
        "team/organization.html",
        status=status,
        org=org,
        members=members,
        pending=pending,
        requests=requests,
        **context,
    )


@router.get(PAGE, response_class=HTMLResponse)
def organization_page(request: Request, viewer: SignedIn) -> Response:
    return _page(request, viewer)


@router.post(PAGE + "/invite", response_class=HTMLResponse)
async def invite(request: Request, viewer: SignedInChecked) -> Response:
    form = await read_form(request)
    try:
        with viewer.ctx.uow_factory(write=True) as uow:
            sent = invitations.invite_to_organization(
                uow,
                viewer.ctx.clock,
                viewer.actor,
                _org_id(viewer),
                email=form.get("email", ""),
                role=form.get("role", ""),
            )
    except InvalidInput as exc:
        return _page(request, viewer, 422, errors=field_errors(exc, {"email", "role"}), form=form)
    return redirect(viewer, PAGE, viewer.t.gettext("Invitation sent to %(email)s.", email=sent.invitation.email))


@router.post(PAGE + "/members/{user_id}/role")
async def set_role(request: Request, user_id: int, viewer: SignedInChecked) -> Response:
    form = await read_form(request)
    with viewer.ctx.uow_factory(write=True) as uow:
        org_members.set_admin(uow, viewer.ctx.clock, viewer.actor, _org_id(viewer), user_id, form.get("admin") == "1")
    return redirect(viewer, PAGE, viewer.t.gettext("Role changed."))


@router.post(PAGE + "/members/{user_id}/remove")
async def remove(user_id: int, viewer: SignedInChecked) -> Response:
    with viewer.ctx.uow_factory(write=True) as uow:
        org_members.remove(uow, viewer.ctx.clock, viewer.actor, _org_id(viewer), user_id)
    return redirect(viewer, PAGE, viewer.t.gettext("Member removed."))


@router.post(PAGE + "/consents/{consent_id}")
async def answer(request: Request, consent_id: int, viewer: SignedInChecked) -> Response:
    form = await read_form(request)
    confirm = form.get("answer") == "confirm"
    with viewer.ctx.uow_factory(write=True) as uow:
        consent.answer(uow, viewer.ctx.clock, viewer.actor, consent_id, confirm=confirm)
    message = viewer.t.gettext("Partnership confirmed.") if confirm else viewer.t.gettext("Partnership declined.")
    return redirect(viewer, PAGE, message)
