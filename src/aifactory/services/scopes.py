"""What an API token's scope lets a request do (domain.teams.TokenScope): read-only tokens only read; ``jobs``
tokens reach jobs, templates and storage of the user's projects; ``project`` tokens the same for one project.
The API asks this for every request it authenticates with a token."""

from __future__ import annotations

from ..domain.errors import Forbidden, InvalidInput
from ..domain.identity import ApiToken
from ..domain.teams import ScopedRequest, TokenScope, check_scope_project, scope_allows
from .context import Actor, found
from .ports import UnitOfWork


def scope_of(tok: ApiToken) -> TokenScope:
    return TokenScope(tok.scope)


def check_request(uow: UnitOfWork, tok: ApiToken, req: ScopedRequest) -> None:
    """Forbidden unless the token's scope covers the request (a project token: the request must name its
    project, by path, ``?project_id=`` or the job it is about)."""
    scope = scope_of(tok)
    why = scope_allows(scope, req)
    if why is not None:
        raise Forbidden(why)
    if scope is not TokenScope.PROJECT:
        return
    project_id = req.project_id
    if req.job_id is not None:
        job = uow.jobs.get(req.job_id)
        project_id = job.project_id if job is not None else None
    if req.method == "POST" and req.route == "/jobs":
        return  # the job's project is in its spec: the jobs service asks the actor (Actor.check_project)
    check_scope_project(scope, tok.scope_project_id, project_id, req.route)


def actor_for(user_actor: Actor, tok: ApiToken) -> Actor:
    return Actor(user_actor.user, scope=scope_of(tok), scope_project_id=tok.scope_project_id)


def check_new_scope(uow: UnitOfWork, actor: Actor, scope: TokenScope, project_id: int | None) -> int | None:
    """A new token's scope: a project token names a project the user is a member of (operators: any)."""
    if scope is not TokenScope.PROJECT:
        if project_id is not None:
            raise InvalidInput.on("project_id", "only a token with the scope 'project' names a project")
        return None
    if project_id is None:
        raise InvalidInput.on("project_id", "a token with the scope 'project' names its project")
    project = found(uow.projects.get(project_id), "project", project_id)
    if not actor.is_operator and project.role_of(actor.id) is None:
        raise InvalidInput.on("project_id", f"project {project_id} not found")
    return project_id
