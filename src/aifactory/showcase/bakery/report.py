"""Artifacts: metrics.json, forecast.csv, report.png and a self-contained report.html (English or German).

The report describes the data it was given (file, unit, dates, products once each), the features the model
actually used and why others were not, the hold-out and validation periods, the headline at matched service
level with its spread over the windows, secondary comparisons labelled as such, and the caveats that apply.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

import pandas as pd

from .chart import write_png
from .evaluate import BASELINES
from .metrics import Headline, Metrics
from .texts import change, name_of, num, pct, t

SL_GAP = 0.02  # hold-out service levels further apart than this get a sentence


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
    plans = ["plan_model", "plan_baseline", *[f"plan_{r}" for r in BASELINES]]
    table = rows[["window", "date", "group", "demand", *plans]].copy()
    table.insert(3, "product", table["group"].map(names))
    table["date"] = table["date"].dt.strftime("%Y-%m-%d")
    path = out / "forecast.csv"
    table.sort_values(["date", "group"]).to_csv(path, index=False, float_format="%.3f")
    return path


def _e(text: object) -> str:
    return html.escape(str(text))


def _p(text: str) -> str:
    return f"<p>{_e(text)}</p>"


def _rule(lang: str, rule: str) -> str:
    special = {"per product": "per_product", "per window": "per_window"}
    return t(lang, special.get(rule, f"rule_{rule}"))


def _data(m: Metrics, lang: str) -> str:
    d = m["data"]
    names = [p["name"] for p in d["products"].values()]
    unit_text = t(lang, f"data_{d['measure']}", unit=d["unit"]) + ("" if d["unit_given"] else t(lang, "data_no_unit"))
    parts = [
        t(lang, "data_file", file=d["files"]["sales"], rows=num(lang, d["input_rows"]), sha=d["sha256"]["sales"][:12]),
        t(lang, "data_shipped") if d["shipped"] else "",
        t(
            lang,
            "data_range",
            first=d["first_date"],
            last=d["last_date"],
            days=num(lang, d["days"]),
            missing=num(lang, d["missing_days"]),
        ),
        t(lang, "data_products", n=len(names), names=", ".join(names)),
        unit_text,
        t(lang, "data_counted") if m["parameters"]["count_rows"] else "",
        t(lang, "data_summed", n=num(lang, d["summed_rows"]))
        if d["summed_rows"] and not m["parameters"]["count_rows"]
        else "",
    ]
    for what in ("weather", "events"):
        cols = [n["name"].split(":", 1)[1] for n in m["features"]["notes"] if n["kind"] == what]
        file = d["files"].get(what)
        line = t(lang, "data_table", what=t(lang, what), file=file, cols=", ".join(cols)) if file else ""
        parts.append(line or t(lang, "data_no_table", what=t(lang, what)))
    return "".join(_p(x) for x in parts if x)


def _feature_label(lang: str, kind: str, names: list[str], m: Metrics, used: bool = True) -> str:
    joined = ", ".join(name_of(lang, n) for n in names)
    f = m["features"]
    if kind == "holidays":
        return t(lang, "f_holidays", region=f["holiday_region"] or "-", name=joined)
    if kind == "history":
        return t(lang, "f_history", h=m["evaluation"]["horizon_days"], name=joined)
    if kind in ("weather", "events"):
        key = "f_weather_unused" if kind == "weather" and not used else f"f_{kind}"
        return t(lang, key, name=", ".join(n.split(":", 1)[1] for n in names))
    return t(lang, f"f_{kind}", name=joined)


def _reason(lang: str, reason: str, detail: float | None, region: str) -> str:
    if reason == "coverage":
        return t(lang, "r_coverage", pct=pct(lang, detail, 0))
    if reason == "short_history":
        return t(lang, "r_short_history", detail=detail or 0.0)
    return t(lang, f"r_{reason}", region=region)


def _features(m: Metrics, lang: str) -> str:
    f = m["features"]
    used: dict[str, list[str]] = {}
    unused: dict[tuple[str, str], list[str]] = {}
    for n in f["notes"]:
        if n["used"]:
            used.setdefault(n["kind"], []).append(n["name"])
        else:
            key = (n["kind"], _reason(lang, n["reason"], n["detail"], f["holiday_region"]))
            unused.setdefault(key, []).append(n["name"])
    items = "".join(f"<li>{_e(_feature_label(lang, k, v, m))}</li>" for k, v in used.items())
    rest = "".join(f"<li>{_e(_feature_label(lang, k, v, m, False))}: {_e(why)}</li>" for (k, why), v in unused.items())
    held = f["holidays_in_range"]
    seen = (
        _p(t(lang, "holidays_seen", n=len(held), region=f"{f['holiday_region']} ({f['holiday_region_name']})"))
        if held
        else ""
    )
    out = f"<p>{_e(t(lang, 'features_used'))}</p><ul>{items}</ul>{seen}"
    return out + (f"<p>{_e(t(lang, 'features_unused'))}</p><ul>{rest}</ul>" if rest else "")


def _as_float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


def _method(m: Metrics, lang: str) -> str:
    p, ev = m["parameters"], m["evaluation"]
    span = m["data"]["days"]
    when = {"days": ev["holdout_days"], "start": ev["holdout_start"], "end": ev["holdout_end"], "span": num(lang, span)}
    sizes = sorted(set(ev["window_days"]))
    return "".join(
        _p(x)
        for x in [
            t(
                lang,
                "method_plan",
                h=ev["horizon_days"],
                cu=num(lang, _as_float(p["margin"]), 2),
                co=num(lang, _as_float(p["waste_cost"]), 2),
                ratio=num(lang, m["critical_ratio"], 2),
                ratio_pct=pct(lang, m["critical_ratio"], 0),
                factors=", ".join(num(lang, w["calibration"], 2) for w in m["windows"]),
            ),
            t(lang, "method_auto", train=num(lang, ev["training_days"]), **when)
            if ev["holdout_chosen"]
            else t(lang, "method_given", **when),
            t(
                lang,
                "method_windows",
                k=ev["windows"],
                sizes="/".join(map(str, sizes)),
                refit=ev["refit_days"],
                val=ev["validation_days"],
                train=num(lang, ev["training_days"]),
            ),
            t(lang, "method_matched", rules="; ".join(t(lang, f"rule_{r}") for r in BASELINES)),
            t(lang, "method_terms"),
        ]
    )


def _label(m: Metrics, lang: str, key: str) -> str:
    return t(lang, "all_products") if key == "overall" else m["data"]["products"][key]["name"]


def _headline_table(m: Metrics, lang: str) -> str:
    cols = [
        "col_product",
        "col_rule",
        "col_waste_model",
        "col_waste_rule",
        "col_change",
        "col_median",
        "col_range",
        "col_sl",
    ]
    head = "".join(f"<th>{_e(t(lang, c))}</th>" for c in cols)
    body = []
    for key, h in m["headline"].items():
        s = h["spread"]
        cells = [
            _label(m, lang, key),
            _rule(lang, h["baseline"]),
            num(lang, h["model"]["waste"]),
            num(lang, h["rule"]["waste"]),
            change(lang, h["waste_reduction"]),
            change(lang, s["median"]),
            f"{change(lang, s['min'])} … {change(lang, s['max'])}",
            f"{pct(lang, h['model']['service_level'])} / {pct(lang, h['rule']['service_level'])}",
        ]
        tag = "th" if key == "overall" else "td"
        body.append("<tr>" + "".join(f"<{tag}>{_e(c)}</{tag}>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _result(m: Metrics, lang: str) -> str:
    o: Headline = m["headline"]["overall"]
    s = o["spread"]
    text = t(
        lang,
        "result_sentence",
        change=change(lang, o["waste_reduction"]),
        wm=num(lang, o["model"]["waste"]),
        wr=num(lang, o["rule"]["waste"]),
        unit=m["data"]["unit"],
        slm=pct(lang, o["model"]["service_level"]),
        slr=pct(lang, o["rule"]["service_level"]),
        k=s["windows"],
        low=change(lang, s["max"]),
        high=change(lang, s["min"]),
        median=change(lang, s["median"]),
    )
    gap = abs(o["model"]["service_level"] - o["rule"]["service_level"])
    extra = _p(t(lang, "result_gap", gap=num(lang, 100 * gap, 1))) if gap > SL_GAP else ""
    return _p(text) + extra + _headline_table(m, lang)


def _windows(m: Metrics, lang: str) -> str:
    cols = ["col_window", "col_dates", "col_validation", "col_change", "col_sl", "col_hindsight"]
    head = "".join(f"<th>{_e(t(lang, c))}</th>" for c in cols)
    body, notes = [], []
    for w in m["windows"]:
        cells = [
            str(w["index"]),
            f"{w['start']} … {w['end']}",
            f"{w['validation_start']} … {w['validation_end']}",
            change(lang, w["waste_reduction"]),
            f"{pct(lang, w['service_level_model'])} / {pct(lang, w['service_level_baseline'])}",
            change(lang, w["hindsight_waste_reduction"]),
        ]
        body.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
        if w["skipped"]:
            items = ", ".join(
                t(lang, f"skip_{why}", name=m["data"]["products"][g]["name"]) for g, why in w["skipped"].items()
            )
            notes.append(_p(t(lang, "skipped", k=w["index"], items=items)))
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{''.join(notes)}"


def _secondary(m: Metrics, lang: str) -> str:
    rules = [f"{t(lang, 'col_change')}: {t(lang, f'rule_{r}')}" for r in BASELINES]
    head = "".join(
        f"<th>{_e(c)}</th>" for c in [t(lang, "col_product"), t(lang, "col_cost"), *rules, t(lang, "col_hindsight")]
    )
    body = []
    for key, h in m["headline"].items():
        cells = [
            _label(m, lang, key),
            change(lang, h["cost_reduction"]),
            *[change(lang, h["rule_waste_reduction"][r]) for r in BASELINES],
            change(lang, h["hindsight_waste_reduction"]),
        ]
        body.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return _p(t(lang, "secondary_note")) + f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _caveats(m: Metrics, lang: str) -> str:
    keys = ["c_censoring"]
    if any(n["used"] and n["kind"] == "weather" for n in m["features"]["notes"]):
        keys.append("c_weather")
    if m["data"]["measure"] == "revenue":
        keys.append("c_revenue")
    keys += ["c_missing", "c_windows"]
    return "<ul>" + "".join(f"<li>{_e(t(lang, k))}</li>" for k in keys) + "</ul>"


STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;
text-align:right}td:first-child,th:first-child{text-align:left}"""


def write_html(metrics: Metrics, png: Path, out: Path) -> Path:
    lang = metrics["language"]
    img = base64.b64encode(png.read_bytes()).decode("ascii")
    files = ", ".join(f"{k} {v[:12]}…" for k, v in metrics["data"]["sha256"].items())
    sections = [
        ("h_result", _result(metrics, lang)),
        ("h_data", _data(metrics, lang)),
        ("h_features", _features(metrics, lang)),
        ("h_method", _method(metrics, lang)),
        ("h_windows", _windows(metrics, lang)),
        ("h_secondary", _secondary(metrics, lang)),
        ("h_caveats", _caveats(metrics, lang)),
    ]
    body = "".join(f"<h2>{_e(t(lang, key))}</h2>{content}" for key, content in sections)
    doc = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{_e(metrics["title"])}</title>'
        f"<style>{STYLE}</style></head><body><h1>{_e(metrics['title'])}</h1>{body}"
        f'<img alt="{_e(t(lang, "chart_title"))}" src="data:image/png;base64,{img}" style="max-width:100%">'
        f"{_p(t(lang, 'footer', seconds=num(lang, metrics['runtime_seconds'], 1), files=files))}</body></html>\n"
    )
    path = out / "report.html"
    path.write_text(doc, encoding="utf-8")
    return path


def write_all(metrics: Metrics, rows: pd.DataFrame, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    names = {g: p["name"] for g, p in metrics["data"]["products"].items()}
    starts = [w["start"] for w in metrics["windows"]]
    png = write_png(rows, names, metrics["data"]["unit"], metrics["language"], starts, out)
    return [write_metrics(metrics, out), write_forecast(rows, names, out), png, write_html(metrics, png, out)]
