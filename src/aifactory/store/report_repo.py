"""The unit of work's ``reports``: the read-only queries of ``report_usage`` and ``report_queries`` on its
session."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from ..domain.reports import Dimension
from ..services import repositories as r
from . import report_queries as q
from . import report_usage as u

_Query = Callable[[Session, u.DeliveredUsage], r.UsageSums]

_USAGE: dict[Dimension, _Query] = {
    Dimension.MONTH: u.by_month,
    Dimension.RESOURCE: u.by_resource,
    Dimension.PROJECT: u.by_project,
    Dimension.ACCESS_MODE: u.by_access_mode,
    Dimension.ORG_KIND: lambda session, usage: u.by_lead_org_column(session, usage, "kind"),
    Dimension.COUNTRY: lambda session, usage: u.by_lead_org_column(session, usage, "country"),
}


class ReportRepository:
    def __init__(self, session: Session):
        self.session = session

    def usage(self, dimension: Dimension, delivered: r.Delivered) -> r.UsageSums:
        """Delivered usage by any dimension except ``SECTOR`` (see ``usage_by_lead_organization``)."""
        query = _USAGE.get(dimension)
        if query is None:
            raise ValueError(f"no single query groups usage by {dimension.value}")
        return query(self.session, u.DeliveredUsage(self.session, delivered))

    def usage_by_lead_organization(self, delivered: r.Delivered) -> list[r.OrganizationSums]:
        return u.by_lead_org_sectors(self.session, u.DeliveredUsage(self.session, delivered))

    def projects_with_usage(self, delivered: r.Delivered) -> list[r.ProjectOrganizations]:
        return u.projects_with_usage(self.session, u.DeliveredUsage(self.session, delivered))

    def organizations_of_kinds(self, ids: Iterable[int], kinds: Iterable[str]) -> list[r.OrganizationSummary]:
        return q.organizations_of_kinds(self.session, ids, kinds)

    def decisions(self) -> list[r.DecisionSpan]:
        return q.decisions(self.session)

    def first_jobs(self) -> list[r.FirstJob]:
        return q.first_jobs(self.session)

    def capacities(self) -> list[r.Capacity]:
        return q.resources_capacity(self.session)

    def allocation_movements(self, allocation_id: int, by: str = "day") -> list[r.Movement]:
        return q.allocation_movements(self.session, allocation_id, by)

    def scenario_exists(self, name: str) -> bool:
        return q.scenario_exists(self.session, name)

    def scenarios(self) -> list[str]:
        return q.scenarios(self.session)
