"""Reports: the factory's KPIs (operators) and an allocation's burn-down (its members too). Months are
``YYYY-MM``; GPU-hours come back as floats.

    with AifactoryClient(url, token) as client:
        report = client.gpu_hours_report("org_kind", start="2026-01", end="2026-12")
        for row in report["rows"]:
            print(row["key"], row["gpu_hours"])
"""

from __future__ import annotations

from .base import ClientBase, Json


class ReportsMixin(ClientBase):
    """Delivered GPU-hours, SMEs served, durations, utilization and burn-down."""

    def gpu_hours_report(
        self, by: str = "month", *, start: str | None = None, end: str | None = None, scenario: str | None = None
    ) -> Json:
        """Delivered GPU-hours by ``by`` (org_kind, sector, country, access_mode, resource, month, project):
        ``rows`` of ``key``, ``label``, ``gpu_hours``, ``entries``, and the totals. ``scenario`` reports a
        what-if scenario's imported usage instead of the real ledger."""
        return self._get("/reports/gpu-hours", by=by, start=start, end=end, scenario=scenario)

    def smes_report(self, *, start: str | None = None, end: str | None = None, scenario: str | None = None) -> Json:
        """The SMEs and startups with delivered usage in the period (``by_kind``, ``organizations``)."""
        return self._get("/reports/smes", start=start, end=end, scenario=scenario)

    def time_to_decision_report(self) -> Json:
        """Median and p90 days from submission to decision, per access mode and ``all``."""
        return self._get("/reports/time-to-decision")

    def time_to_first_job_report(self) -> Json:
        """Median and p90 days from acceptance to the project's first job start, per access mode and ``all``."""
        return self._get("/reports/time-to-first-job")

    def utilization_report(self, start: str, end: str, *, scenario: str | None = None) -> Json:
        """Per resource: delivered GPU-hours, capacity and their ratio over the months ``start``–``end``."""
        return self._get("/reports/utilization", start=start, end=end, scenario=scenario)

    def burn_down(self, allocation_id: int, *, by: str = "day") -> Json:
        """Cumulative granted vs charged GPU-hours of an allocation per ``day`` or ``month``."""
        return self._get(f"/allocations/{allocation_id}/burn-down", by=by)
