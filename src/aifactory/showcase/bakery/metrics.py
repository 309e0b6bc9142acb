"""The shape of the showcase's results: ``metrics.json`` (JSON objects, so typed dicts)."""

from __future__ import annotations

from typing import TypedDict

from .model import Outcomes


class Spread(TypedDict):
    """The waste reduction over the hold-out windows (one window's luck shows as a wide range)."""

    median: float
    min: float
    max: float
    windows: int


class Headline(TypedDict):
    """A product (or all products) over the whole hold-out, at matched service level."""

    baseline: str  # the rule of thumb compared against ('per product' for all products)
    model: Outcomes
    rule: Outcomes  # the chosen rule at its matched margin
    waste_reduction: float  # the headline: 1 - model waste / rule waste
    spread: Spread
    cost_reduction: float  # secondary: co·waste + cu·lost sales
    hindsight_waste_reduction: float  # secondary: rule margin chosen on the window itself
    rules: dict[str, Outcomes]  # secondary: each rule on its own at its matched margin
    rule_waste_reduction: dict[str, float]


class GroupWindow(TypedDict):
    baseline: str
    margin: float
    target_service_level: float
    matched_on: str  # validation | history
    waste_model: float
    waste_baseline: float
    waste_reduction: float
    waste_hindsight: float  # the rule with its margin chosen on this window (secondary)
    service_level_model: float
    service_level_baseline: float


class WindowSummary(TypedDict):
    index: int
    start: str
    end: str
    validation_start: str
    validation_end: str
    calibration: float  # factor on the model's quantile, chosen on the validation period
    waste_reduction: float
    hindsight_waste_reduction: float  # secondary: the rules' margins chosen on the window itself
    service_level_model: float
    service_level_baseline: float
    groups: dict[str, GroupWindow]
    skipped: dict[str, str]  # product -> no_history | no_baseline


class Product(TypedDict):
    name: str
    rows: int
    first: str
    last: str
    total: float


class DataSummary(TypedDict):
    files: dict[str, str]  # input name -> file name
    sha256: dict[str, str]  # input name -> sha256 of its file
    unit: str
    unit_given: bool
    measure: str  # quantity | revenue
    whole_numbers: bool
    input_rows: int
    rows: int  # (date, product) rows after adding up repeated ones
    summed_rows: int
    missing_days: int
    first_date: str
    last_date: str
    days: int
    products: dict[str, Product]
    shipped: bool


class Note(TypedDict):
    kind: str
    name: str
    used: bool
    reason: str
    detail: float | None


class Features(TypedDict):
    used: list[str]
    notes: list[Note]
    holiday_region: str
    holiday_region_name: str
    holidays_in_range: dict[str, str]  # ISO date -> holiday name


class Evaluation(TypedDict):
    holdout_days: int
    holdout_chosen: bool
    holdout_start: str
    holdout_end: str
    windows: int
    window_days: list[int]
    validation_days: int
    training_days: int  # before the first window's validation
    horizon_days: int
    refit_days: int
    rows_compared: int
    rows_without_baseline: int


class Metrics(TypedDict):
    showcase: str
    title: str
    language: str
    parameters: dict[str, object]  # the run's Params, without the output folder
    critical_ratio: float
    data: DataSummary
    features: Features
    evaluation: Evaluation
    headline: dict[str, Headline]  # product (and "overall") -> pooled figures
    windows: list[WindowSummary]
    runtime_seconds: float
