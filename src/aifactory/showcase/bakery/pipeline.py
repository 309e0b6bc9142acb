"""The showcase end to end: data -> features -> rolling-origin backtest -> windows at matched service level."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import pandas as pd
import pycountry

from .data import DUPLICATES, BakeryDataError, BakeryInputs, DataConfig, load_inputs
from .design import MIN_WINDOW_DAYS, Design, plan_design
from .evaluate import Costs, ModelSpec, WindowResult, backtest, compare_window, with_baselines
from .features import FeatureSet, build_frame, select_features
from .metrics import DataSummary, Evaluation, Features, Metrics, Note, Product
from .model import critical_ratio
from .region import HolidayRegion, holiday_names, parse_region
from .summary import OVERALL, headlines, window_summary
from .texts import LANGUAGES, title

CURRENCY_SIGNS = ("€", "$", "£", "¥", "CHF", "kr", "zł")


@dataclass
class Params:
    sales: str | None = None
    weather: str | None = None
    events: str | None = None
    date_col: str = "Datum"
    product_col: str = "Warengruppe"
    value_col: str = "Umsatz"
    count_rows: bool = False  # every row is one item sold (a list of sales): rows are counted, value_col unused
    unit: str = ""
    date_format: str = ""
    duplicates: str = "sum"
    holidays: str = "DE-SH"
    language: str = "en"
    horizon_days: int = 1
    waste_cost: float = 0.4
    margin: float = 0.6
    holdout_days: int = 0
    windows: int = 0
    refit_days: int = 28
    boosting_rounds: int = 300
    seed: int = 0
    groups: str | None = None  # comma-separated subset of products (e.g. for a quick run)
    out: str = "."

    def check(self) -> None:
        if not 1 <= self.horizon_days <= 28:
            raise ValueError(f"horizon_days must be in 1..28, got {self.horizon_days}")
        if self.holdout_days != 0 and not MIN_WINDOW_DAYS <= self.holdout_days <= 3650:
            raise ValueError(f"holdout_days must be 0 (chosen from the data) or 14..3650, got {self.holdout_days}")
        if not 0 <= self.windows <= 12:
            raise ValueError(f"windows must be 0 (chosen from the data) or 1..12, got {self.windows}")
        if not 1 <= self.refit_days <= 365:
            raise ValueError(f"refit_days must be in 1..365, got {self.refit_days}")
        if not 10 <= self.boosting_rounds <= 5000:
            raise ValueError(f"boosting_rounds must be in 10..5000, got {self.boosting_rounds}")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {self.language!r}")
        if self.duplicates not in DUPLICATES:
            raise ValueError(f"duplicates must be one of {', '.join(DUPLICATES)}, got {self.duplicates!r}")
        critical_ratio(self.waste_cost, self.margin)


def resolve_unit(p: Params, shipped: bool) -> tuple[str, bool, str]:
    """(unit, whether it was given, 'revenue' or 'quantity'): a currency makes the values revenue."""
    unit = p.unit.strip() or ("EUR" if shipped else "pieces" if p.count_rows else "units")
    given = bool(p.unit.strip()) or shipped
    currency = unit in CURRENCY_SIGNS or (len(unit) == 3 and pycountry.currencies.get(alpha_3=unit.upper()))
    return unit, given, "revenue" if currency else "quantity"


def _data_summary(p: Params, inputs: BakeryInputs, sales: pd.DataFrame) -> DataSummary:
    unit, given, measure = resolve_unit(p, inputs.shipped)
    products: dict[str, Product] = {
        str(g): {
            "name": inputs.group_names[str(g)],
            "rows": len(part),
            "first": str(part["date"].min().date()),
            "last": str(part["date"].max().date()),
            "total": float(part["demand"].sum()),
        }
        for g, part in sales.groupby("group", sort=True)
    }
    first, last = sales["date"].min(), sales["date"].max()
    return {
        "files": inputs.files,
        "sha256": inputs.sha256,
        "unit": unit,
        "unit_given": given,
        "measure": measure,
        "whole_numbers": inputs.facts.whole_numbers,
        "input_rows": inputs.facts.input_rows,
        "rows": len(sales),
        "summed_rows": inputs.facts.summed_rows,
        "missing_days": inputs.facts.missing_days,
        "first_date": str(first.date()),
        "last_date": str(last.date()),
        "days": (last - first).days + 1,
        "products": products,
        "shipped": inputs.shipped,
    }


def _features(fs: FeatureSet, region: HolidayRegion, inputs: BakeryInputs, language: str) -> Features:
    span = pd.date_range(inputs.sales["date"].min(), inputs.sales["date"].max())
    names = holiday_names(region, span, language)
    left_out: list[Note] = [
        {"kind": kind, "name": f"{prefix}:{col}", "used": False, "reason": why, "detail": None}
        for kind, prefix, table in (("weather", "weather", inputs.weather), ("events", "event", inputs.events))
        if table is not None
        for col, why in table.ignored.items()
    ]
    notes: list[Note] = [
        {"kind": n.kind, "name": n.name, "used": n.used, "reason": n.reason, "detail": n.detail} for n in fs.notes
    ]
    return {
        "used": fs.columns,
        "notes": notes + left_out,
        "holiday_region": region.code,
        "holiday_region_name": region.name(language),
        "holidays_in_range": {str(d.date()): n for d, n in sorted(names.items()) if span[0] <= d <= span[-1]},
    }


def _evaluation(design: Design, p: Params, results: list[WindowResult], forecast_rows: int) -> Evaluation:
    compared = sum(len(r.rows) for r in results)
    return {
        "holdout_days": design.holdout_days,
        "holdout_chosen": design.chosen,
        "holdout_start": str(design.windows[0].start.date()),
        "holdout_end": str(design.last.date()),
        "windows": len(design.windows),
        "window_days": [w.days for w in design.windows],
        "validation_days": design.validation_days,
        "training_days": design.training_days,
        "horizon_days": p.horizon_days,
        "refit_days": p.refit_days,
        "rows_compared": compared,
        "rows_without_baseline": forecast_rows - compared,
    }


def run_showcase(p: Params, log: Callable[[str], None] = print) -> tuple[Metrics, pd.DataFrame]:
    """Run everything; returns (metrics, the hold-out's compared rows with every plan)."""
    p.check()
    started = time.perf_counter()
    region = parse_region(p.holidays)
    cfg = DataConfig(p.date_col, p.product_col, "" if p.count_rows else p.value_col, p.date_format, p.duplicates)
    inputs = load_inputs(p.sales, p.weather, p.events, cfg)
    sales = _select_groups(inputs.sales, p.groups)
    first, last = sales["date"].min(), sales["date"].max()
    log(
        f"data: {len(sales)} (day, product) rows, {sales['group'].nunique()} products, {first.date()} .. "
        f"{last.date()}; {inputs.facts.missing_days} day(s) without sales (closed/unknown); "
        f"{inputs.facts.summed_rows} repeated row(s) added up"
    )
    design = plan_design(first, last, p.horizon_days, p.holdout_days, p.windows)
    frame = with_baselines(build_frame(sales, p.horizon_days, region, inputs.weather, inputs.events))
    fs = select_features(frame, design.train_end, region)
    ratio = critical_ratio(p.waste_cost, p.margin)
    log(
        f"newsvendor critical ratio cu/(cu+co) = {ratio:.3f}; hold-out {design.windows[0].start.date()} .. "
        f"{last.date()} ({design.holdout_days} days, {len(design.windows)} window(s)); validation "
        f"{design.validation_days} days before each; features: {', '.join(fs.columns)}"
    )
    spec = ModelSpec(ratio, fs.columns, p.horizon_days, p.refit_days, p.seed, p.boosting_rounds)
    forecast = backtest(frame, spec, design.windows[0].validation_start, last, log)
    costs = Costs(p.waste_cost, p.margin)
    results = [compare_window(frame, forecast, w, costs) for w in design.windows]
    in_windows = int((forecast["date"] >= design.windows[0].start).sum())
    heads = headlines(results, costs)
    if heads[OVERALL]["model"]["n"] == 0:
        raise BakeryDataError("sales: no hold-out row has the history the bakery's rules of thumb need")
    metrics: Metrics = {
        "showcase": "bakery demand forecast (newsvendor)",
        "title": title(p.language, heads[OVERALL]),
        "language": p.language,
        "parameters": {k: v for k, v in asdict(p).items() if k != "out"},
        "critical_ratio": ratio,
        "data": _data_summary(p, inputs, sales),
        "features": _features(fs, region, inputs, p.language),
        "evaluation": _evaluation(design, p, results, in_windows),
        "headline": heads,
        "windows": [window_summary(r, costs) for r in results],
        "runtime_seconds": round(time.perf_counter() - started, 2),
    }
    rows = pd.concat([r.rows for r in results if not r.rows.empty], ignore_index=True)
    return metrics, rows


def _select_groups(sales: pd.DataFrame, groups: str | None) -> pd.DataFrame:
    """The rows of the comma-separated products (all rows without a selection)."""
    if not groups:
        return sales
    wanted = [g.strip() for g in groups.split(",") if g.strip()]
    unknown = sorted(set(wanted) - set(sales["group"]))
    if unknown:
        raise BakeryDataError(f"groups: unknown product(s) {unknown}; have {sorted(sales['group'].unique())}")
    return sales[sales["group"].isin(wanted)].reset_index(drop=True)
