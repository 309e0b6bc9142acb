"""The showcase end to end: data -> features -> validation + held-out backtests -> comparison figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .data import BakeryDataError, DataConfig, load_inputs
from .evaluate import (
    BASELINES,
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


def _periods(frame: pd.DataFrame, holdout_days: int) -> tuple[pd.Timestamp, ...]:
    first, last = frame["date"].min(), frame["date"].max()
    hold_start = last - pd.Timedelta(days=holdout_days - 1)
    val_start = max(hold_start - pd.Timedelta(days=holdout_days), first + pd.Timedelta(days=MIN_HISTORY_DAYS))
    if val_start >= hold_start - pd.Timedelta(days=13):
        raise BakeryDataError(
            f"sales: {frame['date'].nunique()} days from {first.date()} to {last.date()} are too few for a "
            f"{holdout_days}-day hold-out plus a validation period and {MIN_HISTORY_DAYS} days of history"
        )
    return first, val_start, hold_start, last


def _margins(
    frame: pd.DataFrame, hold_start: pd.Timestamp, targets: dict[str, float], default: float
) -> dict[str, dict]:
    """Per baseline and group: the safety margin chosen on the training period (before the hold-out) to
    reach the group's target service level (``default``, the critical ratio, for a group without one)."""
    train = frame[frame["date"] < hold_start]
    base = baseline_plans(train)
    out: dict[str, dict] = {}
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


def _holdout_rows(holdout: pd.DataFrame, margins: dict[str, dict], main_col: str) -> pd.DataFrame:
    rows = holdout.copy()
    base = baseline_plans(rows)
    rows["plan_model"] = rows[main_col]
    for name in BASELINES:
        factor = rows["group"].map(margins[name]).to_numpy(dtype=float)
        rows[f"plan_{name}"] = base[name].to_numpy(dtype=float) * factor
    # a baseline has no plan where its group has no recent history (e.g. a seasonal group's first days):
    # those rows are left out for every plan, so all plans are compared on the same (day, group) rows
    known = np.isfinite(rows[[f"plan_{b}" for b in BASELINES]].to_numpy(dtype=float)).all(axis=1)
    return rows[known].reset_index(drop=True)


def _compare(rows: pd.DataFrame, validation: pd.DataFrame, alphas: list[float], p: Params) -> dict:
    """Hold-out figures, best baseline per group and, where the model's service level is lower, a
    matched-service variant whose quantile is re-chosen on the validation period."""
    plans = {"model": "plan_model", **{b: f"plan_{b}" for b in BASELINES}}
    figures = summarize(rows, plans, p.waste_cost, p.margin)
    rows["plan_model_matched"] = rows["plan_model"]
    comparison: dict[str, dict] = {}
    matched_alpha: dict[str, float] = {}
    for key in [*sorted(rows["group"].unique()), "overall"]:
        best = min(BASELINES, key=lambda b: figures[b][key]["waste"])
        model, base = figures["model"][key], figures[best][key]
        ok = model["service_level"] >= base["service_level"]
        if key != "overall" and not ok:
            alpha = pick_matched_alpha(validation, key, alphas, base["service_level"])
            matched_alpha[key] = alpha
            sel = rows["group"] == key
            rows.loc[sel, "plan_model_matched"] = rows.loc[sel, alpha_column(alpha)]
        comparison[key] = {
            "best_baseline": best,
            "waste_reduction": reduction(model["waste"], base["waste"]),
            "cost_reduction": reduction(model["cost"], base["cost"]),
            "model_service_level_ge_baseline": bool(ok),
        }
    figures.update(summarize(rows, {"model_matched": "plan_model_matched"}, p.waste_cost, p.margin))
    for key, comp in comparison.items():
        m, b = figures["model_matched"][key], figures[comp["best_baseline"]][key]
        comp["matched_waste_reduction"] = reduction(m["waste"], b["waste"])
        comp["matched_service_level_ge_baseline"] = bool(m["service_level"] >= b["service_level"])
    return {"figures": figures, "comparison": comparison, "matched_alpha": matched_alpha}


def run_showcase(p: Params, log: Callable[[str], None] = print) -> tuple[dict, pd.DataFrame]:
    """Run everything; returns (metrics, held-out rows with all plans)."""
    p.check()
    started = time.perf_counter()
    cfg = DataConfig(date_col=p.date_col, product_col=p.product_col, value_col=p.value_col)
    inputs = load_inputs(p.sales, p.weather, p.events, cfg)
    sales = inputs.sales
    if p.groups:
        wanted = [g.strip() for g in p.groups.split(",") if g.strip()]
        unknown = sorted(set(wanted) - set(sales["group"]))
        if unknown:
            raise BakeryDataError(f"groups: unknown product group(s) {unknown}; have {sorted(sales['group'].unique())}")
        sales = sales[sales["group"].isin(wanted)].reset_index(drop=True)
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
    bt = {"seed": p.seed, "log": log, "refit_days": p.refit_days}
    validation = backtest(
        frame, val_start, hold_start - pd.Timedelta(days=1), p.horizon_days, alphas, label="validation", **bt
    )
    holdout = backtest(frame, hold_start, last, p.horizon_days, alphas, label="hold-out", **bt)
    targets = _targets(validation, main_col)
    margins = _margins(frame, hold_start, targets, ratio)
    rows = _holdout_rows(holdout, margins, main_col)
    result = _compare(rows, validation, alphas, p)
    result["holdout_rows_compared"] = int(len(rows))
    result["holdout_rows_without_baseline"] = int(len(holdout) - len(rows))
    metrics = {
        "showcase": "bakery demand forecast (newsvendor)",
        "demand_signal": "revenue (EUR) used as revenue-equivalent units",
        "parameters": {k: v for k, v in asdict(p).items() if k != "out"},
        "critical_ratio": ratio,
        "alphas_fitted": alphas,
        "periods": {
            k: str(v.date())
            for k, v in {
                "data_start": first,
                "validation_start": val_start,
                "holdout_start": hold_start,
                "holdout_end": last,
            }.items()
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
        **result,
        "runtime_seconds": round(time.perf_counter() - started, 2),
    }
    return metrics, rows
