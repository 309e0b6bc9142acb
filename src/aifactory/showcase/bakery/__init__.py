"""Bakery showcase: forecast daily demand per product and bake the newsvendor quantity, on the shipped Kiel data
or on any bakery's daily sales.

Run it with ``python -m aifactory.showcase.bakery --out DIR`` (see ``__main__`` for the options).
"""

from .data import BakeryDataError, DataConfig
from .pipeline import Params, run_showcase

__all__ = ["BakeryDataError", "DataConfig", "Params", "run_showcase"]
