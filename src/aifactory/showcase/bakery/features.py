"""Leakage-free features for forecasting day d made on day d - horizon.

Demand-derived features (lags, same-weekday lags, rolling means) use only values dated d - horizon or
earlier. Calendar, holidays and the event calendar are known in advance. The weather of day d is used as
a stand-in for the weather forecast available on the planning day (a proxy: real forecasts are noisier).
"""

from __future__ import annotations

import math

import holidays
import numpy as np
import pandas as pd

from .data import EVENT_COLUMN, WEATHER_COLUMNS

CALENDAR = ["weekday", "month", "dayofyear", "weekofyear"]
HOLIDAY = ["holiday", "holiday_tomorrow", "holiday_yesterday"]
WEATHER = ["temperature", "cloud_cover", "wind_speed"]
EVENTS = ["kieler_woche"]


def demand_lag_names(horizon: int) -> list[str]:
    return ["lag_h", "lag_h1", "wk1", "wk2", "wk3", "wk4", "wk_mean4", "roll7", "roll28", "lag_year"]


def feature_names(horizon: int) -> list[str]:
    return ["group_code", *CALENDAR, *HOLIDAY, *WEATHER, *EVENTS, *demand_lag_names(horizon)]


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


def holiday_flags(dates: pd.DatetimeIndex, subdiv: str = "SH") -> pd.DataFrame:
    years = range(dates.min().year - 1, dates.max().year + 2)
    cal = holidays.country_holidays("DE", subdiv=subdiv, years=years)
    days = set(pd.to_datetime(list(cal.keys())))
    is_hol = np.array([d in days for d in dates])
    tomorrow = np.array([(d + pd.Timedelta(days=1)) in days for d in dates])
    yesterday = np.array([(d - pd.Timedelta(days=1)) in days for d in dates])
    return pd.DataFrame(
        {"holiday": is_hol, "holiday_tomorrow": tomorrow, "holiday_yesterday": yesterday},
        index=dates,
    ).astype(float)


def exogenous(dates: pd.DatetimeIndex, weather: pd.DataFrame | None, events: pd.DataFrame | None) -> pd.DataFrame:
    """Per-day features known (or forecastable) in advance."""
    out = pd.DataFrame(index=dates)
    out["weekday"] = dates.day_of_week
    out["month"] = dates.month
    out["dayofyear"] = dates.day_of_year
    out["weekofyear"] = dates.isocalendar().week.to_numpy().astype(int)
    out = out.join(holiday_flags(dates))
    renamed = dict(zip(WEATHER_COLUMNS, ["temperature", "cloud_cover", "wind_speed"], strict=True))
    if weather is not None:
        w = weather.rename(columns=renamed).reindex(dates)
        for col in WEATHER:
            out[col] = w[col].to_numpy()
    else:
        for col in WEATHER:
            out[col] = np.nan
    ev = events.reindex(dates)[EVENT_COLUMN].fillna(0.0) if events is not None else 0.0
    out["kieler_woche"] = ev
    return out


def build_features(
    sales: pd.DataFrame,
    horizon: int,
    weather: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per observed (date, group): features, ``demand`` (the target) and ``group``."""
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1 day, got {horizon}")
    wide = wide_demand(sales)
    groups = list(wide.columns)
    blocks = _lag_block(wide, horizon)
    dates = wide.index
    assert isinstance(dates, pd.DatetimeIndex)  # wide_demand reindexes on a date range
    exo = exogenous(dates, weather, events)
    parts = []
    for code, group in enumerate(groups):
        part = exo.copy()
        part["group_code"] = code
        for name, block in blocks.items():
            part[name] = block[group].to_numpy()
        part["demand"] = wide[group].to_numpy()
        part["group"] = group
        parts.append(part)
    frame = pd.concat(parts).rename_axis("date").reset_index()
    frame = frame[frame["demand"].notna()].reset_index(drop=True)
    return frame[["date", "group", "demand", *feature_names(horizon)]]
