"""Working-day arithmetic for decision deadlines, with a public-holiday calendar."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta
from functools import lru_cache
from typing import Protocol

import holidays as holidays_lib

from .enums import DueStatus


class HolidayCalendar(Protocol):
    def __contains__(self, day: object) -> bool: ...


@lru_cache(maxsize=64)
def holiday_calendar(country: str, subdivision: str | None, years: range) -> Container[date]:
    """Public holidays of a country (and subdivision, e.g. DE/NW for Jülich). Memoized: pure in its inputs."""
    return frozenset(holidays_lib.country_holidays(country, subdiv=subdivision, years=list(years)))


def is_working_day(day: date, cal: Container[date]) -> bool:
    return day.weekday() < 5 and day not in cal


def add_working_days(start: date, n: int, cal: Container[date]) -> date:
    """The n-th working day after ``start`` (``start`` itself does not count)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    day = start
    remaining = n
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, cal):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, cal: Container[date]) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end < start:
        return -working_days_between(end, start, cal)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day, cal):
            count += 1
    return count


def next_cutoff(day: date, cutoff_days: list[int]) -> date:
    """The first cut-off on or after ``day``; cut-offs are days of the month (29–31 clamp to month end)."""
    if not cutoff_days:
        return day
    year, month = day.year, day.month
    for _ in range(2):
        last = _month_end(year, month)
        for cd in sorted(cutoff_days):
            candidate = date(year, month, min(cd, last.day))
            if candidate >= day:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: a cut-off exists every month")


def decision_deadline(submitted: date, working_days: int, cutoff_days: list[int], cal: Container[date]) -> date:
    """Deadline = N working days from the submission (rolling) or from the next cut-off."""
    return add_working_days(next_cutoff(submitted, cutoff_days), working_days, cal)


def due_status(deadline: date | None, today: date, cal: Container[date], soon_days: int = 2) -> DueStatus:
    if deadline is None:
        return DueStatus.DECIDED
    if today > deadline:
        return DueStatus.OVERDUE
    if working_days_between(today, deadline, cal) <= soon_days:
        return DueStatus.DUE_SOON
    return DueStatus.ON_TRACK


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, _month_end(year, month).day))


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)
