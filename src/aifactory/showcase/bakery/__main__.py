"""``python -m aifactory.showcase.bakery``: run the showcase and write its report.

Every option can also come from an environment variable ``AIF_PARAM_<name>`` (e.g. ``AIF_PARAM_horizon_days``;
the upper-case spelling works too); a command-line option wins over the environment. The files (sales, weather,
events) may also arrive as staged job inputs ``AIF_INPUT_SALES``, ``AIF_INPUT_WEATHER``, ``AIF_INPUT_EVENTS``
(paths), which win over ``AIF_PARAM_<name>``. Without a sales file the shipped Kiel bakery data is used.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

from ..params import Option, parse_options
from .pipeline import Params, run_showcase
from .report import write_all
from .texts import change, pct

_KINDS: dict[str, type] = {"int": int, "float": float, "bool": bool}  # Params' annotations (strings); the rest text
INPUTS = ("sales", "weather", "events")

HELP = {
    "sales": "daily sales table (CSV or Parquet): date, product and quantity or revenue; default: the shipped "
    "Kiel bakery data",
    "weather": "daily weather table (a date column, then numeric columns, each used as a feature); optional",
    "events": "event table (a date column, then numeric columns such as 1 on event days); optional",
    "date_col": "date column of the sales table (and of the weather/event tables where they have it)",
    "product_col": "product column of the sales table",
    "value_col": "quantity or revenue column of the sales table",
    "count_rows": "each row is one item sold: count rows per day and product (value_col is not used)",
    "unit": "unit of the values: pieces, kg, EUR, ... (a currency makes them revenue)",
    "date_format": "layout of the dates, e.g. %d/%m/%Y; empty: ISO 8601 or 31.03.2024, detected",
    "duplicates": "rows sharing a date and product: sum (add up) or refuse",
    "holidays": "holiday region, ISO 3166-2 (DE-SH) or a country (DE); none for no holidays",
    "language": "report language: en or de",
    "horizon_days": "plan this many days ahead (sales features use data at least this old)",
    "waste_cost": "co: cost of one wasted unit",
    "margin": "cu: margin lost on one missed sale",
    "holdout_days": "days held out at the end for the evaluation; 0: chosen from the data",
    "windows": "rolling-origin windows the hold-out is split into; 0: chosen from the data",
    "refit_days": "refit the model every this many days in the backtest",
    "boosting_rounds": "boosting rounds of each LightGBM model",
    "seed": "random seed",
    "groups": "comma-separated subset of products (default: all)",
    "out": "output folder",
}


def parse_args(argv: list[str] | None = None) -> Params:
    defaults = Params()
    options = [
        Option(f.name, _KINDS.get(str(f.type), str), getattr(defaults, f.name), HELP[f.name], f.name in INPUTS)
        for f in fields(Params)
    ]
    return Params(**parse_options("python -m aifactory.showcase.bakery", __doc__, options, argv))


def main(argv: list[str] | None = None) -> int:
    params = parse_args(argv)
    try:
        metrics, rows = run_showcase(params, log=lambda line: print(line, flush=True))
        paths = write_all(metrics, rows, Path(params.out))
    except ValueError as exc:  # BakeryDataError, DesignError, RegionError and bad parameters
        print(f"error: {exc}", file=sys.stderr)
        return 2
    o = metrics["headline"]["overall"]
    s, unit, lang = o["spread"], metrics["data"]["unit"], "en"
    print(metrics["title"], flush=True)
    print(
        f"overall hold-out ({metrics['evaluation']['holdout_days']} days, {s['windows']} windows): waste "
        f"{o['model']['waste']:,.0f} vs {o['rule']['waste']:,.0f} {unit} (best rule, matched service level): "
        f"{change(lang, o['waste_reduction'])}; over windows {change(lang, s['max'])} .. {change(lang, s['min'])} "
        f"(median {change(lang, s['median'])}); service level {pct(lang, o['model']['service_level'])} vs "
        f"{pct(lang, o['rule']['service_level'])}",
        flush=True,
    )
    print("wrote " + ", ".join(str(p) for p in paths), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
