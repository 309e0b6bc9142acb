from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from ...domain.errors import InvalidInput
from ...services import audit, invitations, projects
from ..deps import Ctx, CurrentActor, IdPath, IdQuery, Paging, Uow
from ..schemas.common import Page, page_of
from ..schemas.projects import AllocationOut, AuditOut, MemberIn, MemberOut, ProjectOut
from ..schemas.teams import InvitationOut


def as_utc(value: datetime | None) -> datetime | None:
    """Query datetimes without an offset are read as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


router = APIRouter(tags=["projects, allocations and audit"])


@router.get("/projects", response_model=Page[ProjectOut], summary="Projects you are a member of (operators: all)")
def list_projects(actor: CurrentActor, uow: Uow, ctx: Ctx, page: Paging) -> dict[str, Any]:
    result = projects.list_visible(uow, actor, page)
    today = ctx.clock.now().date()
    return page_of(result, lambda p: ProjectOut.of(p, today))


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ProjectOut:
    return ProjectOut.of(projects.get(uow, actor, project_id), ctx.clock.now().date())


@router.post(
    "/projects/{project_id}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberOut | InvitationOut,
    summary="Add a user of the project's organizations by id (201), or invite by e-mail (202, the same answer "
    "whether the address has an account or not)",
)
def add_member(
    project_id: IdPath, body: MemberIn, response: Response, actor: CurrentActor, uow: Uow, ctx: Ctx
) -> MemberOut | InvitationOut:
    if body.user_id is None:
        if body.email is None:
            raise InvalidInput.on("email", "name the person: user_id, or email to invite them")
        sent = invitations.invite_to_project(uow, ctx.clock, actor, project_id, email=body.email, role=body.role.value)
        response.status_code = status.HTTP_202_ACCEPTED
        return InvitationOut.model_validate(sent.invitation)
    return MemberOut.model_validate(
        projects.add_member(uow, ctx.clock, actor, project_id, user_id=body.user_id, role=body.role)
    )


@router.delete("/projects/{project_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(project_id: IdPath, user_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> None:
    projects.remove_member(uow, ctx.clock, actor, project_id, user_id)


@router.get("/allocations", response_model=Page[AllocationOut])
def list_allocations(
    actor: CurrentActor, uow: Uow, ctx: Ctx, page: Paging, project_id: IdQuery = None
) -> dict[str, Any]:
    result = projects.list_allocations(uow, actor, page, project_id=project_id)
    today = ctx.clock.now().date()
    return page_of(result, lambda a: AllocationOut.of(a, today))


@router.get("/allocations/{allocation_id}", response_model=AllocationOut)
def get_allocation(allocation_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> AllocationOut:
    return AllocationOut.of(projects.get_allocation(uow, actor, allocation_id), ctx.clock.now().date())


@router.get("/audit", response_model=Page[AuditOut], summary="The audit log (operators)")
def list_audit(
    actor: CurrentActor,
    uow: Uow,
    page: Paging,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: IdQuery = None,
    actor_id: IdQuery = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    result = audit.list_events(
        uow,
        actor,
        page,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor_id,
        action=action,
        since=as_utc(since),
        until=as_utc(until),
    )
    return page_of(result, AuditOut.model_validate)
