"""The evaluation's design: how many days are held out, in how many rolling-origin windows, and the validation
period before each window — chosen from what the data allows, or checked when given.

Timeline for a window starting on day s, planned ``h`` days ahead (horizon): its validation period is the
``V`` days ending on s - h (the last day whose sales are known when the plan for s is made); the backtest
forecasts those days with models refitted on data dated at least h days before each forecast day; the
first model of the first window's validation trains on everything up to its start - h.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

MIN_TRAIN_DAYS = 56  # eight weeks: every weekday eight times before the first forecast
MIN_VALIDATION_DAYS = 28
MAX_VALIDATION_DAYS = 365  # a year where the data has it: the rules' margins then see every season
MIN_WINDOW_DAYS = 14
MAX_WINDOWS = 6
MAX_HOLDOUT_DAYS = 365


class DesignError(ValueError):
    """Too little data for the evaluation (or a hold-out that does not fit); the message says how much fits."""


@dataclass(frozen=True)
class Window:
    index: int  # 1-based
    start: pd.Timestamp
    end: pd.Timestamp
    validation_start: pd.Timestamp
    validation_end: pd.Timestamp

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Design:
    first: pd.Timestamp
    last: pd.Timestamp
    holdout_days: int
    validation_days: int
    chosen: bool  # the hold-out was chosen from the data (not given)
    windows: list[Window]
    train_end: pd.Timestamp  # the first training period's last day (features are judged on it)

    @property
    def span_days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def training_days(self) -> int:
        return (self.train_end - self.first).days + 1


def days_needed(horizon: int) -> int:
    """The least data the evaluation accepts: training, validation and two hold-out windows."""
    return MIN_TRAIN_DAYS + MIN_VALIDATION_DAYS + 2 * MIN_WINDOW_DAYS + 2 * (horizon - 1)


def _max_holdout(span: int, validation: int, horizon: int) -> int:
    return span - validation - MIN_TRAIN_DAYS - 2 * (horizon - 1)


def _window_count(holdout: int, given: int) -> int:
    if given:
        if holdout // given < MIN_WINDOW_DAYS:
            raise DesignError(
                f"windows={given}: {holdout} hold-out days make windows of {holdout // given} days; each window "
                f"needs at least {MIN_WINDOW_DAYS} days: use at most {max(1, holdout // MIN_WINDOW_DAYS)} "
                f"window(s) or a longer hold-out"
            )
        return given
    if holdout >= 3 * MIN_WINDOW_DAYS:
        return min(MAX_WINDOWS, max(2, holdout // 21))
    return max(1, holdout // MIN_WINDOW_DAYS)


def plan_design(
    first: pd.Timestamp, last: pd.Timestamp, horizon: int, holdout_days: int = 0, windows: int = 0
) -> Design:
    """Windows over the last ``holdout_days`` (0: chosen from the data), each with its validation period."""
    span = (last - first).days + 1
    what = f"{span} days of sales ({first.date()} .. {last.date()})"
    need = days_needed(horizon)
    if span < need:
        raise DesignError(
            f"sales: {what} are too few to evaluate a forecast: it needs at least {need} days — "
            f"{MIN_TRAIN_DAYS} days of training history, {MIN_VALIDATION_DAYS} of validation and two hold-out "
            f"windows of {MIN_WINDOW_DAYS} days (with horizon_days={horizon})"
        )
    validation = min(MAX_VALIDATION_DAYS, max(MIN_VALIDATION_DAYS, span // 5))
    if holdout_days:
        validation = min(validation, max(MIN_VALIDATION_DAYS, _max_holdout(span, 0, horizon) - holdout_days))
        most = _max_holdout(span, validation, horizon)
        if holdout_days > most:
            raise DesignError(
                f"holdout_days={holdout_days} does not fit {what}: with {validation} days of validation and "
                f"{MIN_TRAIN_DAYS} of training history before it, the hold-out can be at most {most} days; "
                f"set holdout_days=0 to have it chosen from the data"
            )
        holdout = holdout_days
    else:
        holdout = min(MAX_HOLDOUT_DAYS, (span - validation) // 2, _max_holdout(span, validation, horizon))
    count = _window_count(holdout, windows)
    return Design(
        first=first,
        last=last,
        holdout_days=holdout,
        validation_days=validation,
        chosen=not holdout_days,
        windows=_windows(last, holdout, count, validation, horizon),
        train_end=last - pd.Timedelta(days=holdout + validation + 2 * horizon - 2),
    )


def _windows(last: pd.Timestamp, holdout: int, count: int, validation: int, horizon: int) -> list[Window]:
    """``count`` consecutive windows ending on ``last``; the first takes the days that do not divide evenly."""
    size = holdout // count
    out: list[Window] = []
    start = last - pd.Timedelta(days=holdout - 1)
    for i in range(count):
        days = size + (holdout - size * count if i == 0 else 0)
        end = start + pd.Timedelta(days=days - 1)
        val_end = start - pd.Timedelta(days=horizon)
        out.append(Window(i + 1, start, end, val_end - pd.Timedelta(days=validation - 1), val_end))
        start = end + pd.Timedelta(days=1)
    return out
