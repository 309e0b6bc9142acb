"""The bakery showcase's input: any bakery's sales table, weather and events, the holiday region, and what is
refused (clearly: the column, the line, the parameter that would fix it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aifactory.showcase.bakery.data import (
    BakeryDataError,
    DataConfig,
    load_inputs,
    read_table,
    validate_daily,
    validate_sales,
)
from aifactory.showcase.bakery.region import RegionError, holiday_flags, parse_region

USER = DataConfig(date_col="day", product_col="item", value_col="qty")


def _csv(tmp_path: Path, text: str, name: str = "sales.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _sales(tmp_path: Path, text: str, cfg: DataConfig = USER) -> tuple[pd.DataFrame, object]:
    return validate_sales(read_table(_csv(tmp_path, text), "sales"), cfg)


def test_a_users_table_becomes_one_row_per_day_and_product_and_gaps_stay_gaps(tmp_path):
    out, facts = _sales(
        tmp_path, "day,item,qty\n2024-01-01,rye,10\n2024-01-02,rye,12\n2024-01-05,rye,9\n2024-01-01,bun,3\n"
    )
    assert list(out.columns) == ["date", "group", "demand"]
    assert facts.missing_days == 2 and facts.whole_numbers  # 3 and 4 January: closed/unknown, not zero demand
    assert sorted(out["group"].unique()) == ["bun", "rye"] and 0.0 not in set(out["demand"])


def test_a_missing_column_is_named_with_the_parameter_that_sets_it(tmp_path):
    with pytest.raises(BakeryDataError) as err:
        _sales(tmp_path, "date,item,qty\n2024-01-01,rye,1\n")
    assert str(err.value) == "sales: no column 'day' (date_col); sales.csv has 'date', 'item', 'qty'"


def test_an_unparseable_date_names_the_file_line(tmp_path):
    with pytest.raises(BakeryDataError, match=r"column 'day' line 3: unparseable date 'soon' \(1 unreadable"):
        _sales(tmp_path, "day,item,qty\n2024-01-01,rye,1\nsoon,rye,2\n")


def test_german_dates_are_read_and_ambiguous_ones_are_refused_not_guessed(tmp_path):
    out, _ = _sales(tmp_path, "day,item,qty\n31.01.2024,rye,1\n01.02.2024,rye,2\n")
    assert [str(d.date()) for d in out["date"]] == ["2024-01-31", "2024-02-01"]
    with pytest.raises(BakeryDataError, match=r"line 2: the date '03/04/2024' reads as day/month or month/day"):
        _sales(tmp_path, "day,item,qty\n03/04/2024,rye,1\n05/04/2024,rye,2\n")
    cfg = DataConfig("day", "item", "qty", date_format="%m/%d/%Y")
    out, _ = _sales(tmp_path, "day,item,qty\n03/04/2024,rye,1\n", cfg)
    assert str(out["date"].iloc[0].date()) == "2024-03-04"
    out, _ = _sales(tmp_path, "day,item,qty\n25/04/2024,rye,1\n", USER)  # only day/month reads it
    assert str(out["date"].iloc[0].date()) == "2024-04-25"


def test_negative_and_missing_values_are_refused_with_their_line(tmp_path):
    with pytest.raises(BakeryDataError, match=r"'qty' line 3: negative value -5 \(1 in total\); sales cannot"):
        _sales(tmp_path, "day,item,qty\n2024-01-01,rye,1\n2024-01-02,rye,-5\n")
    with pytest.raises(BakeryDataError, match=r"'qty' line 2: not a number: 'lots'"):
        _sales(tmp_path, "day,item,qty\n2024-01-01,rye,lots\n")
    with pytest.raises(BakeryDataError, match=r"'qty' line 3: an empty value"):
        _sales(tmp_path, "day,item,qty\n2024-01-01,rye,1\n2024-01-02,rye,\n")
    with pytest.raises(BakeryDataError, match=r"'item' line 2: no product named"):
        _sales(tmp_path, "day,item,qty\n2024-01-01,,1\n")


def test_repeated_day_and_product_rows_are_added_up_or_refused_as_asked(tmp_path):
    text = "day,item,qty\n2024-01-01,rye,1\n2024-01-02,rye,2\n2024-01-01,rye,3\n"
    out, facts = _sales(tmp_path, text)
    assert out["demand"].tolist() == [4.0, 2.0] and facts.summed_rows == 1
    refuse = DataConfig("day", "item", "qty", duplicates="refuse")
    with pytest.raises(BakeryDataError) as err:
        _sales(tmp_path, text, refuse)
    assert "product 'rye' on 2024-01-01 appears on line 2 and line 4" in str(err.value)
    assert "set duplicates=sum" in str(err.value)


def test_a_list_of_items_sold_is_counted_per_day(tmp_path):
    text = "Date,Time,Item\n2016-10-30,09:58,Bread\n2016-10-30,10:05,Bread\n2016-10-30,10:07,Coffee\n"
    out, facts = _sales(tmp_path, text, DataConfig("Date", "Item", ""))
    assert dict(zip(out["group"], out["demand"], strict=True)) == {"Bread": 2.0, "Coffee": 1.0}
    assert facts.input_rows == 3


def test_semicolon_csv_with_decimal_commas_and_parquet(tmp_path):
    out, facts = _sales(tmp_path, "day;item;qty\n01.02.2024;Brot;12,5\n02.02.2024;Brot;7\n")
    assert out["demand"].tolist() == [12.5, 7.0] and not facts.whole_numbers
    path = tmp_path / "sales.parquet"
    pd.DataFrame({"day": pd.to_datetime(["2024-01-01", "2024-01-02"]), "item": [1, 1], "qty": [5, 7]}).to_parquet(path)
    inputs = load_inputs(sales=path, cfg=USER)
    assert inputs.sales["demand"].tolist() == [5.0, 7.0] and inputs.group_names == {"1": "1"}
    assert inputs.weather is None and inputs.events is None and not inputs.shipped  # no Kiel data mixed in
    with pytest.raises(BakeryDataError, match=r"no column 'Datum' \(date_col\), 'Warengruppe' \(product_col\)"):
        load_inputs(sales=path)


def test_a_folder_with_one_table_is_read_and_anything_else_is_named(tmp_path):
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "LICENSE").write_text("CC-BY")
    _csv(folder, "day,item,qty\n2024-01-01,rye,1\n")
    assert read_table(folder, "sales").path.name == "sales.csv"
    _csv(folder, "day,item,qty\n", "more.csv")
    with pytest.raises(BakeryDataError, match=r"sales: .*dataset is a folder with 2 CSV or Parquet files; name one"):
        read_table(folder, "sales")
    with pytest.raises(BakeryDataError, match=r"sales: .*nowhere.csv: no such file"):
        read_table(tmp_path / "nowhere.csv", "sales")


def test_weather_and_event_tables_have_a_documented_format(tmp_path):
    weather = read_table(_csv(tmp_path, "when,temp,sky\n2024-01-01,3.5,cloudy\n2024-01-02,,sunny\n", "w.csv"), "w")
    table = validate_daily(weather, "day", "", "weather")  # no 'day' column: the first column is the date
    assert list(table.frame.columns) == ["temp"] and table.ignored == {"sky": "not_numeric"}
    assert np.isnan(table.frame.loc["2024-01-02", "temp"])  # a missing value is allowed
    twice = read_table(_csv(tmp_path, "day,fair\n2024-06-20,1\n2024-06-20,1\n", "e.csv"), "events")
    with pytest.raises(BakeryDataError, match=r"events: line 3: the date 2024-06-20 appears twice"):
        validate_daily(twice, "day", "", "events")


def test_the_shipped_kiel_data_is_intact():
    kiel = load_inputs()
    assert kiel.sha256["sales"] == "099a2e609d3ef7286a465f34cb0e62ffb572ca4b454b22aa887c42ad3952dd62"
    assert len(kiel.sales) == 9334 and kiel.facts.missing_days == 38 and kiel.shipped
    assert kiel.group_names["2"] == "Brötchen" and kiel.events is not None
    assert kiel.weather is not None and "Temperatur" in kiel.weather.frame.columns


def test_holiday_regions_are_iso_3166_2_and_checked():
    sh = parse_region("de-sh")
    assert (sh.code, sh.name(), sh.name("de")) == (
        "DE-SH",
        "Schleswig-Holstein, Germany",
        "Schleswig-Holstein, Deutschland",
    )
    assert parse_region("AT").name() == "Austria" and parse_region("none").country == ""
    with pytest.raises(RegionError, match=r"holidays: 'DE-XX': DE has no subdivision 'XX'; known: DE-BB, "):
        parse_region("DE-XX")
    with pytest.raises(RegionError, match=r"holidays: 'Kiel' is not a region the holidays package knows"):
        parse_region("Kiel")
    days = pd.date_range("2017-10-29", "2017-11-02")
    flags = holiday_flags(sh, days)
    assert flags["holiday"].tolist() == [0, 0, 1, 0, 0]  # Reformation Day 2017 (a one-off in Schleswig-Holstein)
    assert holiday_flags(parse_region("DE-BY"), days).loc["2017-11-01", "holiday"] == 1.0  # All Saints in Bavaria
