"""Rolling-origin backtest, the bakery's rules of thumb, and the comparison at matched service level.

In each hold-out window the model bakes its newsvendor quantile, times one factor chosen on the window's
validation period so that it covers demand there on the critical ratio's share of (day, product). Each rule of
thumb ("same weekday last week", "mean of the last 4 same weekdays") is multiplied by a safety margin chosen on
the same validation period (before the window, nothing from it) so that its service level there equals the
model's service level there.
The rule with less validation waste at that margin is the bakery's best rule for the product; the headline
compares the model's waste with that rule's waste in the window. Secondary, labelled: each rule on its own, and
a hindsight check whose margin is chosen on the window itself (it favours the rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .design import Window
from .model import Outcomes, QuantileModel, plan_outcomes

BASELINES = ("last_week", "mean4")
MIN_GROUP_ROWS = 14  # rows a product needs in a period to measure a service level on it
MAX_MARGIN = 10.0


def fold_origins(start: pd.Timestamp, end: pd.Timestamp, refit_days: int) -> list[pd.Timestamp]:
    """Refit dates; a short tail (under half a fold) is folded into the previous fold."""
    origins = list(pd.date_range(start, end, freq=f"{refit_days}D"))
    if len(origins) > 1 and (end - origins[-1]).days + 1 < max(1, refit_days // 2):
        origins.pop()
    return origins


@dataclass(frozen=True)
class ModelSpec:
    alpha: float
    features: list[str]
    horizon: int
    refit_days: int
    seed: int
    rounds: int


def backtest(
    frame: pd.DataFrame, spec: ModelSpec, start: pd.Timestamp, end: pd.Timestamp, log: Callable[[str], None]
) -> pd.DataFrame:
    """Forecast every observed row in [start, end] (``plan_model``) with models refitted every ``refit_days``.

    At an origin o, the model is trained on rows dated <= o - horizon only (what is known when the first
    plan of the fold, for day o, is made); each row's features use data <= its date - horizon.
    """
    origins = fold_origins(start, end, spec.refit_days)
    out = []
    for i, origin in enumerate(origins, start=1):
        stop = origins[i] - pd.Timedelta(days=1) if i < len(origins) else end
        train = frame[frame["date"] <= origin - pd.Timedelta(days=spec.horizon)]
        test = frame[(frame["date"] >= origin) & (frame["date"] <= stop)].copy()
        if test.empty:
            continue
        model = QuantileModel(spec.alpha, spec.features, spec.seed, spec.rounds).fit(train)
        test["plan_model"] = model.predict(test)
        log(
            f"fold {i}/{len(origins)}: origin {origin.date()}, train {len(train)} rows up to "
            f"{(origin - pd.Timedelta(days=spec.horizon)).date()}, forecast {len(test)} rows to {stop.date()}"
        )
        out.append(test)
    if not out:
        raise ValueError(f"no rows to forecast between {start.date()} and {end.date()}")
    return pd.concat(out).reset_index(drop=True)


def with_baselines(frame: pd.DataFrame) -> pd.DataFrame:
    """``base_<rule>`` columns: the rules' unscaled plans; a missing last-week value falls back to the 4-week
    mean, then the 28-day mean (NaN where a product has no history yet)."""
    mean4 = frame["wk_mean4"].fillna(frame["roll28"])
    return frame.assign(base_last_week=frame["wk1"].fillna(mean4), base_mean4=mean4)


def service_level(plan: np.ndarray | pd.Series, demand: np.ndarray | pd.Series) -> float:
    return float(np.mean(np.asarray(plan) >= np.asarray(demand))) if len(demand) else float("nan")


def matching_margin(base: np.ndarray, demand: np.ndarray, target: float) -> float:
    """The smallest factor m whose plan m·base covers demand on a share >= ``target`` of the rows (exact:
    the target quantile of demand/base), capped at MAX_MARGIN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(base > 0, demand / base, np.where(demand > 0, np.inf, 0.0))
    m = float(np.quantile(need, min(max(target, 0.0), 1.0), method="inverted_cdf"))
    return min(m, MAX_MARGIN)


def reduction(model_waste: float, baseline_waste: float) -> float:
    """1 - model/baseline: 0.3 is 30 % less waste, -0.1 is 10 % more."""
    return float(1.0 - model_waste / baseline_waste) if baseline_waste > 0 else float("nan")


@dataclass(frozen=True)
class GroupResult:
    """One product in one window."""

    baseline: str  # the rule chosen (less waste at matched service level before the window)
    margins: dict[str, float]  # rule -> safety margin
    target: float  # the model's service level the margins match
    matched_on: str  # 'validation', or 'history' where the product had too few validation rows
    model: Outcomes
    rules: dict[str, Outcomes]  # rule -> its outcomes in the window at its margin
    hindsight: Outcomes  # the chosen rule, margin fitted on the window to the model's service level there


@dataclass(frozen=True)
class WindowResult:
    window: Window
    calibration: float  # the factor on the model's quantile, chosen on the validation period
    groups: dict[str, GroupResult]
    skipped: dict[str, str]  # product -> why it is not compared in this window
    rows: pd.DataFrame  # the compared rows with plan_model, plan_<rule>, plan_baseline


@dataclass(frozen=True)
class Costs:
    waste_cost: float
    margin: float

    @property
    def ratio(self) -> float:
        return self.margin / (self.margin + self.waste_cost)


def _matching_rows(
    val: pd.DataFrame, history: pd.DataFrame, overall_target: float
) -> tuple[pd.DataFrame, float, str] | None:
    """The rows the product's margins are chosen on, the service level to match, and where they come from."""
    if len(val) >= MIN_GROUP_ROWS:
        return val, service_level(val["plan_model"], val["demand"]), "validation"
    if len(history) >= MIN_GROUP_ROWS:
        return history, overall_target, "history"
    return None


def _group(rows: pd.DataFrame, calib: pd.DataFrame, target: float, matched_on: str, costs: Costs) -> GroupResult:
    margins, val_waste = {}, {}
    for rule in BASELINES:
        base = calib[f"base_{rule}"].to_numpy(dtype=float)
        margins[rule] = matching_margin(base, calib["demand"].to_numpy(dtype=float), target)
        val_waste[rule] = float(np.maximum(margins[rule] * base - calib["demand"].to_numpy(dtype=float), 0).sum())
    best = min(BASELINES, key=lambda r: val_waste[r])
    demand = rows["demand"].to_numpy(dtype=float)
    model = plan_outcomes(rows["plan_model"], demand, costs.waste_cost, costs.margin)
    rules = {
        r: plan_outcomes(margins[r] * rows[f"base_{r}"].to_numpy(dtype=float), demand, costs.waste_cost, costs.margin)
        for r in BASELINES
    }
    base = rows[f"base_{best}"].to_numpy(dtype=float)
    late = matching_margin(base, demand, model["service_level"])
    hindsight = plan_outcomes(late * base, demand, costs.waste_cost, costs.margin)
    return GroupResult(best, margins, target, matched_on, model, rules, hindsight)


def compare_window(frame: pd.DataFrame, forecast: pd.DataFrame, window: Window, costs: Costs) -> WindowResult:
    """The window's comparison per product; ``frame`` (all rows, with base columns) serves as the history of a
    product with too few validation rows, ``forecast`` holds the backtest's plans."""
    known = forecast[np.isfinite(forecast[[f"base_{r}" for r in BASELINES]].to_numpy(dtype=float)).all(axis=1)]
    val = known[(known["date"] >= window.validation_start) & (known["date"] <= window.validation_end)]
    hold = known[(known["date"] >= window.start) & (known["date"] <= window.end)]
    history = frame[(frame["date"] <= window.validation_end) & frame["base_mean4"].notna()]
    factor = calibration(val, costs.ratio)
    val, hold = val.assign(plan_model=val["plan_model"] * factor), hold.assign(plan_model=hold["plan_model"] * factor)
    overall_target = service_level(val["plan_model"], val["demand"]) if len(val) else float("nan")
    groups: dict[str, GroupResult] = {}
    skipped: dict[str, str] = {}
    parts = []
    for group, rows in hold.groupby("group", sort=True):
        g = str(group)
        calib = _matching_rows(val[val["group"] == g], history[history["group"] == g], overall_target)
        if calib is None or not np.isfinite(calib[1]):
            skipped[g] = "no_history"
            continue
        result = groups[g] = _group(rows, *calib, costs)
        plans = {f"plan_{r}": result.margins[r] * rows[f"base_{r}"] for r in BASELINES}
        parts.append(rows.assign(**plans, plan_baseline=plans[f"plan_{result.baseline}"], window=window.index))
    for group in sorted(set(forecast["group"]) - set(groups) - set(skipped)):
        window_rows = forecast[(forecast["group"] == group) & (forecast["date"] >= window.start)]
        if not window_rows[window_rows["date"] <= window.end].empty:
            skipped[str(group)] = "no_baseline"
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return WindowResult(window, factor, groups, skipped, rows)


def calibration(val: pd.DataFrame, ratio: float) -> float:
    """One factor for the model's plans, chosen on the validation period so that they cover demand on a share
    ``ratio`` of its rows there: boosted quantile forecasts cover less out of sample than in sample."""
    if val.empty:
        return 1.0
    return matching_margin(val["plan_model"].to_numpy(dtype=float), val["demand"].to_numpy(dtype=float), ratio)
