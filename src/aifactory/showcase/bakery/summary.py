"""From the windows' comparisons to the figures of ``metrics.json``: pooled over the hold-out per product and
overall, per window, and the spread of the waste reduction over the windows."""

from __future__ import annotations

import statistics

from .evaluate import BASELINES, Costs, GroupResult, WindowResult, reduction
from .metrics import GroupWindow, Headline, Spread, WindowSummary
from .model import Outcomes, add_outcomes

OVERALL = "overall"


def spread(values: list[float]) -> Spread:
    finite = [v for v in values if v == v]  # NaN (no waste at all in a window) is left out
    if not finite:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "windows": 0}
    return {"median": statistics.median(finite), "min": min(finite), "max": max(finite), "windows": len(finite)}


def _window_totals(groups: dict[str, GroupResult], costs: Costs) -> tuple[Outcomes, Outcomes]:
    model = add_outcomes([g.model for g in groups.values()], costs.waste_cost, costs.margin)
    rule = add_outcomes([g.rules[g.baseline] for g in groups.values()], costs.waste_cost, costs.margin)
    return model, rule


def window_summary(result: WindowResult, costs: Costs) -> WindowSummary:
    w = result.window
    model, rule = _window_totals(result.groups, costs)
    groups: dict[str, GroupWindow] = {
        g: {
            "baseline": r.baseline,
            "margin": r.margins[r.baseline],
            "target_service_level": r.target,
            "matched_on": r.matched_on,
            "waste_model": r.model["waste"],
            "waste_baseline": r.rules[r.baseline]["waste"],
            "waste_reduction": reduction(r.model["waste"], r.rules[r.baseline]["waste"]),
            "waste_hindsight": r.hindsight["waste"],
            "service_level_model": r.model["service_level"],
            "service_level_baseline": r.rules[r.baseline]["service_level"],
        }
        for g, r in result.groups.items()
    }
    return {
        "index": w.index,
        "start": str(w.start.date()),
        "end": str(w.end.date()),
        "validation_start": str(w.validation_start.date()),
        "validation_end": str(w.validation_end.date()),
        "calibration": result.calibration,
        "waste_reduction": reduction(model["waste"], rule["waste"]),
        "hindsight_waste_reduction": reduction(
            model["waste"], sum(r.hindsight["waste"] for r in result.groups.values())
        ),
        "service_level_model": model["service_level"],
        "service_level_baseline": rule["service_level"],
        "groups": groups,
        "skipped": dict(result.skipped),
    }


def _headline(parts: list[GroupResult], per_window: list[float], baseline: str, costs: Costs) -> Headline:
    def total(pick: list[Outcomes]) -> Outcomes:
        return add_outcomes(pick, costs.waste_cost, costs.margin)

    model = total([p.model for p in parts])
    rule = total([p.rules[p.baseline] for p in parts])
    rules = {r: total([p.rules[r] for p in parts]) for r in BASELINES}
    hindsight = total([p.hindsight for p in parts])
    return {
        "baseline": baseline,
        "model": model,
        "rule": rule,
        "waste_reduction": reduction(model["waste"], rule["waste"]),
        "spread": spread(per_window),
        "cost_reduction": reduction(model["cost"], rule["cost"]),
        "hindsight_waste_reduction": reduction(model["waste"], hindsight["waste"]),
        "rules": rules,
        "rule_waste_reduction": {r: reduction(model["waste"], o["waste"]) for r, o in rules.items()},
    }


def _most_chosen(parts: list[GroupResult]) -> str:
    chosen = [p.baseline for p in parts]
    rules = sorted(set(chosen), key=lambda r: (-chosen.count(r), r))
    return rules[0] if len(rules) == 1 else "per window"


def headlines(results: list[WindowResult], costs: Costs) -> dict[str, Headline]:
    """Per product (in name order) and ``overall``: pooled over the windows, with the spread over windows."""
    out: dict[str, Headline] = {}
    for g in sorted({g for r in results for g in r.groups}):
        parts = [r.groups[g] for r in results if g in r.groups]
        per_window = [reduction(p.model["waste"], p.rules[p.baseline]["waste"]) for p in parts]
        out[g] = _headline(parts, per_window, _most_chosen(parts), costs)
    every = [p for r in results for p in r.groups.values()]
    per_window = []
    for r in results:
        model, rule = _window_totals(r.groups, costs)
        per_window.append(reduction(model["waste"], rule["waste"]))
    out[OVERALL] = _headline(every, per_window, "per product", costs)
    return out
