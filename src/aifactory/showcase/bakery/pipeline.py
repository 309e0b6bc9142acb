"""The showcase end to end: data -> features -> validation + held-out backtests -> comparison figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from .data import BakeryDataError, DataConfig, load_inputs
from .evaluate import (
    BASELINES,
    Figures,
    alpha_column,
    backtest,
    baseline_plans,
    choose_margin,
    pick_matched_alpha,
    reduction,
    service_level,
    summarize,
)
from .features import build_features
from .metrics import Comparison, Metrics
from .model import critical_ratio

MIN_HISTORY_DAYS = 56


@dataclass
class Params:
    sales: str | None = None
    weather: str | None = None
    events: str | None = None
    date_col: str = "Datum"
    product_col: str = "Warengruppe"
    value_col: str = "Umsatz"
    horizon_days: int = 1
    waste_cost: float = 0.4
    margin: float = 0.6
    holdout_days: int = 365
    seed: int = 0
    refit_days: int = 28
    groups: str | None = None  # comma-separated subset of product groups (e.g. for a quick run)
    out: str = "."

    def check(self) -> None:
        if not 1 <= self.horizon_days <= 28:
            raise ValueError(f"horizon_days must be in 1..28, got {self.horizon_days}")
        if self.holdout_days < 14:
            raise ValueError(f"holdout_days must be >= 14, got {self.holdout_days}")
        if not 1 <= self.refit_days <= 365:
            raise ValueError(f"refit_days must be in 1..365, got {self.refit_days}")
        critical_ratio(self.waste_cost, self.margin)


def alpha_grid(ratio: float) -> list[float]:
    """The newsvendor quantile plus higher ones (used only to match a baseline's service level)."""
    return sorted({round(min(ratio + 0.05 * k, 0.97), 4) for k in range(6)} | {round(ratio, 4)})


class Periods(NamedTuple):
    first: pd.Timestamp
    validation_start: pd.Timestamp
    holdout_start: pd.Timestamp
    last: pd.Timestamp


@dataclass
class Compared:
    """The hold-out figures of every plan, the comparison per group and the matched quantiles."""

    figures: Figures
    comparison: dict[str, Comparison]
    matched_alpha: dict[str, float]


def _periods(frame: pd.DataFrame, holdout_days: int) -> Periods:
    first, last = frame["date"].min(), frame["date"].max()
    hold_start = last - pd.Timedelta(days=holdout_days - 1)
    val_start = max(hold_start - pd.Timedelta(days=holdout_days), first + pd.Timedelta(days=MIN_HISTORY_DAYS))
    if val_start >= hold_start - pd.Timedelta(days=13):
        raise BakeryDataError(
            f"sales: {frame['date'].nunique()} days from {first.date()} to {last.date()} are too few for a "
            f"{holdout_days}-day hold-out plus a validation period and {MIN_HISTORY_DAYS} days of history"
        )
    return Periods(first, val_start, hold_start, last)


def _margins(
    frame: pd.DataFrame, hold_start: pd.Timestamp, targets: dict[str, float], default: float
) -> dict[str, dict[str, float]]:
    """Per baseline and group: the safety margin chosen on the training period (before the hold-out) to
    reach the group's target service level (``default``, the critical ratio, for a group without one)."""
    train = frame[frame["date"] < hold_start]
    base = baseline_plans(train)
    out: dict[str, dict[str, float]] = {}
    for name in BASELINES:
        out[name] = {}
        for group, idx in train.groupby("group").groups.items():
            b = base.loc[idx, name].to_numpy(dtype=float)
            d = train.loc[idx, "demand"].to_numpy(dtype=float)
            out[name][str(group)] = choose_margin(b, d, targets.get(str(group), default))
    return out


def _targets(validation: pd.DataFrame, col: str) -> dict[str, float]:
    """The model's service level on the validation period, per group: what baselines must reach."""
    return {str(g): service_level(p[col], p["demand"]) for g, p in validation.groupby("group")}


def _holdout_rows(holdout: pd.DataFrame, margins: dict[str, dict[str, float]], main_col: str) -> pd.DataFrame:
    rows = holdout.copy()
    base = baseline_plans(rows)
    rows["plan_model"] = rows[main_col]
    for name in BASELINES:
        factor = rows["group"].map(margins[name]).to_numpy(dtype=float)
        rows[f"plan_{name}"] = base[name].to_numpy(dtype=float) * factor
    # a baseline has no plan where its group has no recent history (e.g. a seasonal group's first days):
    # those rows are left out for every plan, so all plans are compared on the same (day, group) rows
    known: npt.NDArray[np.bool_] = np.isfinite(rows[[f"plan_{b}" for b in BASELINES]].to_numpy(dtype=float)).all(axis=1)
    return rows[known].reset_index(drop=True)


def _compare(rows: pd.DataFrame, validation: pd.DataFrame, alphas: list[float], p: Params) -> Compared:
    """Hold-out figures, best baseline per group and, where the model's service level is lower, a
    matched-service variant whose quantile is re-chosen on the validation period."""
    plans = {"model": "plan_model", **{b: f"plan_{b}" for b in BASELINES}}
    figures = summarize(rows, plans, p.waste_cost, p.margin)
    rows["plan_model_matched"] = rows["plan_model"]
    best_of: dict[str, str] = {}
    matched_alpha: dict[str, float] = {}
    for key in [*sorted(rows["group"].unique()), "overall"]:
        best = best_of[key] = min(BASELINES, key=lambda b: figures[b][key]["waste"])
        model, base = figures["model"][key], figures[best][key]
        ok = model["service_level"] >= base["service_level"]
        if key != "overall" and not ok:
            alpha = pick_matched_alpha(validation, key, alphas, base["service_level"])
            matched_alpha[key] = alpha
            sel = rows["group"] == key
            rows.loc[sel, "plan_model_matched"] = rows.loc[sel, alpha_column(alpha)]
    figures.update(summarize(rows, {"model_matched": "plan_model_matched"}, p.waste_cost, p.margin))
    comparison = {key: _comparison(figures, key, best) for key, best in best_of.items()}
    return Compared(figures, comparison, matched_alpha)


def _comparison(figures: Figures, key: str, best: str) -> Comparison:
    model, matched, base = figures["model"][key], figures["model_matched"][key], figures[best][key]
    return {
        "best_baseline": best,
        "waste_reduction": reduction(model["waste"], base["waste"]),
        "cost_reduction": reduction(model["cost"], base["cost"]),
        "model_service_level_ge_baseline": bool(model["service_level"] >= base["service_level"]),
        "matched_waste_reduction": reduction(matched["waste"], base["waste"]),
        "matched_service_level_ge_baseline": bool(matched["service_level"] >= base["service_level"]),
    }


def run_showcase(p: Params, log: Callable[[str], None] = print) -> tuple[Metrics, pd.DataFrame]:
    """Run everything; returns (metrics, held-out rows with all plans)."""
    p.check()
    started = time.perf_counter()
    cfg = DataConfig(date_col=p.date_col, product_col=p.product_col, value_col=p.value_col)
    inputs = load_inputs(p.sales, p.weather, p.events, cfg)
    sales = _select_groups(inputs.sales, p.groups)
    log(
        f"data: {len(sales)} rows, {sales['group'].nunique()} groups, {sales['date'].min().date()} .. "
        f"{sales['date'].max().date()}; warning: {inputs.missing_days} missing day(s) treated as closed/unknown"
    )
    frame = build_features(sales, p.horizon_days, inputs.weather, inputs.events)
    first, val_start, hold_start, last = _periods(frame, p.holdout_days)
    ratio = critical_ratio(p.waste_cost, p.margin)
    alphas = alpha_grid(ratio)
    main_col = alpha_column(round(ratio, 4))
    log(
        f"newsvendor critical ratio cu/(cu+co) = {ratio:.3f}; validation {val_start.date()} .. "
        f"{(hold_start - pd.Timedelta(days=1)).date()}; hold-out {hold_start.date()} .. {last.date()}"
    )

    def forecast(start: pd.Timestamp, end: pd.Timestamp, label: str) -> pd.DataFrame:
        return backtest(frame, start, end, p.horizon_days, alphas, p.refit_days, p.seed, label=label, log=log)

    validation = forecast(val_start, hold_start - pd.Timedelta(days=1), "validation")
    holdout = forecast(hold_start, last, "hold-out")
    targets = _targets(validation, main_col)
    margins = _margins(frame, hold_start, targets, ratio)
    rows = _holdout_rows(holdout, margins, main_col)
    result = _compare(rows, validation, alphas, p)
    metrics: Metrics = {
        "showcase": "bakery demand forecast (newsvendor)",
        "demand_signal": "revenue (EUR) used as revenue-equivalent units",
        "parameters": {k: v for k, v in asdict(p).items() if k != "out"},
        "critical_ratio": ratio,
        "alphas_fitted": alphas,
        "periods": {
            "data_start": str(first.date()),
            "validation_start": str(val_start.date()),
            "holdout_start": str(hold_start.date()),
            "holdout_end": str(last.date()),
        },
        "data": {
            "rows": int(len(sales)),
            "missing_days": inputs.missing_days,
            "sha256": inputs.sha256,
            "group_names": {g: inputs.group_names[g] for g in sorted(sales["group"].unique())},
        },
        "validation_service_level_model": targets,
        "baseline_margins": margins,
        "baselines": BASELINES,
        "figures": result.figures,
        "comparison": result.comparison,
        "matched_alpha": result.matched_alpha,
        "holdout_rows_compared": int(len(rows)),
        "holdout_rows_without_baseline": int(len(holdout) - len(rows)),
        "runtime_seconds": round(time.perf_counter() - started, 2),
    }
    return metrics, rows


def _select_groups(sales: pd.DataFrame, groups: str | None) -> pd.DataFrame:
    """The rows of the comma-separated product groups (all rows without a selection)."""
    if not groups:
        return sales
    wanted = [g.strip() for g in groups.split(",") if g.strip()]
    unknown = sorted(set(wanted) - set(sales["group"]))
    if unknown:
        raise BakeryDataError(f"groups: unknown product group(s) {unknown}; have {sorted(sales['group'].unique())}")
    return sales[sales["group"].isin(wanted)].reset_index(drop=True)
