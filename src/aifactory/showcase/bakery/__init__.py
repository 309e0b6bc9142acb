"""Bakery showcase: forecast daily demand per product group and bake the newsvendor quantity.

Run it with ``python -m aifactory.showcase.bakery --out DIR`` (see ``__main__`` for the options).
"""

from .data import BakeryDataError, DataConfig
from .pipeline import Params, run_showcase

__all__ = ["BakeryDataError", "DataConfig", "Params", "run_showcase"]
