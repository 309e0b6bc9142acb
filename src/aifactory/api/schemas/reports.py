"""Answers of the reports (``services.reports``): GPU-hours are floats (billing GPU-seconds ÷ 3600)."""

from __future__ import annotations

from .common import Out


class UsageRowOut(Out):
    key: str
    label: str
    gpu_hours: float
    entries: int


class UsageReportOut(Out):
    by: str
    start: str | None
    end: str | None
    scenario: str | None
    rows: list[UsageRowOut]
    total_gpu_hours: float
    total_entries: int


class ServedOrganizationOut(Out):
    id: int
    name: str
    kind: str
    country: str


class ServedReportOut(Out):
    start: str | None
    end: str | None
    by_kind: dict[str, int]
    total: int
    organizations: list[ServedOrganizationOut]


class DurationRowOut(Out):
    access_mode: str
    count: int
    waiting: int
    median_days: float | None
    p90_days: float | None


class DurationReportOut(Out):
    rows: list[DurationRowOut]


class UtilizationRowOut(Out):
    resource_id: int
    resource: str
    site_id: int
    gpus: int
    capacity_gpu_hours: float
    gpu_hours: float
    utilization: float


class UtilizationReportOut(Out):
    start: str
    end: str
    hours: int
    rows: list[UtilizationRowOut]


class BurnPointOut(Out):
    at: str
    granted_gpu_hours: float
    charged_gpu_hours: float
    reserved_gpu_hours: float


class BurnDownOut(Out):
    allocation_id: int
    project_id: int
    by: str
    granted_gpu_hours: float
    charged_gpu_hours: float
    reserved_gpu_hours: float
    available_gpu_hours: float
    points: list[BurnPointOut]
