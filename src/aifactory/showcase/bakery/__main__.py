"""``python -m aifactory.showcase.bakery``: run the showcase and write its report.

Every option can also come from an environment variable ``AIF_PARAM_<name>`` (e.g. ``AIF_PARAM_horizon_days``;
the upper-case spelling works too); a command-line option wins over the environment.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

from ..params import Option, parse_options
from .data import BakeryDataError
from .pipeline import Params, run_showcase
from .report import less_or_more, write_all

_KINDS: dict[str, type] = {"int": int, "float": float}  # Params' annotations (strings); the rest are text

HELP = {
    "sales": "daily sales table (CSV or Parquet); default: the shipped Kiel bakery data",
    "weather": "daily weather (Datum, Temperatur, Bewoelkung, Windgeschwindigkeit); optional",
    "events": "event calendar (Datum, KielerWoche); optional",
    "date_col": "date column of the sales table",
    "product_col": "product (group) column",
    "value_col": "quantity or revenue column (the demand signal)",
    "horizon_days": "plan this many days ahead (lags use data at least this old)",
    "waste_cost": "co: cost of one wasted unit",
    "margin": "cu: margin lost on one missed sale",
    "holdout_days": "length of the held-out final period",
    "seed": "random seed",
    "refit_days": "refit the model every this many days in the backtests",
    "groups": "comma-separated subset of product groups (default: all)",
    "out": "output folder",
}


def parse_args(argv: list[str] | None = None) -> Params:
    defaults = Params()
    options = [
        Option(f.name, _KINDS.get(str(f.type), str), getattr(defaults, f.name), HELP[f.name]) for f in fields(Params)
    ]
    return Params(**parse_options("python -m aifactory.showcase.bakery", __doc__, options, argv))


def main(argv: list[str] | None = None) -> int:
    params = parse_args(argv)
    try:
        metrics, rows = run_showcase(params, log=lambda line: print(line, flush=True))
        paths = write_all(metrics, rows, Path(params.out))
    except (BakeryDataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    overall = metrics["comparison"]["overall"]
    model = metrics["figures"]["model"]["overall"]
    best = metrics["figures"][overall["best_baseline"]]["overall"]
    print(
        f"overall hold-out: waste {model['waste']:,.0f} vs {best['waste']:,.0f} ({overall['best_baseline']}), "
        f"{less_or_more(overall['waste_reduction'])}; service level {100 * model['service_level']:.1f} % vs "
        f"{100 * best['service_level']:.1f} % (revenue-equivalent units)",
        flush=True,
    )
    print("wrote " + ", ".join(str(p) for p in paths), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
