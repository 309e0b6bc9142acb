"""Working days, cut-offs and decision deadlines against the NRW (DE-NW) holiday calendar of Jülich."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifactory.domain.calendar import (
    add_months,
    add_working_days,
    decision_deadline,
    due_status,
    holiday_calendar,
    is_working_day,
    next_cutoff,
    working_days_between,
)
from aifactory.domain.enums import DueStatus

NW = holiday_calendar("DE", "NW", range(2023, 2031))
BERLIN = holiday_calendar("DE", "BE", range(2023, 2031))
dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@pytest.mark.parametrize(
    "holiday",
    [
        date(2026, 1, 1),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 14),
        date(2026, 5, 25),
        date(2026, 6, 4),
        date(2026, 10, 3),
        date(2026, 12, 25),
        date(2026, 12, 26),
    ],
)
def test_nrw_public_holidays_are_not_working_days(holiday):
    assert holiday in NW
    assert not is_working_day(holiday, NW)


def test_corpus_christi_is_regional():
    assert date(2026, 6, 4) in NW
    assert date(2026, 6, 4) not in BERLIN
    assert add_working_days(date(2026, 6, 3), 1, BERLIN) == date(2026, 6, 4)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 3, 2), 0, date(2026, 3, 2)),  # Monday, nothing to add
        (date(2026, 3, 2), 2, date(2026, 3, 4)),
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday -> Monday
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # Saturday -> Monday
        (date(2026, 3, 2), 10, date(2026, 3, 16)),
        (date(2026, 4, 2), 1, date(2026, 4, 7)),  # Good Friday, weekend and Easter Monday skipped
        (date(2026, 4, 1), 3, date(2026, 4, 8)),
        (date(2026, 6, 3), 1, date(2026, 6, 5)),  # Corpus Christi skipped
        (date(2026, 12, 23), 2, date(2026, 12, 28)),  # Christmas holidays
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # New Year's Day, then a weekend
    ],
)
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n, NW) == expected


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), -1, NW)


@settings(max_examples=200, deadline=None)
@given(start=dates, n=st.integers(min_value=0, max_value=60))
def test_add_working_days_lands_on_the_nth_working_day(start, n):
    result = add_working_days(start, n, NW)
    assert working_days_between(start, result, NW) == n
    assert working_days_between(result, start, NW) == -n
    if n > 0:
        assert is_working_day(result, NW)
        # minimal: the day before still lacks one working day
        assert working_days_between(start, result - timedelta(days=1), NW) == n - 1
    else:
        assert result == start


def test_working_days_between_counts_the_half_open_interval():
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 7), NW) == 1
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 2), NW) == 0
    assert working_days_between(date(2026, 3, 6), date(2026, 3, 2), NW) == -4


@pytest.mark.parametrize(
    ("day", "cutoffs", "expected"),
    [
        (date(2026, 3, 2), [], date(2026, 3, 2)),  # rolling: no cut-off
        (date(2026, 3, 2), [1, 15], date(2026, 3, 15)),
        (date(2026, 3, 15), [1, 15], date(2026, 3, 15)),  # on the cut-off itself
        (date(2026, 3, 16), [15, 1], date(2026, 4, 1)),
        (date(2026, 2, 10), [31], date(2026, 2, 28)),  # 31 -> end of February
        (date(2028, 2, 10), [30], date(2028, 2, 29)),  # leap year
        (date(2026, 4, 5), [31], date(2026, 4, 30)),
        (date(2026, 12, 20), [15], date(2027, 1, 15)),  # December -> January
        (date(2026, 12, 31), [1], date(2027, 1, 1)),
    ],
)
def test_next_cutoff(day, cutoffs, expected):
    assert next_cutoff(day, cutoffs) == expected


@settings(max_examples=200, deadline=None)
@given(day=dates, cutoffs=st.lists(st.integers(min_value=1, max_value=31), min_size=1, max_size=4))
def test_next_cutoff_is_the_first_cutoff_on_or_after_the_day(day, cutoffs):
    result = next_cutoff(day, cutoffs)

    def is_cutoff(d: date) -> bool:
        month_end = (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return any(min(c, month_end.day) == d.day for c in cutoffs)

    assert result >= day
    assert is_cutoff(result)
    assert not any(is_cutoff(day + timedelta(days=i)) for i in range((result - day).days))


@pytest.mark.parametrize(
    ("submitted", "n", "cutoffs", "expected"),
    [
        (date(2026, 3, 2), 2, [], date(2026, 3, 4)),  # playground: 2 working days
        (date(2026, 3, 2), 4, [], date(2026, 3, 6)),  # fast lane: 4 working days
        (date(2026, 3, 2), 10, [1, 15], date(2026, 3, 27)),  # large scale: 10 working days from the 15th (a Sunday)
        (date(2026, 3, 20), 10, [1, 15], date(2026, 4, 17)),  # from 1 April, across Easter
        (date(2026, 4, 2), 2, [], date(2026, 4, 8)),
    ],
)
def test_decision_deadline(submitted, n, cutoffs, expected):
    assert decision_deadline(submitted, n, cutoffs, NW) == expected


@pytest.mark.parametrize(
    ("deadline", "today", "expected"),
    [
        (None, date(2026, 3, 2), DueStatus.DECIDED),
        (date(2026, 3, 1), date(2026, 3, 2), DueStatus.OVERDUE),
        (date(2026, 3, 2), date(2026, 3, 2), DueStatus.DUE_SOON),
        (date(2026, 3, 4), date(2026, 3, 2), DueStatus.DUE_SOON),
        (date(2026, 3, 5), date(2026, 3, 2), DueStatus.ON_TRACK),
        (date(2026, 3, 9), date(2026, 3, 6), DueStatus.DUE_SOON),  # the weekend does not count
        (date(2026, 4, 8), date(2026, 4, 2), DueStatus.DUE_SOON),  # nor do Good Friday and Easter Monday
        (date(2026, 4, 9), date(2026, 4, 2), DueStatus.ON_TRACK),
    ],
)
def test_due_status(deadline, today, expected):
    assert due_status(deadline, today, NW) is expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 3, 2), 3, date(2026, 6, 2)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 11, 30), 14, date(2028, 1, 30)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 3, 2), 0, date(2026, 3, 2)),
    ],
)
def test_add_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


@settings(max_examples=200, deadline=None)
@given(day=dates, months=st.integers(min_value=-24, max_value=60))
def test_add_months_moves_exactly_that_many_calendar_months(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day
    if result.day < day.day:  # clamped: the last day of its month
        assert (result + timedelta(days=1)).day == 1
