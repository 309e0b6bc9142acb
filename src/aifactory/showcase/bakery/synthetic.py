"""A synthetic bakery with known demand, to check that the evaluation recovers the known optimum.

Daily pieces per product are Poisson with a known mean: the product's level × a weekly pattern × a yearly
swing × a rush the day before a public holiday; the shop is closed on Sundays and public holidays (no rows).
With the demand distribution known, the newsvendor optimum is computable exactly: bake the smallest whole
number q with P(D <= q) >= cu/(cu+co); its expected waste E[(q-D)+], lost sales E[(D-q)+] and service
level P(D <= q) follow (:func:`poisson_optimum`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from .region import holiday_names, parse_region

PRODUCTS = (("Brötchen", 220.0), ("Roggenbrot", 40.0), ("Croissant", 60.0), ("Kuchen", 15.0))
WEEKLY = (0.9, 0.85, 0.9, 0.95, 1.15, 1.45)  # Monday .. Saturday; closed on Sunday
HOLIDAY_EVE = 1.35
YEARLY_SWING = 0.1


@dataclass(frozen=True)
class SyntheticBakery:
    sales: pd.DataFrame  # what a bakery would upload: date, product, pieces
    truth: pd.DataFrame  # date, product, mean: the expected demand of each row


def generate(
    days: int,
    start: str = "2023-01-02",
    seed: int = 0,
    region: str = "DE-SH",
    products: tuple[tuple[str, float], ...] = PRODUCTS,
) -> SyntheticBakery:
    """``days`` calendar days of sales from ``start`` (closed days have no rows)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    holidays = set(holiday_names(parse_region(region), dates, "en"))
    is_holiday = np.array([d in holidays for d in dates])
    eve = np.array([(d + pd.Timedelta(days=1)) in holidays for d in dates])
    open_days = (dates.day_of_week < 6) & ~is_holiday
    weekly = np.array([WEEKLY[min(d, 5)] for d in dates.day_of_week])
    season = 1.0 + YEARLY_SWING * np.sin(2 * np.pi * dates.day_of_year.to_numpy() / 365.25)
    factor = weekly * season * np.where(eve, HOLIDAY_EVE, 1.0)
    sales, truth = [], []
    for name, level in products:
        mean = (level * factor)[open_days]
        day = dates[open_days]
        sales.append(pd.DataFrame({"date": day.strftime("%Y-%m-%d"), "product": name, "pieces": rng.poisson(mean)}))
        truth.append(pd.DataFrame({"date": day, "product": name, "mean": mean}))
    return SyntheticBakery(pd.concat(sales, ignore_index=True), pd.concat(truth, ignore_index=True))


@dataclass(frozen=True)
class Optimum:
    """Per row: the optimal plan and its expected waste, lost sales and service level."""

    plan: npt.NDArray[np.float64]
    waste: npt.NDArray[np.float64]
    lost: npt.NDArray[np.float64]
    service_level: npt.NDArray[np.float64]


def poisson_optimum(mean: npt.ArrayLike, ratio: float) -> Optimum:
    """The newsvendor optimum for Poisson demand with the given means at critical ratio ``ratio``."""
    mu = np.asarray(mean, dtype=float)
    top = int(mu.max() + 12 * np.sqrt(mu.max()) + 20)
    k = np.arange(top + 1, dtype=float)
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, top + 1)))])
    with np.errstate(divide="ignore"):
        pmf = np.exp(-mu[:, None] + k[None, :] * np.log(mu)[:, None] - log_fact[None, :])
    cdf = np.cumsum(pmf, axis=1)
    q = np.argmax(cdf >= ratio, axis=1)
    below = k[None, :] <= q[:, None]
    waste = np.sum(np.where(below, (q[:, None] - k[None, :]) * pmf, 0.0), axis=1)
    lost = mu - q + waste
    return Optimum(q.astype(float), waste, lost, cdf[np.arange(len(mu)), q])
