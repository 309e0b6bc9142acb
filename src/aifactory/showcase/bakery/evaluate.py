"""Rolling-origin backtests, the bakery's baselines, margin selection and the comparison figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from .model import Outcomes, QuantileModel, plan_outcomes

BASELINES = {
    "last_week": "same weekday last week",
    "mean4": "mean of the last 4 same weekdays",
}
MARGIN_GRID = np.round(np.arange(0.70, 2.501, 0.01), 2)

Figures = dict[str, dict[str, Outcomes]]  # plan name -> group (and "overall") -> outcomes


def alpha_column(alpha: float) -> str:
    return f"q_{alpha:.2f}"


def fold_origins(start: pd.Timestamp, end: pd.Timestamp, refit_days: int) -> list[pd.Timestamp]:
    """Refit dates; a short tail (under half a fold) is folded into the previous fold."""
    origins = list(pd.date_range(start, end, freq=f"{refit_days}D"))
    if len(origins) > 1 and (end - origins[-1]).days + 1 < max(1, refit_days // 2):
        origins.pop()
    return origins


def backtest(
    frame: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    horizon: int,
    alphas: Sequence[float],
    refit_days: int = 28,
    seed: int = 0,
    label: str = "holdout",
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Forecast every observed row in [start, end] with models refitted every ``refit_days``.

    At an origin o, the model is trained on rows dated <= o - horizon only (what is known when the first
    plan of the fold, for day o, is made); each row's features use data <= its date - horizon.
    """
    origins = fold_origins(start, end, refit_days)
    out = []
    for i, origin in enumerate(origins, start=1):
        stop = origins[i] - pd.Timedelta(days=1) if i < len(origins) else end
        train = frame[frame["date"] <= origin - pd.Timedelta(days=horizon)]
        test = frame[(frame["date"] >= origin) & (frame["date"] <= stop)].copy()
        if test.empty:
            continue
        for alpha in alphas:
            model = QuantileModel(alpha, horizon, seed).fit(train)
            test[alpha_column(alpha)] = model.predict(test)
        log(
            f"fold {i}/{len(origins)} ({label}): origin {origin.date()}, train {len(train)} rows "
            f"up to {(origin - pd.Timedelta(days=horizon)).date()}, forecast {len(test)} rows to {stop.date()}"
        )
        out.append(test)
    if not out:
        raise ValueError(f"{label}: no rows to forecast between {start.date()} and {end.date()}")
    return pd.concat(out).reset_index(drop=True)


def baseline_plans(frame: pd.DataFrame) -> pd.DataFrame:
    """Unscaled baseline forecasts; a missing last-week value falls back to the 4-week mean, then roll28."""
    mean4 = frame["wk_mean4"].fillna(frame["roll28"])
    return pd.DataFrame(
        {"last_week": frame["wk1"].fillna(mean4).to_numpy(), "mean4": mean4.to_numpy()},
        index=frame.index,
    )


def service_level(plan: npt.ArrayLike, demand: pd.Series | np.ndarray) -> float:
    return float(np.mean(np.asarray(plan) >= np.asarray(demand))) if len(demand) else float("nan")


def choose_margin(base: np.ndarray, demand: np.ndarray, target: float, grid: np.ndarray = MARGIN_GRID) -> float:
    """Smallest multiplicative safety margin whose service level reaches ``target`` (else the largest)."""
    ok = np.isfinite(base)
    for m in grid:
        if service_level(m * base[ok], demand[ok]) >= target:
            return float(m)
    return float(grid[-1])


def summarize(rows: pd.DataFrame, plans: dict[str, str], waste_cost: float, margin: float) -> Figures:
    """Outcome figures per plan column: {plan_name: {group: outcomes, 'overall': outcomes}}."""
    result: Figures = {}
    for name, col in plans.items():
        per: dict[str, Outcomes] = {}
        for group, part in rows.groupby("group", sort=True):
            per[str(group)] = plan_outcomes(part[col], part["demand"], waste_cost, margin)
        per["overall"] = plan_outcomes(rows[col], rows["demand"], waste_cost, margin)
        result[name] = per
    return result


def reduction(model_waste: float, baseline_waste: float) -> float:
    return float(1.0 - model_waste / baseline_waste) if baseline_waste > 0 else float("nan")


def pick_matched_alpha(validation: pd.DataFrame, group: str | None, alphas: Sequence[float], target: float) -> float:
    """Smallest alpha whose VALIDATION (pre-holdout) service level reaches ``target`` (else the largest);
    a group with no validation rows keeps the smallest (nothing to choose on)."""
    rows = validation if group is None else validation[validation["group"] == group]
    if rows.empty:
        return float(min(alphas))
    for alpha in sorted(alphas):
        if service_level(rows[alpha_column(alpha)], rows["demand"]) >= target:
            return float(alpha)
    return float(max(alphas))
