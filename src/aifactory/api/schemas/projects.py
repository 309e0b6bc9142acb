from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

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
    status_reason: str = ""
    granted_gpu_hours: float = 0.0  # grant plus adjustments
    used_gpu_hours: float = 0.0  # charged
    reserved_gpu_hours: float = 0.0  # held by open jobs (their worst case)
    available_gpu_hours: float = 0.0
    used_percent: float = 0.0
    low_priority: bool = False  # soft enforcement: the month's quota is overdrawn

    @classmethod
    def of(cls, a, today: date) -> AllocationOut:  # type: ignore[no-untyped-def]
        """Status as of today (an active allocation past its end date reads as expired), with its balance."""
        b = a.balance
        return cls.model_validate(a).model_copy(
            update={
                "status": a.effective_status(today),
                "granted_gpu_hours": round(b.granted / 3600, 3),
                "used_gpu_hours": round(b.charged / 3600, 3),
                "reserved_gpu_hours": round(b.reserved / 3600, 3),
                "available_gpu_hours": round(b.available / 3600, 3),
                "used_percent": round(100 * b.used_fraction, 2),
            }
        )


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
    def of(cls, p, today: date) -> ProjectOut:  # type: ignore[no-untyped-def]
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
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class LedgerEntryOut(Out):
    id: int
    allocation_id: int | None
    kind: str
    amount_gpu_seconds: int
    gpu_hours: float
    job_id: int | None
    source: str
    external_id: str | None
    period: str
    at: datetime
    actor_id: int | None
    reason: str

    @classmethod
    def of(cls, e) -> LedgerEntryOut:  # type: ignore[no-untyped-def]
        return cls(
            id=e.id,
            allocation_id=e.allocation_id,
            kind=e.kind.value,
            amount_gpu_seconds=e.amount,
            gpu_hours=round(e.amount / 3600, 4),
            job_id=e.job_id,
            source=e.source,
            external_id=e.external_id,
            period=e.period,
            at=e.at,
            actor_id=e.actor_id,
            reason=e.reason,
        )


class AdjustIn(In):
    gpu_hours: Annotated[float, Field(ge=-10_000_000, le=10_000_000, description="+ top-up, - correction")]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    key: Annotated[str | None, Field(max_length=100, description="makes a retried request a no-op")] = None


class SuspendIn(In):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
