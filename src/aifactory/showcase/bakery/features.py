"""Leakage-free features for forecasting day d made on day d - horizon, and which of them the data supports.

Demand-derived features (lags, same-weekday lags, rolling means) use only values dated d - horizon or
earlier. Calendar, holidays and the event calendar are known in advance. The weather of day d is used as
a stand-in for the weather forecast available on the planning day (a proxy: real forecasts are noisier).

A candidate feature is used only where the data supports it: it must vary on the first training period (so a
year-ago lag needs more than a year of history, a holiday flag needs a holiday in it), the seasonal calendar
(month, day of year, week) needs a year of training history, and a weather or event column must cover most
sales days. Each decision is kept as a :class:`FeatureNote` for the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import DailyTable
from .region import HolidayRegion, holiday_flags

WEEK = ["weekday"]
SEASON = ["month", "dayofyear", "weekofyear"]
HOLIDAY = ["holiday", "holiday_tomorrow", "holiday_yesterday"]
LAGS = ["lag_h", "lag_h1", "wk1", "wk2", "wk3", "wk4", "wk_mean4", "roll7", "roll28", "lag_year"]
MIN_COVERAGE = 0.8  # share of sales days a weather or event column must cover
SEASON_DAYS = 365  # training history the seasonal calendar needs


@dataclass(frozen=True)
class FeatureNote:
    """One feature (or family) for the report: used or not, and why (a code the report words)."""

    kind: str  # product | week | season | holidays | weather | events | history
    name: str
    used: bool
    reason: str = ""  # for an unused one: constant | short_history | coverage | no_region | none_in_range
    detail: float | None = None  # coverage share, number of holidays, ...


@dataclass(frozen=True)
class FeatureSet:
    columns: list[str]  # the model's inputs, in order
    notes: list[FeatureNote]


def weekly_step(horizon: int) -> int:
    """Smallest multiple of 7 that is >= horizon: the most recent same weekday known when planning."""
    return 7 * max(1, math.ceil(horizon / 7))


def wide_demand(sales: pd.DataFrame) -> pd.DataFrame:
    """Date x group table over the full calendar; missing (day, group) stays NaN (unknown, not zero)."""
    wide = sales.pivot(index="date", columns="group", values="demand")
    full = pd.date_range(wide.index.min(), wide.index.max(), freq="D")
    return wide.reindex(full)


def _lag_block(wide: pd.DataFrame, horizon: int) -> dict[str, pd.DataFrame]:
    """Each value is computed from rows dated <= d - horizon only (shift by >= horizon)."""
    step = weekly_step(horizon)
    base = wide.shift(horizon)
    weeks = [wide.shift(step + 7 * k) for k in range(4)]
    stacked = np.stack([w.to_numpy() for w in weeks])
    with np.errstate(all="ignore"):
        counts = np.sum(~np.isnan(stacked), axis=0)
        mean4 = np.where(counts > 0, np.nansum(stacked, axis=0) / np.maximum(counts, 1), np.nan)
    return {
        "lag_h": base,
        "lag_h1": wide.shift(horizon + 1),
        "wk1": weeks[0],
        "wk2": weeks[1],
        "wk3": weeks[2],
        "wk4": weeks[3],
        "wk_mean4": pd.DataFrame(mean4, index=wide.index, columns=wide.columns),
        "roll7": base.rolling(7, min_periods=1).mean(),
        "roll28": base.rolling(28, min_periods=1).mean(),
        "lag_year": wide.shift(max(364, step)),
    }


def exogenous(
    dates: pd.DatetimeIndex, region: HolidayRegion, weather: DailyTable | None, events: DailyTable | None
) -> pd.DataFrame:
    """Per-day candidate features known (or forecastable) in advance; weather and events prefixed."""
    out = pd.DataFrame(index=dates)
    out["weekday"] = dates.day_of_week
    out["month"] = dates.month
    out["dayofyear"] = dates.day_of_year
    out["weekofyear"] = dates.isocalendar().week.to_numpy().astype(int)
    out = out.join(holiday_flags(region, dates))
    if weather is not None:
        w = weather.frame.reindex(dates)
        for col in weather.frame.columns:
            out[f"weather:{col}"] = w[col].to_numpy()
    if events is not None:
        e = events.frame.reindex(dates).fillna(0.0)
        for col in events.frame.columns:
            out[f"event:{col}"] = e[col].to_numpy()
    return out


def build_frame(
    sales: pd.DataFrame,
    horizon: int,
    region: HolidayRegion,
    weather: DailyTable | None = None,
    events: DailyTable | None = None,
) -> pd.DataFrame:
    """One row per observed (date, group): ``date``, ``group``, ``demand``, ``group_code`` and every candidate."""
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1 day, got {horizon}")
    wide = wide_demand(sales)
    blocks = _lag_block(wide, horizon)
    dates = wide.index
    assert isinstance(dates, pd.DatetimeIndex)  # wide_demand reindexes on a date range
    exo = exogenous(dates, region, weather, events)
    parts = []
    for code, group in enumerate(wide.columns):
        part = exo.copy()
        part["group_code"] = code
        for name, block in blocks.items():
            part[name] = block[group].to_numpy()
        part["demand"] = wide[group].to_numpy()
        part["group"] = str(group)
        parts.append(part)
    frame = pd.concat(parts).rename_axis("date").reset_index()
    frame = frame[frame["demand"].notna()].reset_index(drop=True)
    rest = [c for c in frame.columns if c not in ("date", "group", "demand", "group_code")]
    return frame[["date", "group", "demand", "group_code", *rest]]


def _varies(values: pd.Series) -> bool:
    return int(values.dropna().nunique()) >= 2


def _family(train: pd.DataFrame, kind: str, cols: list[str]) -> list[FeatureNote]:
    return [FeatureNote(kind, c, _varies(train[c]), "" if _varies(train[c]) else "constant") for c in cols]


def _table_notes(frame: pd.DataFrame, train: pd.DataFrame, kind: str, prefix: str) -> list[FeatureNote]:
    notes = []
    days = frame.drop_duplicates("date")
    for col in [c for c in frame.columns if c.startswith(prefix)]:
        coverage = float(days[col].notna().mean())
        if coverage < MIN_COVERAGE:
            notes.append(FeatureNote(kind, col, False, "coverage", coverage))
        elif not _varies(train[col]):
            notes.append(FeatureNote(kind, col, False, "constant", coverage))
        else:
            notes.append(FeatureNote(kind, col, True, "", coverage))
    return notes


def select_features(frame: pd.DataFrame, train_end: pd.Timestamp, region: HolidayRegion) -> FeatureSet:
    """The candidates the data supports, judged on the first training period (rows dated <= ``train_end``)."""
    train = frame[frame["date"] <= train_end]
    history = (train_end - frame["date"].min()).days + 1
    several = frame["group"].nunique() > 1
    notes = [FeatureNote("product", "group_code", several, "" if several else "constant")]
    notes += _family(train, "week", WEEK)
    if history >= SEASON_DAYS:
        notes += _family(train, "season", SEASON)
    else:
        notes += [FeatureNote("season", c, False, "short_history", float(history)) for c in SEASON]
    if not region.country:
        notes += [FeatureNote("holidays", c, False, "no_region") for c in HOLIDAY]
    elif not frame[HOLIDAY].to_numpy().any():
        notes += [FeatureNote("holidays", c, False, "none_in_range") for c in HOLIDAY]
    else:
        notes += _family(train, "holidays", HOLIDAY)
    notes += _table_notes(frame, train, "weather", "weather:")
    notes += _table_notes(frame, train, "events", "event:")
    notes += _family(train, "history", LAGS)
    return FeatureSet([n.name for n in notes if n.used], notes)
