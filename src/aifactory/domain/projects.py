"""Projects, their members and their allocations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from .enums import AllocationStatus, ProjectRole
from .errors import Forbidden
from .ledger import Balance
from .stored import Stored


@dataclass(eq=False, kw_only=True)
class ProjectMember:
    project_id: int | None = None
    user_id: int
    role: ProjectRole
    added_at: datetime


@dataclass(eq=False, kw_only=True)
class Allocation(Stored):
    project_id: int | None = None
    resource_id: int
    gpu_hours: int
    start_date: date
    end_date: date
    status: AllocationStatus = AllocationStatus.ACTIVE
    created_at: datetime
    # the ledger's running sums (billing GPU-seconds), updated with every entry in the same transaction
    granted_seconds: int = 0
    charged_seconds: int = 0
    reserved_seconds: int = 0
    status_reason: str = ""
    low_priority: bool = False  # soft enforcement: this month's quota is overdrawn
    id: int | None = None

    @property
    def balance(self) -> Balance:
        return Balance(self.granted_seconds, self.charged_seconds, self.reserved_seconds)

    def effective_status(self, today: date) -> AllocationStatus:
        """Expiry follows from the dates; suspension and exhaustion are stored."""
        if self.status is AllocationStatus.ACTIVE and today > self.end_date:
            return AllocationStatus.EXPIRED
        return self.status


@dataclass(eq=False, kw_only=True)
class Project(Stored):
    """What work is charged to; maps to a Slurm account."""

    proposal_id: int
    name: str
    slurm_account: str
    lead_organization_id: int
    organization_ids: list[int] = field(default_factory=list)
    created_at: datetime
    id: int | None = None
    members: list[ProjectMember] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)

    def role_of(self, user_id: int) -> ProjectRole | None:
        for m in self.members:
            if m.user_id == user_id:
                return m.role
        return None


def slurm_account_name(project_id_hint: int, title: str) -> str:
    """A Slurm-safe account name: lowercase, [a-z0-9_], at most 30 characters, unique by the id."""
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:20] or "project"
    return f"p{project_id_hint:05d}_{slug}"[:30]


def check_member_organization(user_org_id: int | None, project: Project) -> None:
    if user_org_id is None or user_org_id not in project.organization_ids:
        raise Forbidden("only users of the project's organizations can be members")
