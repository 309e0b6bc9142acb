"""Teams: invitations by e-mail to a project or an organization (sent, listed, revoked, accepted), and an
organization's members as its admin sees them."""

from __future__ import annotations

from fastapi import APIRouter, status

from ...services import consent, invitations, org_members, proposals
from ..deps import Ctx, CurrentActor, IdPath, Uow
from ..schemas.teams import (
    AcceptIn,
    ConsentAnswerIn,
    ConsentOut,
    InvitationOut,
    InviteIn,
    OrgMemberOut,
    OrgRoleIn,
)

router = APIRouter(tags=["teams"])


@router.post(
    "/projects/{project_id}/invitations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InvitationOut,
    summary="Invite by e-mail to a project (its PI); the same answer whether the address has an account",
)
def invite_to_project(project_id: IdPath, body: InviteIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> InvitationOut:
    sent = invitations.invite_to_project(uow, ctx.clock, actor, project_id, **body.model_dump())
    return InvitationOut.model_validate(sent.invitation)


@router.get("/projects/{project_id}/invitations", response_model=list[InvitationOut], summary="Pending invitations")
def project_invitations(project_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> list[InvitationOut]:
    found = invitations.pending(uow, ctx.clock, actor, project_id=project_id)
    return [InvitationOut.model_validate(i) for i in found]


@router.post(
    "/organizations/{org_id}/invitations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InvitationOut,
    summary="Invite by e-mail to an organization (its admin)",
)
def invite_to_organization(org_id: IdPath, body: InviteIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> InvitationOut:
    sent = invitations.invite_to_organization(uow, ctx.clock, actor, org_id, **body.model_dump())
    return InvitationOut.model_validate(sent.invitation)


@router.get("/organizations/{org_id}/invitations", response_model=list[InvitationOut])
def organization_invitations(org_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> list[InvitationOut]:
    found = invitations.pending(uow, ctx.clock, actor, organization_id=org_id)
    return [InvitationOut.model_validate(i) for i in found]


@router.delete("/invitations/{invitation_id}", response_model=InvitationOut, summary="Revoke a pending invitation")
def revoke_invitation(invitation_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> InvitationOut:
    return InvitationOut.model_validate(invitations.revoke(uow, ctx.clock, actor, invitation_id))


@router.post("/invitations/accept", response_model=InvitationOut, summary="Accept an invitation sent to your address")
def accept_invitation(body: AcceptIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> InvitationOut:
    return InvitationOut.model_validate(invitations.accept(uow, ctx.clock, actor, body.token))


@router.get("/organizations/{org_id}/members", response_model=list[OrgMemberOut], summary="Members (its admin)")
def organization_members(org_id: IdPath, actor: CurrentActor, uow: Uow) -> list[OrgMemberOut]:
    return [OrgMemberOut.model_validate(u) for u in org_members.members(uow, actor, org_id)]


@router.patch("/organizations/{org_id}/members/{user_id}", response_model=OrgMemberOut, summary="Make or unmake admin")
def set_member_role(
    org_id: IdPath, user_id: IdPath, body: OrgRoleIn, actor: CurrentActor, uow: Uow, ctx: Ctx
) -> OrgMemberOut:
    return OrgMemberOut.model_validate(org_members.set_admin(uow, ctx.clock, actor, org_id, user_id, body.admin))


@router.delete("/organizations/{org_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(org_id: IdPath, user_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> None:
    """The person leaves the organization and its projects; their account stays (deactivated)."""
    org_members.remove(uow, ctx.clock, actor, org_id, user_id)


@router.get(
    "/proposals/{proposal_id}/consents",
    response_model=list[ConsentOut],
    summary="The partner organizations' answers (a proposal is submitted once every partner confirmed)",
)
def proposal_consents(proposal_id: IdPath, actor: CurrentActor, uow: Uow) -> list[ConsentOut]:
    p = proposals.get(uow, actor, proposal_id)
    return [ConsentOut.model_validate(c) for c in consent.for_proposal(uow, p)]


@router.get("/consents", response_model=list[ConsentOut], summary="What partners asked your organization (its admin)")
def consent_requests(actor: CurrentActor, uow: Uow) -> list[ConsentOut]:
    return [ConsentOut.model_validate(v.consent) for v in consent.requests_for(uow, actor)]


@router.post("/consents/{consent_id}", response_model=ConsentOut, summary="Confirm or decline a partnership")
def answer_consent(consent_id: IdPath, body: ConsentAnswerIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ConsentOut:
    return ConsentOut.model_validate(consent.answer(uow, ctx.clock, actor, consent_id, confirm=body.confirm))
