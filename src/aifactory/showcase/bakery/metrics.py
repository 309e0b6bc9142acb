"""The shape of the showcase's results: ``metrics.json`` (JSON objects, so typed dicts)."""

from __future__ import annotations

from typing import TypedDict

from .evaluate import Figures


class Comparison(TypedDict):
    """The model against the best baseline of one group (or "overall") in the hold-out."""

    best_baseline: str
    waste_reduction: float
    cost_reduction: float
    model_service_level_ge_baseline: bool
    matched_waste_reduction: float
    matched_service_level_ge_baseline: bool


class PeriodDates(TypedDict):
    """ISO dates (YYYY-MM-DD) bounding the data, the validation period and the hold-out."""

    data_start: str
    validation_start: str
    holdout_start: str
    holdout_end: str


class DataSummary(TypedDict):
    rows: int
    missing_days: int
    sha256: dict[str, str]  # input name -> sha256 of its file
    group_names: dict[str, str]  # group -> display name


class Metrics(TypedDict):
    showcase: str
    demand_signal: str
    parameters: dict[str, object]  # the run's Params, without the output folder
    critical_ratio: float
    alphas_fitted: list[float]
    periods: PeriodDates
    data: DataSummary
    validation_service_level_model: dict[str, float]  # group -> the model's service level on validation
    baseline_margins: dict[str, dict[str, float]]  # baseline -> group -> safety margin
    baselines: dict[str, str]  # baseline -> description
    figures: Figures
    comparison: dict[str, Comparison]  # group (and "overall") -> comparison
    matched_alpha: dict[str, float]  # group -> quantile re-chosen to match the baseline's service level
    holdout_rows_compared: int
    holdout_rows_without_baseline: int
    runtime_seconds: float
