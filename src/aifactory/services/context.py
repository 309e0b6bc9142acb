"""The acting user and the permission checks every service shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from ..domain.access import ProjectScope, ProposalScope
from ..domain.errors import Forbidden, NotFound
from ..domain.identity import User
from ..domain.teams import TokenScope

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    user: User
    scope: TokenScope = TokenScope.FULL  # the API token's scope (domain.teams; services.scopes)
    scope_project_id: int | None = None

    def check_project(self, project_id: int) -> None:
        """A project token acts on its project only."""
        if self.scope is TokenScope.PROJECT and project_id != self.scope_project_id:
            raise Forbidden(f"this token is for project {self.scope_project_id} only")

    @property
    def id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    @property
    def is_operator(self) -> bool:
        return self.user.is_operator

    def require_operator(self) -> None:
        if not self.user.is_operator:
            raise Forbidden("this action is reserved to the factory's operators")

    def proposal_scope(self) -> ProposalScope:
        if self.user.is_operator:
            return ProposalScope(everything=True)
        return ProposalScope(
            organization_id=self.user.organization_id, reviewer_id=self.id if self.user.is_reviewer else None
        )

    def project_scope(self) -> ProjectScope:
        return ProjectScope(everything=True) if self.user.is_operator else ProjectScope(member_id=self.id)


def found(obj: T | None, what: str, id_: object) -> T:
    """The object, or a 404 naming it. Used for unknown ids and for ids the actor may not see alike,
    so that probing ids tells nothing about other tenants."""
    if obj is None:
        raise NotFound(f"{what} {id_} not found")
    return obj
