"""Invitations by e-mail: a project's PI invites to the project, an organization's admin to the organization.
The link carries a single-use token that expires (only its SHA-256 is stored). The inviter gets the same answer
whether the address has an account or not; the invitee signs in (or signs up from the link) and joins."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ..domain.enums import ProjectRole
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.identity import Organization, User, normalize_email
from ..domain.teams import INVITATION_DAYS, Invitation, InvitationKind, check_role
from . import identity, projects
from .audit import record
from .context import Actor, found
from .notifications import notify_address
from .ports import Clock, UnitOfWork

LINK_PREFIX = "/invitations/"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Sent:
    invitation: Invitation
    secret: str  # in the e-mail's link only; never shown to the inviter


@dataclass(frozen=True)
class InvitationView:
    """What the link's page shows its holder."""

    invitation: Invitation
    target: str  # the project's or the organization's name
    organization: str
    has_account: bool


def invite_to_project(
    uow: UnitOfWork, clock: Clock, actor: Actor, project_id: int, *, email: str, role: str = "member"
) -> Sent:
    project = projects.manageable(uow, actor, project_id)
    org_id = actor.user.organization_id
    if org_id not in project.organization_ids:  # an operator outside the project: the lead organization
        org_id = project.lead_organization_id
    assert org_id is not None
    kind = InvitationKind.PROJECT
    return _send(uow, clock, actor, kind, email, check_role(kind, role), org_id, project.stored_id, project.name)


def invite_to_organization(
    uow: UnitOfWork, clock: Clock, actor: Actor, organization_id: int, *, email: str, role: str = "member"
) -> Sent:
    org = require_org_admin(uow, actor, organization_id)
    kind = InvitationKind.ORGANIZATION
    return _send(uow, clock, actor, kind, email, check_role(kind, role), organization_id, None, org.name)


def require_org_admin(uow: UnitOfWork, actor: Actor, organization_id: int) -> Organization:
    """The organization, for its admin or an operator; others get a 403 (their own) or a 404."""
    org = found(uow.organizations.get(organization_id), "organization", organization_id)
    if actor.is_operator:
        return org
    if actor.user.organization_id != organization_id:
        raise NotFound(f"organization {organization_id} not found")
    if not actor.user.is_org_admin:
        raise Forbidden("only the organization's admin or an operator can manage its members")
    return org


def _send(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    kind: InvitationKind,
    email: str,
    role: str,
    organization_id: int,
    project_id: int | None,
    target: str,
) -> Sent:
    address = normalize_email(email)
    secret = "inv_" + secrets.token_urlsafe(32)
    now = clock.now()
    invitation = uow.teams.add_invitation(
        Invitation(
            kind=kind,
            email=address,
            organization_id=organization_id,
            project_id=project_id,
            role=role,
            token_hash=hash_secret(secret),
            invited_by=actor.id,
            created_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
        )
    )
    data = {"inviter": actor.user.name, "target": target, "expires": invitation.expires_at.date().isoformat()}
    notify_address(
        uow,
        clock,
        address,
        "invitation",
        data,
        dedup_key=f"invitation-{invitation.id}",
        language=actor.user.language,
        secret={"path": LINK_PREFIX + secret},
    )
    record(uow, clock, actor, "invitation.sent", invitation, None, {"kind": kind.value, "role": role})
    uow.commit()
    return Sent(invitation, secret)


def pending(
    uow: UnitOfWork, clock: Clock, actor: Actor, *, project_id: int | None = None, organization_id: int | None = None
) -> list[Invitation]:
    if project_id is not None:
        projects.manageable(uow, actor, project_id)
    else:
        require_org_admin(uow, actor, organization_id or 0)
    return uow.teams.open_invitations(clock.now(), project_id=project_id, organization_id=organization_id)


def revoke(uow: UnitOfWork, clock: Clock, actor: Actor, invitation_id: int) -> Invitation:
    invitation = found(uow.teams.invitation(invitation_id), "invitation", invitation_id)
    try:
        if invitation.project_id is not None:
            projects.manageable(uow, actor, invitation.project_id)
        else:
            require_org_admin(uow, actor, invitation.organization_id)
    except NotFound:
        raise NotFound(f"invitation {invitation_id} not found") from None
    if not uow.teams.revoke(invitation_id, clock.now()):
        raise Conflict(f"invitation {invitation_id} was already used or revoked")
    invitation.revoked_at = clock.now()
    record(uow, clock, actor, "invitation.revoked", invitation, None, {"email": invitation.email})
    uow.commit()
    return invitation


def lookup(uow: UnitOfWork, clock: Clock, secret: str) -> InvitationView:
    """The invitation behind a link, while it can be used; one 404 for unknown, used, revoked and expired."""
    invitation = uow.teams.invitation_by_hash(hash_secret(secret)) if secret.startswith("inv_") else None
    if invitation is None or invitation.state(clock.now()) != "pending":
        raise NotFound("this invitation was already used, was revoked or has expired: ask for a new one")
    org = found(uow.organizations.get(invitation.organization_id), "organization", invitation.organization_id)
    target = org.name
    if invitation.project_id is not None:
        target = found(uow.projects.get(invitation.project_id), "project", invitation.project_id).name
    return InvitationView(invitation, target, org.name, uow.users.by_email(invitation.email) is not None)


def lookup_used(uow: UnitOfWork, secret: str) -> Invitation:
    """The invitation behind a link whatever its state (where its invitee lands once it is used)."""
    invitation = uow.teams.invitation_by_hash(hash_secret(secret))
    if invitation is None:
        raise NotFound("no such invitation")
    return invitation


def accept(uow: UnitOfWork, clock: Clock, actor: Actor, secret: str) -> Invitation:
    """The signed-in invitee joins; the link proves the address, so it must be theirs."""
    invitation = lookup(uow, clock, secret).invitation
    if actor.user.email != invitation.email:
        raise Forbidden("this invitation is for another e-mail address: sign in with that address")
    _join(uow, clock, actor, invitation)
    uow.commit()
    return invitation


def accept_new_account(
    uow: UnitOfWork, clock: Clock, secret: str, *, name: str, password_hash: str, language: str = "en"
) -> User:
    """Sign-up from the link: an account for the invited address in the invitation's organization, joined."""
    invitation = lookup(uow, clock, secret).invitation
    if uow.users.by_email(invitation.email) is not None:
        raise Conflict("an account with this e-mail address exists: sign in to accept the invitation")
    user = identity.new_member(
        uow, clock, email=invitation.email, name=name, organization_id=invitation.organization_id, language=language
    )
    user.password_hash = password_hash
    _join(uow, clock, Actor(user), invitation)
    uow.commit()
    return user


def _join(uow: UnitOfWork, clock: Clock, actor: Actor, invitation: Invitation) -> None:
    user = found(uow.users.get(actor.id), "user", actor.id)  # this transaction's copy: its changes are saved
    if not uow.teams.accept(invitation.stored_id, actor.id, clock.now()):
        raise NotFound("this invitation was already used, was revoked or has expired: ask for a new one")
    invitation.accepted_at, invitation.accepted_by = clock.now(), actor.id
    if user.email_verified_at is None:  # the link reached the address: it counts as verified
        user.email_verified_at = clock.now()
    if user.organization_id is None:
        user.organization_id = invitation.organization_id
    if invitation.kind is InvitationKind.ORGANIZATION:
        if user.organization_id != invitation.organization_id:
            raise Forbidden("you already belong to another organization")
        user.is_org_admin = user.is_org_admin or invitation.role == "admin"
    else:
        project = found(uow.projects.get(invitation.project_id or 0), "project", invitation.project_id)
        if project.role_of(actor.id) is None:
            projects.join(uow, clock, actor, project, user, ProjectRole(invitation.role))
    record(uow, clock, actor, "invitation.accepted", invitation, None, {"user_id": actor.id})
