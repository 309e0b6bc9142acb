"""Projects, members and allocations."""

from __future__ import annotations

from ..domain.access import Page, PageRequest
from ..domain.enums import ProjectRole
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.identity import User
from ..domain.projects import Allocation, Project, ProjectMember, check_member_organization
from ..domain.stored import stored
from .audit import record
from .context import Actor, found
from .ports import Clock, UnitOfWork


def get(uow: UnitOfWork, actor: Actor, project_id: int) -> Project:
    """Visible to its members and to operators; to anyone else it does not exist."""
    project = uow.projects.get(project_id)
    if project is None or (not actor.is_operator and project.role_of(actor.id) is None):
        raise NotFound(f"project {project_id} not found")
    return project


def require_visible(uow: UnitOfWork, actor: Actor, project_id: int) -> None:
    """Like ``get`` without loading the project: for pages that only list what belongs to it."""
    if actor.is_operator:
        if uow.projects.get(project_id) is None:
            raise NotFound(f"project {project_id} not found")
    elif uow.projects.role(project_id, actor.id) is None:
        raise NotFound(f"project {project_id} not found")


def list_visible(uow: UnitOfWork, actor: Actor, page: PageRequest) -> Page[Project]:
    return uow.projects.list(page, actor.project_scope())


def manageable(uow: UnitOfWork, actor: Actor, project_id: int) -> Project:
    project = get(uow, actor, project_id)
    if not actor.is_operator and project.role_of(actor.id) is not ProjectRole.PI:
        raise Forbidden("only the project's PI or an operator can manage its members")
    return project


def add_member(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    project_id: int,
    *,
    user_id: int,
    role: ProjectRole = ProjectRole.MEMBER,
) -> ProjectMember:
    """A known user of the project's organizations joins at once; an unknown id gets the same answer as a user
    of another organization (ids tell nothing). By e-mail, people are invited (``services.invitations``)."""
    project = manageable(uow, actor, project_id)
    user = uow.users.get(user_id)
    check_member_organization(user.organization_id if user is not None else None, project)
    assert user is not None
    member = join(uow, clock, actor, project, user, ProjectRole(role))
    uow.commit()
    return member


def join(uow: UnitOfWork, clock: Clock, actor: Actor, project: Project, user: User, role: ProjectRole) -> ProjectMember:
    """``user`` becomes a member (in the caller's transaction); a conflict if they already are."""
    check_member_organization(user.organization_id, project)
    if project.role_of(user.stored_id) is not None:
        raise Conflict(f"user {user.id} is already a member of project {project.id}")
    member = ProjectMember(user_id=user.stored_id, role=role, added_at=clock.now())
    project.members.append(member)
    uow.flush()
    record(uow, clock, actor, "project.member_added", project, None, {"user_id": user.id, "role": member.role.value})
    return member


def remove_member(uow: UnitOfWork, clock: Clock, actor: Actor, project_id: int, user_id: int) -> None:
    project = manageable(uow, actor, project_id)
    member = next((m for m in project.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    if member.role is ProjectRole.PI and sum(m.role is ProjectRole.PI for m in project.members) == 1:
        raise Conflict("a project keeps at least one PI")
    project.members.remove(member)
    record(uow, clock, actor, "project.member_removed", project, {"user_id": user_id, "role": member.role.value}, None)
    uow.commit()


def list_allocations(
    uow: UnitOfWork, actor: Actor, page: PageRequest, *, project_id: int | None = None
) -> Page[Allocation]:
    if project_id is not None:
        get(uow, actor, project_id)  # 404 for projects the actor may not see
    return uow.allocations.list(page, actor.project_scope(), project_id=project_id)


def get_allocation(uow: UnitOfWork, actor: Actor, allocation_id: int) -> Allocation:
    alloc = uow.allocations.get(allocation_id)
    project = uow.projects.get(stored(alloc.project_id, "the allocation's project")) if alloc is not None else None
    if alloc is None or project is None or (not actor.is_operator and project.role_of(actor.id) is None):
        raise NotFound(f"allocation {allocation_id} not found")  # its project is not named to outsiders
    return alloc


def project_of(uow: UnitOfWork, alloc: Allocation) -> Project:
    """A stored allocation's project (the store's foreign key says there is one)."""
    project_id = stored(alloc.project_id, "the allocation's project")
    return found(uow.projects.get(project_id), "project", project_id)
