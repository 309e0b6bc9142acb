"""An organization's members as its admin manages them: list, make or unmake admin, remove (the account is
deactivated and its portal sessions end; its records stay for the audit)."""

from __future__ import annotations

from ..domain.access import PageRequest
from ..domain.errors import Conflict, NotFound
from ..domain.identity import User
from .audit import record
from .context import Actor
from .invitations import require_org_admin
from .ports import Clock, UnitOfWork

MAX_MEMBERS = 200


def members(uow: UnitOfWork, actor: Actor, organization_id: int) -> list[User]:
    require_org_admin(uow, actor, organization_id)
    return members_unchecked(uow, organization_id)


def _member(uow: UnitOfWork, actor: Actor, organization_id: int, user_id: int) -> User:
    require_org_admin(uow, actor, organization_id)
    user = uow.users.get(user_id)
    if user is None or user.organization_id != organization_id or not user.active:
        raise NotFound(f"user {user_id} is not a member of organization {organization_id}")
    return user


def _last_admin(uow: UnitOfWork, user: User) -> bool:
    org_id = user.organization_id
    admins = [u for u in members_unchecked(uow, org_id) if u.is_org_admin] if org_id is not None else []
    return user.is_org_admin and len(admins) == 1


def members_unchecked(uow: UnitOfWork, organization_id: int) -> list[User]:
    found = uow.users.list(PageRequest(limit=MAX_MEMBERS, offset=0), organization_id=organization_id).items
    return [u for u in found if u.active]


def set_admin(uow: UnitOfWork, clock: Clock, actor: Actor, organization_id: int, user_id: int, admin: bool) -> User:
    user = _member(uow, actor, organization_id, user_id)
    if not admin and _last_admin(uow, user):
        raise Conflict("an organization keeps at least one admin")
    before = {"is_org_admin": user.is_org_admin}
    user.is_org_admin = admin
    record(uow, clock, actor, "organization.role_changed", user, before, {"is_org_admin": admin})
    uow.commit()
    return user


def remove(uow: UnitOfWork, clock: Clock, actor: Actor, organization_id: int, user_id: int) -> None:
    user = _member(uow, actor, organization_id, user_id)
    if user.id == actor.id or _last_admin(uow, user):
        raise Conflict("an organization keeps at least one admin, and admins do not remove themselves")
    user.active, user.is_org_admin = False, False
    uow.web_sessions.end_all(user.stored_id, clock.now())
    record(uow, clock, actor, "organization.member_removed", user, {"active": True}, {"active": False})
    uow.commit()
