"""The rules behind honest charts: which unit a GPU-time amount is shown in, how it is written (English and
German), the least top of a value axis, empty charts that say so, and the burn-down's time axis."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from aifactory.web.charts import Series, bar_chart, fmt_number, line_chart
from aifactory.web.charts_time import Steps, date_ticks, step_time_chart
from aifactory.web.charts_units import HOURS, MINUTES, SECONDS, amount_text, number, unit_for, unit_for_all
from aifactory.web.i18n import Translator

NS = "{http://www.w3.org/2000/svg}"


def amount(hours: float | None, lang: str = "en") -> str:
    return amount_text(hours, Translator(lang).gettext, lang)


@pytest.mark.parametrize(
    ("hours", "unit"),
    [
        (0, HOURS),
        (500, HOURS),
        (0.1, HOURS),
        (0.0999, MINUTES),
        (1 / 60, MINUTES),
        (0.0166, SECONDS),
        (-0.0014, SECONDS),
    ],
)
def test_amounts_below_a_tenth_of_a_gpu_hour_switch_to_minutes_then_seconds(hours: float, unit: object) -> None:
    assert unit_for(hours) == unit


def test_a_chart_takes_the_unit_its_largest_value_needs() -> None:
    assert unit_for_all([0.0014, 0.0002]) == SECONDS
    assert unit_for_all([0.0014, 0.05]) == MINUTES
    assert unit_for_all([0.0014, 500]) == HOURS and unit_for_all([]) == HOURS


@pytest.mark.parametrize(
    ("hours", "en", "de"),
    [
        (None, "–", "–"),
        (0, "0 GPU-hours", "0 GPU-Stunden"),
        (500, "500 GPU-hours", "500 GPU-Stunden"),
        (1234.56, "1,235 GPU-hours", "1.235 GPU-Stunden"),
        (6.5, "6.5 GPU-hours", "6,5 GPU-Stunden"),
        (0.05, "3 GPU-minutes", "3 GPU-Minuten"),
        (0.0014, "5.04 GPU-seconds", "5,04 GPU-Sekunden"),
        (1 / 3600, "1 GPU-second", "1 GPU-Sekunde"),
        (1, "1 GPU-hour", "1 GPU-Stunde"),
    ],
)
def test_an_amount_is_written_in_its_unit_and_the_pages_language(hours: float | None, en: str, de: str) -> None:
    assert amount(hours, "en") == en and amount(hours, "de") == de


def test_no_amount_is_a_long_fraction_of_a_gpu_hour() -> None:
    for hours in (0.0011, 0.0014, 0.0003, 0.09, 0.00001):
        assert "0.00" not in amount(hours) and "GPU-hours" not in amount(hours)


def test_numbers_follow_the_language_and_never_read_minus_zero() -> None:
    assert number(1234.5, "en", 2) == "1,234.50" and number(1234.5, "de", 2) == "1.234,50"
    assert number(-0.0001, "en") == "0" and number(12.34, "en") == "12.3" and number(3, "de") == "3"


def bar_heights(svg: object) -> list[float]:
    root = ET.fromstring(str(svg))
    return [float(r.get("height")) for r in root.iter(f"{NS}rect")]


def tick_texts(svg: object) -> list[str]:
    return [t.text or "" for t in ET.fromstring(str(svg)).iter(f"{NS}text")]


def test_a_tiny_value_is_a_small_bar_on_an_axis_of_at_least_the_units_floor() -> None:
    seconds = 0.0014 * SECONDS.per_hour  # 5.04 GPU-seconds
    alone = bar_heights(bar_chart(["a"], [Series("s", [seconds])], id="a", title="T"))
    floored = bar_heights(bar_chart(["a"], [Series("s", [seconds])], id="b", title="T", min_top=SECONDS.floor))
    assert floored[0] < alone[0] / 5  # 5 of at least 60 GPU-seconds, not a full-height bar
    assert "60" in tick_texts(bar_chart(["a"], [Series("s", [seconds])], id="c", title="T", min_top=60))
    big = bar_heights(bar_chart(["a"], [Series("s", [600.0])], id="d", title="T", min_top=60))
    assert big == bar_heights(bar_chart(["a"], [Series("s", [600.0])], id="e", title="T"))  # data above the floor


@pytest.mark.parametrize("render", [bar_chart, line_chart])
def test_an_all_zero_chart_says_it_is_empty_in_the_callers_words(render: object) -> None:
    svg = render(["a", "b"], [Series("s", [0, 0])], id="z", title="Use", empty="Nichts", zero_is_empty=True)  # type: ignore[operator]
    root = ET.fromstring(str(svg))
    assert "Nichts" in tick_texts(svg) and not list(root.iter(f"{NS}rect")) and "Nichts" in root.find(f"{NS}desc").text


def test_date_ticks_span_the_period_without_repeats() -> None:
    ticks = date_ticks(date(2026, 3, 2), date(2027, 3, 1))
    assert ticks[0] == date(2026, 3, 2) and ticks[-1] == date(2027, 3, 1) and len(ticks) == 6
    assert date_ticks(date(2026, 3, 2), date(2026, 3, 3)) == [date(2026, 3, 2), date(2026, 3, 3)]
    assert date_ticks(date(2026, 3, 2), date(2026, 3, 2)) == [date(2026, 3, 2)]


def polyline_xs(root: ET.Element, name: str) -> list[float]:
    line = next(p for p in root.iter(f"{NS}polyline") if p.get("data-series") == name)
    return [float(pt.split(",")[0]) for pt in line.get("points").split()]


def test_day_one_shows_the_whole_period_with_the_grant_across_it() -> None:
    start, end = date(2026, 3, 2), date(2026, 8, 31)
    series = [
        Steps("granted", [(start, 500.0)], end),
        Steps("used", [(start, 0.0)], start),
    ]
    svg = step_time_chart(series, start=start, end=end, id="burn", title="T", unit="h", today=(start, "today"))
    root = ET.fromstring(str(svg))
    granted = polyline_xs(root, "granted")
    assert min(granted) == 56 and max(granted) == 840  # from the first to the last day of the allocation
    assert len(list(root.iter(f"{NS}circle"))) >= 2 and "today" in tick_texts(svg)
    labels = tick_texts(svg)
    assert "2026-03-02" in labels and "2026-08-31" in labels
    german = step_time_chart(series, start=start, end=end, id="burn", title="T", unit="h", lang="de")
    assert "02.03.2026" in tick_texts(german) and "31.08.2026" in tick_texts(german)  # the day as German pages write it
    assert "2026-03-02" not in str(german)


def test_days_sit_where_they_belong_in_time() -> None:
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    series = [Steps("used", [(date(2025, 12, 1), 1.0), (date(2026, 7, 2), 3.0)], date(2026, 7, 2))]
    root = ET.fromstring(str(step_time_chart(series, start=start, end=end, id="t", title="T")))
    xs = polyline_xs(root, "used")
    assert xs[0] == 56  # a change before the period starts is drawn from its first day
    assert abs(xs[-1] - (56 + 182 / 364 * (840 - 56))) < 0.01  # 2 July: half-way through the year


def test_a_burn_down_with_nothing_granted_says_so() -> None:
    svg = step_time_chart([Steps("granted", [], date(2026, 3, 2))], start=date(2026, 3, 2), end=date(2026, 4, 2),
                          id="e", title="T", empty="Nothing granted or used yet.")  # fmt: skip
    assert "Nothing granted or used yet." in tick_texts(svg)


def test_chart_numbers_follow_the_pages_language() -> None:
    assert fmt_number(1234, "de") == "1.234" and fmt_number(12.5, "de") == "12,5" and fmt_number(12.5) == "12.5"
    svg = bar_chart(["a"], [Series("s", [1234.5])], id="de", title="T", unit="GPU-Stunden", lang="de")
    root = ET.fromstring(str(svg))
    assert "1.500" in tick_texts(svg) and "1,500" not in tick_texts(svg)
    assert "1.234 GPU-Stunden" in (next(root.iter(f"{NS}rect")).find(f"{NS}title").text or "")
