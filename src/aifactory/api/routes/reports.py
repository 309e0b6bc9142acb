"""The factory's KPIs (operators) and an allocation's burn-down (its members too)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ...domain.months import MONTH_PATTERN
from ...domain.reports import Dimension
from ...services import reports
from ..deps import CurrentActor, IdPath, Uow
from ..schemas.reports import BurnDownOut, DurationReportOut, ServedReportOut, UsageReportOut, UtilizationReportOut

router = APIRouter(tags=["reports"])

MONTH = MONTH_PATTERN
Start = Annotated[str | None, Query(pattern=MONTH, description="first month, YYYY-MM (inclusive)")]
End = Annotated[str | None, Query(pattern=MONTH, description="last month, YYYY-MM (inclusive)")]
Scenario = Annotated[str | None, Query(max_length=64, description="a what-if scenario instead of real usage")]


@router.get(
    "/reports/gpu-hours", response_model=UsageReportOut, summary="Delivered GPU-hours by a dimension (operators)"
)
def gpu_hours(
    actor: CurrentActor,
    uow: Uow,
    by: Dimension = Dimension.MONTH,
    start: Start = None,
    end: End = None,
    scenario: Scenario = None,
) -> UsageReportOut:
    return UsageReportOut.model_validate(reports.gpu_hours_by(uow, actor, by, start=start, end=end, scenario=scenario))


@router.get(
    "/reports/smes",
    response_model=ServedReportOut,
    summary="SMEs and startups with delivered usage in the period (operators)",
)
def smes(
    actor: CurrentActor, uow: Uow, start: Start = None, end: End = None, scenario: Scenario = None
) -> ServedReportOut:
    return ServedReportOut.model_validate(reports.smes_served(uow, actor, start, end, scenario=scenario))


@router.get(
    "/reports/time-to-decision",
    response_model=DurationReportOut,
    summary="Median and p90 days from submission to decision, by access mode (operators)",
)
def time_to_decision(actor: CurrentActor, uow: Uow) -> DurationReportOut:
    return DurationReportOut(rows=reports.time_to_decision(uow, actor))


@router.get(
    "/reports/time-to-first-job",
    response_model=DurationReportOut,
    summary="Median and p90 days from acceptance to the first job start, by access mode (operators)",
)
def time_to_first_job(actor: CurrentActor, uow: Uow) -> DurationReportOut:
    return DurationReportOut(rows=reports.time_to_first_job(uow, actor))


@router.get(
    "/reports/utilization",
    response_model=UtilizationReportOut,
    summary="Delivered GPU-hours ÷ capacity per resource (operators)",
)
def utilization(
    actor: CurrentActor,
    uow: Uow,
    start: Annotated[str, Query(pattern=MONTH)],
    end: Annotated[str, Query(pattern=MONTH)],
    scenario: Scenario = None,
) -> UtilizationReportOut:
    return UtilizationReportOut.model_validate(reports.utilization(uow, actor, start, end, scenario=scenario))


@router.get(
    "/allocations/{allocation_id}/burn-down",
    response_model=BurnDownOut,
    summary="Cumulative granted vs charged GPU-hours of an allocation (its members and operators)",
)
def burn_down(allocation_id: IdPath, actor: CurrentActor, uow: Uow, by: Literal["day", "month"] = "day") -> BurnDownOut:
    return BurnDownOut.model_validate(reports.burn_down(uow, actor, allocation_id, by=by))
