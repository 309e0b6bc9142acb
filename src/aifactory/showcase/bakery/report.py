"""Artifacts: metrics.json, forecast.csv, report.png and a self-contained report.html."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .metrics import Metrics  # noqa: E402

PLAN_LABELS = {
    "model": "model (newsvendor quantile)",
    "last_week": "same weekday last week × margin",
    "mean4": "mean of last 4 same weekdays × margin",
    "model_matched": "model, quantile re-chosen for matched service",
}
CAVEATS = [
    "Demand is measured as revenue in EUR (revenue-equivalent units), not pieces; waste and lost sales are "
    "therefore in EUR of revenue.",
    "Recorded sales are sales, not demand: on sold-out days true demand was higher (censoring). The figures "
    "treat sales as demand, like the baselines do.",
    "The weather of the target day is used as a stand-in for the weather forecast available when planning; "
    "real forecasts are less accurate, so the model's advantage may be slightly smaller in practice.",
    "A missing (day, group) row is treated as closed/unknown and is not scored; it is never taken as zero demand.",
    "Baseline safety margins and the model's quantile are chosen on data before the hold-out year only; "
    "the matched-service variant picks its quantile on the validation year for the service level the best "
    "baseline reached in the hold-out (a target number only; nothing is fitted on the hold-out).",
]


def _clean(obj: object) -> object:
    """The document with NaN and infinities as null (JSON has neither)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def write_metrics(metrics: Metrics, out: Path) -> Path:
    path = out / "metrics.json"
    path.write_text(json.dumps(_clean(metrics), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return path


def write_forecast(rows: pd.DataFrame, names: dict[str, str], out: Path) -> Path:
    cols = ["date", "group", "demand", "plan_model", "plan_model_matched", "plan_last_week", "plan_mean4"]
    table = rows[cols].copy()
    table.insert(2, "group_name", table["group"].map(names))
    table["date"] = table["date"].dt.strftime("%Y-%m-%d")
    path = out / "forecast.csv"
    table.sort_values(["date", "group"]).to_csv(path, index=False, float_format="%.3f")
    return path


def weekly_waste(rows: pd.DataFrame, plans: list[str]) -> pd.DataFrame:
    """Waste per ISO week (Monday start) and group for each plan; group 'overall' sums all groups."""
    frame = rows[["date", "group", "demand"]].copy()
    for plan in plans:
        frame[plan] = (rows[f"plan_{plan}"] - rows["demand"]).clip(lower=0)
    frame["week"] = frame["date"].dt.to_period("W-SUN").dt.start_time
    per_group = frame.groupby(["group", "week"])[plans].sum().reset_index()
    overall = frame.groupby("week")[plans].sum().reset_index().assign(group="overall")
    return pd.concat([per_group, overall], ignore_index=True)


def write_png(rows: pd.DataFrame, names: dict[str, str], out: Path) -> Path:
    plans = ["model", "last_week", "mean4"]
    weekly = weekly_waste(rows, plans)
    keys = [*sorted(rows["group"].unique()), "overall"]
    ncols = 2
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(12, 2.6 * nrows), squeeze=False, sharex=True)
    for ax, key in zip(axes.flat, keys, strict=False):
        part = weekly[weekly["group"] == key]
        for plan, style in zip(plans, ["-", "--", ":"], strict=True):
            ax.plot(part["week"], part[plan], style, label=PLAN_LABELS[plan], linewidth=1.4)
        ax.set_title("all groups" if key == "overall" else f"{key} {names.get(key, key)}", fontsize=10)
        ax.set_ylabel("waste / week (EUR rev.)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Hold-out: weekly waste (revenue-equivalent units) — model vs bakery baselines", fontsize=11)
    fig.tight_layout()
    path = out / "report.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{100 * x:.1f} %"


def less_or_more(x: float | None) -> str:
    """'35.3 % less' / '17.3 % more' for a waste reduction share."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{100 * abs(x):.1f} % {'less' if x >= 0 else 'more'}"


def _table(metrics: Metrics) -> str:
    names = metrics["data"]["group_names"]
    figs, comp = metrics["figures"], metrics["comparison"]
    head = (
        "<tr><th>group</th><th>plan</th><th>waste</th><th>lost sales</th><th>service level</th>"
        "<th>cost</th><th>waste vs best baseline</th></tr>"
    )
    body = []
    for key in comp:  # the groups present in the hold-out, then "overall"
        label = "all groups" if key == "overall" else f"{key} {names.get(key, key)}"
        c = comp[key]
        for plan in ["model", "model_matched", "last_week", "mean4"]:
            f = figs[plan][key]
            note = ""
            if plan == "model":
                flag = "" if c["model_service_level_ge_baseline"] else " (lower service level)"
                note = f"{less_or_more(c['waste_reduction'])}{flag}"
            elif plan == "model_matched":
                flag = "" if c["matched_service_level_ge_baseline"] else " (still lower service level)"
                note = f"{less_or_more(c['matched_waste_reduction'])}{flag}"
            elif plan == c["best_baseline"]:
                note = "best baseline"
            body.append(
                f"<tr><td>{html.escape(label)}</td><td>{html.escape(PLAN_LABELS[plan])}</td>"
                f"<td>{f['waste']:,.0f}</td><td>{f['lost_sales']:,.0f}</td><td>{_pct(f['service_level'])}</td>"
                f"<td>{f['cost']:,.0f}</td><td>{html.escape(note)}</td></tr>"
            )
    return f"<table>{head}{''.join(body)}</table>"


def write_html(metrics: Metrics, png: Path, out: Path) -> Path:
    img = base64.b64encode(png.read_bytes()).decode("ascii")
    p = metrics["parameters"]
    per = metrics["periods"]
    method = (
        f"Plan for each day and product group, made {p['horizon_days']} day(s) ahead: the LightGBM quantile "
        f"forecast at the newsvendor critical ratio cu/(cu+co) = {p['margin']}/({p['margin']}+{p['waste_cost']}) "
        f"= {metrics['critical_ratio']:.2f}, where co = cost of a wasted unit and cu = margin lost on a missed "
        f"sale (per unit of revenue). Features: calendar, public holidays in Schleswig-Holstein (and the days "
        f"before/after), the day's weather, Kieler Woche, and lags/rolling means of sales dated at least "
        f"{p['horizon_days']} day(s) before the target day. Models are refitted every {p['refit_days']} days on "
        f"data before each origin (rolling origin). Baselines: same weekday last week, and the mean of the "
        f"last 4 same weekdays, each times a safety margin chosen per group on the training period to reach "
        f"the service level the model reached on the validation year ({per['validation_start']} to the day "
        f"before the hold-out). Hold-out: {per['holdout_start']} .. {per['holdout_end']}; nothing was tuned on it."
    )
    caveats = "".join(f"<li>{html.escape(c)}</li>" for c in CAVEATS)
    doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Bakery demand forecast: bake less waste</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}}
table{{border-collapse:collapse;font-size:0.85em}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}
td:nth-child(-n+2){{text-align:left}}</style></head><body>
<h1>Forecast demand, bake less waste</h1>
<p>Demand signal: revenue in EUR used as <b>revenue-equivalent units</b>. Data: {metrics["data"]["rows"]} rows,
{metrics["data"]["missing_days"]} missing day(s) (closed/unknown). {metrics["holdout_rows_compared"]} (day, group)
rows compared in the hold-out.</p>
<h2>Method</h2><p>{html.escape(method)}</p>
<h2>Hold-out results</h2>{_table(metrics)}
<p>Waste = max(plan − sales, 0); lost sales = max(sales − plan, 0); service level = share of (day, group) without
a stock-out; cost = co·waste + cu·lost sales.</p>
<img alt="weekly waste, model vs baselines" src="data:image/png;base64,{img}" style="max-width:100%">
<h2>Caveats</h2><ul>{caveats}</ul>
<p>Runtime {metrics["runtime_seconds"]} s. Data sha256: {html.escape(json.dumps(metrics["data"]["sha256"]))}</p>
</body></html>
"""
    path = out / "report.html"
    path.write_text(doc, encoding="utf-8")
    return path


def write_all(metrics: Metrics, rows: pd.DataFrame, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    names = metrics["data"]["group_names"]
    png = write_png(rows, names, out)
    return [write_metrics(metrics, out), write_forecast(rows, names, out), png, write_html(metrics, png, out)]
