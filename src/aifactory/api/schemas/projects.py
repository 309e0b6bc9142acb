from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from ...domain.enums import AllocationStatus, ProjectRole
from .common import Id, In, Out


class MemberOut(Out):
    user_id: int
    role: ProjectRole
    added_at: datetime


class AllocationOut(Out):
    id: int
    project_id: int
    resource_id: int
    gpu_hours: int
    start_date: date
    end_date: date
    status: AllocationStatus

    @classmethod
    def of(cls, a, today: date) -> "AllocationOut":  # type: ignore[no-untyped-def]
        """Status as of today: an active allocation past its end date reads as expired."""
        return cls.model_validate(a).model_copy(update={"status": a.effective_status(today)})


class ProjectOut(Out):
    id: int
    proposal_id: int
    name: str
    slurm_account: str
    lead_organization_id: int
    organization_ids: list[int]
    created_at: datetime
    members: list[MemberOut]
    allocations: list[AllocationOut]

    @classmethod
    def of(cls, p, today: date) -> "ProjectOut":  # type: ignore[no-untyped-def]
        out = cls.model_validate(p)
        out.allocations = [AllocationOut.of(a, today) for a in p.allocations]
        return out


class MemberIn(In):
    user_id: Id | None = None
    email: Annotated[str | None, Field(max_length=254)] = None
    role: ProjectRole = ProjectRole.MEMBER


class AuditOut(Out):
    id: int
    occurred_at: datetime
    actor_id: int | None
    action: str
    entity_type: str
    entity_id: int | None
    before: dict | None
    after: dict | None
