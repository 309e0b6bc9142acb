"""Newsvendor maths and the LightGBM quantile model.

Newsvendor: with co = cost of a wasted unit (baked, not sold) and cu = margin lost on a missed sale, the
bake quantity that minimises expected cost co*E[max(q-D,0)] + cu*E[max(D-q,0)] is the demand
distribution's quantile at the critical ratio cu / (cu + co).
"""

from __future__ import annotations

from typing import TypedDict

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd


def critical_ratio(waste_cost: float, margin: float) -> float:
    """cu / (cu + co); both costs must be positive."""
    if waste_cost <= 0 or margin <= 0:
        raise ValueError(f"waste_cost and margin must be > 0, got {waste_cost} and {margin}")
    return margin / (margin + waste_cost)


class Outcomes(TypedDict):
    """What a plan did on a set of (day, group) rows (a JSON object in metrics.json)."""

    n: int
    covered: int  # rows where the plan met demand (no stock-out)
    demand: float
    planned: float
    waste: float
    lost_sales: float
    service_level: float
    cost: float
    waste_share_of_demand: float


def newsvendor_quantity(demand_samples: npt.ArrayLike, waste_cost: float, margin: float) -> float:
    """Empirical-distribution newsvendor solution: the smallest q with F(q) >= critical ratio."""
    samples = np.asarray(demand_samples, dtype=float)
    return float(np.quantile(samples, critical_ratio(waste_cost, margin), method="inverted_cdf"))


def plan_outcomes(plan: npt.ArrayLike, demand: npt.ArrayLike, waste_cost: float, margin: float) -> Outcomes:
    """Waste, lost sales, service level (share without stock-out) and total cost of a plan."""
    plan = np.asarray(plan, dtype=float)
    demand = np.asarray(demand, dtype=float)
    waste = np.maximum(plan - demand, 0.0)
    lost = np.maximum(demand - plan, 0.0)
    n = int(demand.size)
    return {
        "n": n,
        "covered": int(np.sum(plan >= demand)),
        "demand": float(demand.sum()),
        "planned": float(plan.sum()),
        "waste": float(waste.sum()),
        "lost_sales": float(lost.sum()),
        "service_level": float(np.mean(plan >= demand)) if n else float("nan"),
        "cost": float(waste_cost * waste.sum() + margin * lost.sum()),
        "waste_share_of_demand": float(waste.sum() / demand.sum()) if demand.sum() > 0 else float("nan"),
    }


def add_outcomes(parts: list[Outcomes], waste_cost: float, margin: float) -> Outcomes:
    """The outcomes of several row sets taken together (service level and shares recomputed)."""
    n = sum(p["n"] for p in parts)
    covered = sum(p["covered"] for p in parts)
    demand = sum(p["demand"] for p in parts)
    waste = sum(p["waste"] for p in parts)
    lost = sum(p["lost_sales"] for p in parts)
    return {
        "n": n,
        "covered": covered,
        "demand": demand,
        "planned": sum(p["planned"] for p in parts),
        "waste": waste,
        "lost_sales": lost,
        "service_level": covered / n if n else float("nan"),
        "cost": waste_cost * waste + margin * lost,
        "waste_share_of_demand": waste / demand if demand > 0 else float("nan"),
    }


class LgbmParams(TypedDict):
    """The keyword arguments of ``lgb.LGBMRegressor`` the showcase sets."""

    objective: str
    alpha: float
    n_estimators: int
    learning_rate: float
    num_leaves: int
    min_child_samples: int
    subsample: float
    subsample_freq: int
    colsample_bytree: float
    deterministic: bool
    force_row_wise: bool
    num_threads: int
    random_state: int
    verbose: int


def lgbm_params(alpha: float, seed: int, rounds: int = 300) -> LgbmParams:
    return {
        "objective": "quantile",
        "alpha": alpha,
        "n_estimators": rounds,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_child_samples": 20,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "random_state": seed,
        "verbose": -1,
    }


class QuantileModel:
    """One LightGBM quantile model for all groups (group as a categorical feature).

    The target is demand relative to the group's recent level (``roll28``, known at planning time): the
    quantile of demand/level times the level is the quantile of demand, and the ratio is comparable across
    groups of very different size.
    """

    def __init__(self, alpha: float, features: list[str], seed: int = 0, rounds: int = 300, relative: bool = True):
        self.alpha = alpha
        self.relative = relative
        self._group_median: dict[str, float] = {}
        self.seed = seed
        self.rounds = rounds
        self.features = list(features)
        self._model: lgb.LGBMRegressor | None = None

    def _level(self, frame: pd.DataFrame) -> np.ndarray:
        """Recent level (roll28); where unknown (season start, long gap) the group's training median."""
        level = frame["roll28"].to_numpy(dtype=float)
        fallback = frame["group"].map(self._group_median).to_numpy(dtype=float)
        level = np.where(np.isfinite(level) & (level > 0), level, fallback)
        return np.where(np.isfinite(level) & (level > 0), level, 1.0)

    def fit(self, train: pd.DataFrame) -> QuantileModel:
        if train.empty:
            raise ValueError("no training rows")
        medians = train.groupby("group")["demand"].median()
        self._group_median = {str(g): float(v) for g, v in medians.items()}
        level = self._level(train) if self.relative else np.ones(len(train))
        x = train[self.features].to_numpy(dtype=float)
        y = train["demand"].to_numpy(dtype=float) / level
        self._model = lgb.LGBMRegressor(**lgbm_params(self.alpha, self.seed, self.rounds))
        categorical = [self.features.index("group_code")] if "group_code" in self.features else []
        self._model.fit(x, y, categorical_feature=categorical or "auto")
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self._model is None:
            raise RuntimeError("model is not fitted")
        level = self._level(frame) if self.relative else np.ones(len(frame))
        ratio = self._model.predict(frame[self.features].to_numpy(dtype=float))
        return np.maximum(ratio * level, 0.0)
