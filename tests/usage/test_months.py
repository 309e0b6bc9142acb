"""Usage apportioned across the calendar months a run spans (UTC), against hand computations: the rule
(``domain.months``), the monthly reports of real charges, and an imported what-if scenario (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from aifactory.demo import OPERATOR_EMAIL, seed_demo
from aifactory.domain.months import apportion, month_seconds
from aifactory.domain.projects import Project
from aifactory.services import reports
from aifactory.services.context import Actor
from aifactory.services.usage_import import import_trace
from tests.support.charges import post_run
from tests.support.traces import SWF21

HOUR = 3600


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---------------------------------------------------------------- the rule


def test_a_run_over_midnight_at_the_month_end_is_split_by_its_hours() -> None:
    # Jan 31 22:00 → Feb 1 02:00: 2 h in each month; 4 GPUs × 4 h = 57,600 GPU-seconds
    assert apportion(57_600, at("2026-01-31 22:00"), at("2026-02-01 02:00")) == [
        ("2026-01", 28_800),
        ("2026-02", 28_800),
    ]
    # Jan 31 23:00 → Feb 1 02:00 (1 h and 2 h) of 10: 3.33… and 6.66…, the left-over second to February
    assert apportion(10, at("2026-01-31 23:00"), at("2026-02-01 02:00")) == [("2026-01", 3), ("2026-02", 7)]
    # 3 of 2 equal halves: 1.5 each, the tie to the earlier month
    assert apportion(3, at("2026-01-31 23:00"), at("2026-02-01 01:00")) == [("2026-01", 2), ("2026-02", 1)]


def test_a_run_over_three_months_and_a_leap_february() -> None:
    # Jan 15 → Mar 10, 2026: 17 + 28 + 9 = 54 days; one GPU all the way: 86,400 s a day
    assert apportion(54 * 86_400, at("2026-01-15 00:00"), at("2026-03-10 00:00")) == [
        ("2026-01", 17 * 86_400),
        ("2026-02", 28 * 86_400),
        ("2026-03", 9 * 86_400),
    ]
    # 2024 is a leap year: Feb 28 12:00 → Mar 1 12:00 is 1.5 days in February, 0.5 in March
    assert apportion(48, at("2024-02-28 12:00"), at("2024-03-01 12:00")) == [("2024-02", 36), ("2024-03", 12)]
    # over the new year
    assert apportion(100, at("2025-12-31 23:30"), at("2026-01-01 00:30")) == [("2025-12", 50), ("2026-01", 50)]


def test_runs_within_one_month_or_of_no_length_stay_whole() -> None:
    assert apportion(500, at("2026-03-01 00:00"), at("2026-03-31 23:59")) == [("2026-03", 500)]
    assert apportion(500, at("2026-03-31 23:00"), at("2026-04-01 00:00")) == [("2026-03", 500)]  # ends at midnight
    assert apportion(7, at("2026-04-01 00:00"), at("2026-04-01 00:00")) == [("2026-04", 7)]
    # a share that rounds to nothing is left out: 1 s over a run with 1 s in January of a day
    assert apportion(1, at("2026-01-31 23:59:59"), at("2026-02-01 23:59:59")) == [("2026-02", 1)]
    assert [(k, s.total_seconds()) for k, s in month_seconds(at("2026-01-31 23:00"), at("2026-02-01 00:30"))] == [
        ("2026-01", 3600.0),
        ("2026-02", 1800.0),
    ]


# ---------------------------------------------------------------- the reports


@pytest.fixture
def demo(uow_factory, clock):
    seed_demo(uow_factory, clock)
    with uow_factory(write=False) as uow:
        operator = Actor(uow.users.by_email(OPERATOR_EMAIL))
        project = uow.session.scalars(select(Project).order_by(Project.id)).first()
        alloc = project.allocations[0]
    return uow_factory, clock, operator, alloc


def months(report) -> list[tuple[str, float, int]]:
    return [(r.key, r.gpu_hours, r.entries) for r in report.rows]


def test_monthly_reports_of_real_charges_apportion_each_run(demo) -> None:
    uow_factory, _clock, operator, alloc = demo
    # 4 GPUs Jan 31 22:00 → Feb 1 02:00 (16 GPU-h: 8 + 8); 1 GPU Jan 15 → Mar 10 (1,296 GPU-h: 408 + 672 + 216);
    # 2 GPUs within February (6 GPU-h)
    post_run(uow_factory, alloc, "m1", 16 * HOUR, (at("2026-01-31 22:00"), at("2026-02-01 02:00")))
    post_run(uow_factory, alloc, "m2", 54 * 24 * HOUR, (at("2026-01-15 00:00"), at("2026-03-10 00:00")))
    post_run(uow_factory, alloc, "m3", 6 * HOUR, (at("2026-02-10 00:00"), at("2026-02-10 03:00")))
    with uow_factory(write=False) as uow:
        by_month = reports.gpu_hours_by(uow, operator, "month", start="2026-01", end="2026-03")
        february = reports.gpu_hours_by(uow, operator, "project", start="2026-02", end="2026-02")
        january = reports.gpu_hours_by(uow, operator, "org_kind", start="2026-01", end="2026-01")
        util = reports.utilization(uow, operator, "2026-03", "2026-03")
        served = reports.smes_served(uow, operator, "2026-01", "2026-01")
    assert months(by_month) == [("2026-01", 8 + 408.0, 2), ("2026-02", 8 + 672.0 + 6, 3), ("2026-03", 216.0, 1)]
    assert (by_month.total_gpu_hours, by_month.total_entries) == (16 + 1296 + 6, 3)  # each entry once
    assert [(r.key, r.gpu_hours, r.entries) for r in february.rows] == [(str(alloc.project_id), 686.0, 3)]
    assert (january.total_gpu_hours, january.total_entries) == (416.0, 2)
    assert {r.resource_id: r.gpu_hours for r in util.rows}[alloc.resource_id] == 216.0
    assert served.total >= 1  # the project's organizations had usage in January, though no charge ended there


def test_the_imported_what_if_scenario_is_apportioned_by_the_same_rule(demo, tmp_path: Path) -> None:
    uow_factory, clock, operator, _alloc = demo
    path = tmp_path / "site.swf"
    path.write_bytes(SWF21)
    s = import_trace(
        uow_factory,
        clock,
        path,
        fmt="swf",
        scenario="site",
        default_project="1",
        resource="booster",
        gpus_per_processor="1/4",
    )
    assert (s.state, s.imported) == ("done", 5)
    with uow_factory(write=False) as uow:
        report = reports.gpu_hours_by(uow, operator, "month", scenario="site")
        real = reports.gpu_hours_by(uow, operator, "month")
    # worked out in tests/support/traces.py: January 38,905 s (jobs 1–4, 6), February 50,495 s (jobs 1 and 4)
    assert months(report) == [("2026-01", round(38_905 / HOUR, 6), 5), ("2026-02", round(50_495 / HOUR, 6), 2)]
    assert (report.total_gpu_hours, report.total_entries) == (round(89_400 / HOUR, 6), 5)
    assert real.rows == []  # the scenario is no part of real usage


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "2026-13", "26-01"])
def test_a_period_outside_the_calendar_reports_can_name_is_refused(month: str) -> None:
    from aifactory.domain.errors import InvalidInput
    from aifactory.services.reports import check_period

    with pytest.raises(InvalidInput) as raised:
        check_period(None, month)
    assert raised.value.errors[0].field == "end"
