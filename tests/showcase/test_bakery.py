"""The bakery showcase: data validation, leakage, newsvendor maths, determinism, end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from aifactory.showcase.bakery.__main__ import main, parse_args
from aifactory.showcase.bakery.data import (
    BakeryDataError,
    DataConfig,
    load_inputs,
    validate_events,
    validate_sales,
    validate_weather,
)
from aifactory.showcase.bakery.evaluate import choose_margin, fold_origins, service_level
from aifactory.showcase.bakery.features import build_features, demand_lag_names, exogenous, feature_names
from aifactory.showcase.bakery.model import QuantileModel, critical_ratio, newsvendor_quantity, plan_outcomes
from aifactory.showcase.bakery.pipeline import Params, run_showcase

SHORT = {"groups": "1,2", "holdout_days": 60, "refit_days": 30}


def _sales(rows):
    return pd.DataFrame(rows, columns=["Datum", "Warengruppe", "Umsatz"])


@pytest.fixture(scope="module")
def kiel():
    return load_inputs()


# --- data validation -------------------------------------------------------------------------------------


def test_valid_sales_are_canonical_and_gaps_are_counted_not_fatal():
    df = _sales([["2024-01-01", 1, 10.0], ["2024-01-02", 1, 12.0], ["2024-01-05", 1, 9.0], ["2024-01-01", 2, 3]])
    out, missing = validate_sales(df)
    assert list(out.columns) == ["date", "group", "demand"]
    assert missing == 2  # 3 and 4 January: closed/unknown, not zero demand
    assert set(out["group"]) == {"1", "2"}
    assert 0.0 not in set(out["demand"])  # no zero rows invented for the gap


def test_missing_column_is_named():
    with pytest.raises(BakeryDataError, match=r"missing column\(s\) 'Umsatz'"):
        validate_sales(pd.DataFrame({"Datum": ["2024-01-01"], "Warengruppe": [1]}))


def test_unparseable_date_names_column_and_row():
    df = _sales([["2024-01-01", 1, 1.0], ["not a date", 1, 2.0]])
    with pytest.raises(BakeryDataError, match=r"'Datum' row 2: unparseable date 'not a date'"):
        validate_sales(df)


def test_negative_value_names_column_and_row():
    df = _sales([["2024-01-01", 1, 1.0], ["2024-01-02", 1, -5.0]])
    with pytest.raises(BakeryDataError, match=r"'Umsatz' row 2: negative value -5.0"):
        validate_sales(df)


def test_non_numeric_value_is_refused():
    with pytest.raises(BakeryDataError, match=r"'Umsatz' row 1: not a number: 'lots'"):
        validate_sales(_sales([["2024-01-01", 1, "lots"]]))


def test_duplicated_date_product_row_is_refused():
    df = _sales([["2024-01-01", 1, 1.0], ["2024-01-02", 1, 2.0], ["2024-01-01", 1, 3.0]])
    with pytest.raises(BakeryDataError, match=r"duplicated \(date, product\) row 3: \(2024-01-01, 1\)"):
        validate_sales(df)


def test_weather_and_events_are_validated():
    with pytest.raises(BakeryDataError, match=r"weather: missing column\(s\) 'Windgeschwindigkeit'"):
        validate_weather(pd.DataFrame({"Datum": ["2024-01-01"], "Temperatur": [1], "Bewoelkung": [2]}))
    with pytest.raises(BakeryDataError, match=r"events: duplicated date in row 2"):
        validate_events(pd.DataFrame({"Datum": ["2024-06-20", "2024-06-20"], "KielerWoche": [1, 1]}))
    w = validate_weather(
        pd.DataFrame({"Datum": ["2024-01-01"], "Temperatur": [None], "Bewoelkung": [2], "Windgeschwindigkeit": [3]})
    )
    assert np.isnan(w.loc["2024-01-01", "Temperatur"])  # missing weather is allowed


def test_custom_columns_and_parquet(tmp_path):
    df = pd.DataFrame({"day": ["2024-01-01", "2024-01-02"], "sku": ["rye", "rye"], "qty": [5, 7]})
    path = tmp_path / "sales.parquet"
    df.to_parquet(path)
    inputs = load_inputs(sales=path, cfg=DataConfig(date_col="day", product_col="sku", value_col="qty"))
    assert inputs.sales["demand"].tolist() == [5.0, 7.0]
    assert inputs.weather is None and inputs.events is None  # no Kiel defaults mixed into a user's data
    with pytest.raises(BakeryDataError, match=r"missing column\(s\) 'Datum', 'Warengruppe', 'Umsatz'"):
        load_inputs(sales=path)


def test_shipped_kiel_data_is_intact(kiel):
    assert kiel.sha256["sales"] == "099a2e609d3ef7286a465f34cb0e62ffb572ca4b454b22aa887c42ad3952dd62"
    assert len(kiel.sales) == 9334 and kiel.missing_days == 38
    assert kiel.group_names["2"] == "Brötchen"


# --- features: no leakage ----------------------------------------------------------------------------------


@pytest.mark.parametrize("horizon", [1, 3, 7])
def test_features_for_day_d_ignore_everything_after_d_minus_horizon(kiel, horizon):
    sales = kiel.sales[kiel.sales["group"].isin(["1", "2"])]
    sales = sales[sales["date"] < "2015-01-01"].reset_index(drop=True)
    d = pd.Timestamp("2014-10-15")
    cutoff = d - pd.Timedelta(days=horizon)
    future = sales.copy()
    future.loc[future["date"] > cutoff, "demand"] *= 7.0  # perturb d-horizon+1 .. end
    before = build_features(sales, horizon, kiel.weather, kiel.events)
    after = build_features(future, horizon, kiel.weather, kiel.events)
    cols = feature_names(horizon)
    rows_b = before[before["date"] <= d].set_index(["date", "group"])[cols]
    rows_a = after[after["date"] <= d].set_index(["date", "group"])[cols]
    pd.testing.assert_frame_equal(rows_b, rows_a)
    # ... while perturbing day d - horizon itself does change day d's lag features (the test has teeth)
    touched = sales.copy()
    touched.loc[touched["date"] == cutoff, "demand"] *= 7.0
    moved = build_features(touched, horizon, kiel.weather, kiel.events)
    lags = demand_lag_names(horizon)
    day_b = before[before["date"] == d][lags].to_numpy()
    day_m = moved[moved["date"] == d][lags].to_numpy()
    assert not np.allclose(day_b, day_m, equal_nan=True)


def test_calendar_holiday_and_event_features(kiel):
    exo = exogenous(pd.date_range("2017-05-01", "2017-12-31"), kiel.weather, kiel.events)
    assert exo.loc["2017-10-31", "holiday"] == 1.0  # one-off Reformation Day 2017 (the shop was closed)
    assert exo.loc["2017-10-30", "holiday_tomorrow"] == 1.0 and exo.loc["2017-11-01", "holiday_yesterday"] == 1.0
    assert exo.loc["2017-11-01", "holiday"] == 0.0  # not a holiday in Schleswig-Holstein
    assert exo.loc["2017-07-01", "temperature"] == kiel.weather.loc["2017-07-01", "Temperatur"]
    frame = build_features(kiel.sales, 1, kiel.weather, kiel.events)
    g1 = frame[frame["group"] == "1"].set_index("date")
    assert pd.Timestamp("2017-10-31") not in g1.index  # a closed day is not a zero-demand row
    assert g1.loc["2017-06-20", "kieler_woche"] == 1.0 and g1.loc["2017-05-20", "kieler_woche"] == 0.0
    assert g1.loc["2017-10-30", "weekday"] == 0


# --- newsvendor maths and the quantile model ---------------------------------------------------------------


def test_critical_ratio_and_newsvendor_quantity_minimise_expected_cost():
    assert critical_ratio(0.4, 0.6) == pytest.approx(0.6)
    rng = np.random.default_rng(0)
    demand = rng.lognormal(mean=4.0, sigma=0.4, size=20_000)
    q = newsvendor_quantity(demand, waste_cost=0.4, margin=0.6)
    assert np.mean(demand <= q) == pytest.approx(0.6, abs=0.001)
    cost = lambda x: plan_outcomes(np.full_like(demand, x), demand, 0.4, 0.6)["cost"]  # noqa: E731
    for delta in (-5.0, -1.0, 1.0, 5.0):
        assert cost(q) <= cost(q + delta)
    # a higher waste cost means baking less
    assert newsvendor_quantity(demand, waste_cost=0.8, margin=0.2) < q


def test_plan_outcomes_figures():
    out = plan_outcomes(np.array([10.0, 10.0, 10.0]), np.array([8.0, 10.0, 13.0]), 0.4, 0.6)
    assert out["waste"] == 2.0 and out["lost_sales"] == 3.0
    assert out["service_level"] == pytest.approx(2 / 3)
    assert out["cost"] == pytest.approx(0.4 * 2 + 0.6 * 3)


def test_quantile_model_reaches_its_quantile_on_synthetic_data():
    rng = np.random.default_rng(1)
    days = pd.date_range("2020-01-01", periods=900, freq="D")
    level = 100 + 30 * (days.day_of_week >= 5)
    demand = level * rng.gamma(20, 1 / 20, size=len(days))
    sales = pd.DataFrame({"date": days, "group": "1", "demand": demand})
    frame = build_features(sales, 1)
    train, test = frame[frame["date"] < "2022-01-01"], frame[frame["date"] >= "2022-01-01"]
    covered = {}
    for alpha in (0.6, 0.8):
        pred = QuantileModel(alpha, 1, seed=0).fit(train).predict(test)
        covered[alpha] = service_level(pred, test["demand"])
    # out of sample a gradient-boosted quantile under-covers somewhat (it fits noise in the lag features):
    # measured 0.55 and 0.65 here; the showcase reports its real service levels and re-chooses the
    # quantile on the validation period where needed
    assert 0.5 <= covered[0.6] <= 0.7 and 0.6 <= covered[0.8] <= 0.9
    assert covered[0.8] > covered[0.6] + 0.05


def test_choose_margin_is_the_smallest_reaching_the_target():
    base = np.full(100, 100.0)
    demand = np.linspace(91, 120, 100)
    m = choose_margin(base, demand, 0.5)
    assert service_level(m * base, demand) >= 0.5
    assert service_level((m - 0.01) * base, demand) < 0.5


def test_fold_origins_fold_a_short_tail_into_the_previous_fold():
    origins = fold_origins(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-30"), 28)
    assert len(origins) == 13 and origins[-1] == pd.Timestamp("2024-12-02")


# --- CLI, determinism, end to end ----------------------------------------------------------------------------


def test_parameters_come_from_env_and_options_win(monkeypatch):
    monkeypatch.setenv("AIF_PARAM_horizon_days", "3")
    monkeypatch.setenv("AIF_PARAM_WASTE_COST", "0.25")
    p = parse_args(["--seed", "5"])
    assert (p.horizon_days, p.waste_cost, p.seed, p.margin) == (3, 0.25, 5, 0.6)
    assert parse_args(["--horizon-days", "2"]).horizon_days == 2
    monkeypatch.setenv("AIF_PARAM_seed", "abc")
    with pytest.raises(SystemExit):
        parse_args([])


def test_same_seed_same_metrics():
    quiet = lambda _line: None  # noqa: E731
    m1, r1 = run_showcase(Params(**SHORT, seed=3), log=quiet)
    m2, r2 = run_showcase(Params(**SHORT, seed=3), log=quiet)
    assert m1["figures"] == m2["figures"] and m1["baseline_margins"] == m2["baseline_margins"]
    pd.testing.assert_frame_equal(r1, r2)


def test_end_to_end_short_run_writes_all_artifacts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIF_PARAM_holdout_days", "60")
    out = tmp_path / "out"
    rc = main(["--groups", "1,2", "--refit-days", "30", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "fold 1/2 (hold-out)" in printed and "revenue-equivalent units" in printed
    assert {p.name for p in out.iterdir()} == {"metrics.json", "forecast.csv", "report.png", "report.html"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["parameters"]["holdout_days"] == 60
    assert metrics["periods"]["holdout_start"] == "2018-06-02"
    assert set(metrics["comparison"]) == {"1", "2", "overall"}
    assert metrics["data"]["sha256"]["sales"].startswith("099a2e60")
    assert "revenue" in metrics["demand_signal"]
    forecast = pd.read_csv(out / "forecast.csv")
    assert forecast["date"].min() >= "2018-06-02" and set(forecast["group"]) == {1, 2}
    assert {"demand", "plan_model", "plan_last_week", "plan_mean4"} <= set(forecast.columns)
    waste = (forecast["plan_model"] - forecast["demand"]).clip(lower=0).sum()
    assert waste == pytest.approx(metrics["figures"]["model"]["overall"]["waste"], rel=1e-3)
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "revenue-equivalent units" in html
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_data_gives_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "sales.csv"
    _sales([["2024-01-01", 1, 1.0], ["2024-01-01", 1, 2.0]]).to_csv(bad, index=False)
    assert main(["--sales", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: sales: duplicated (date, product) row 2") and "\n" not in err


def test_a_seasonal_group_absent_from_the_hold_out_is_left_out_not_a_crash(tmp_path):
    out = tmp_path / "o"
    # Saisonbrot (6) sells in autumn/winter only: no rows in a June-July hold-out or its validation period
    assert main(["--groups", "1,6", "--holdout-days", "60", "--refit-days", "30", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["comparison"]) == {"1", "overall"}
    assert metrics["baseline_margins"]["mean4"]["6"] > 0  # margin still chosen on training data
    assert "1 Brot" in (out / "report.html").read_text()
