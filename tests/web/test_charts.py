"""The server-side SVG charts: well-formed XML, geometry proportional to the data, escaping, CSP-safety,
accessibility, nice ticks, empty and all-zero data."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from aifactory.web.charts import CHAR_W, PALETTE, Series, bar_chart, fmt_number, legend, line_chart, nice_ticks

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script> & "quotes"'


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))


def group(root: ET.Element, name: str) -> ET.Element:
    found = [g for g in root.iter(f"{NS}g") if g.get("data-series") == name]
    assert len(found) == 1, f"expected one bar group for {name!r}, got {len(found)}"
    return found[0]


def rects(root: ET.Element, name: str) -> list[ET.Element]:
    return list(group(root, name).iter(f"{NS}rect"))


def num(el: ET.Element, attr: str) -> float:
    return float(el.get(attr))


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]  # drawn text, not the hover <title>


def tick_labels(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{NS}text") if t.text and t.text.replace(",", "").replace(".", "").isdigit()]


def test_bar_heights_are_proportional_and_zero_is_zero():
    root = parse(bar_chart(["a", "b", "c"], [Series("Used", [20, 80, 0])], id="c1", title="Usage"))
    a, b, c = rects(root, "Used")
    assert num(a, "height") > 0
    assert num(b, "height") == pytest.approx(4 * num(a, "height"), abs=0.05)
    assert num(c, "height") == 0
    # bars stand on the same baseline
    assert num(a, "y") + num(a, "height") == pytest.approx(num(b, "y") + num(b, "height"), abs=0.05)


def test_grouped_bars_side_by_side_with_palette_colours():
    root = parse(bar_chart(["x", "y"], [Series("A", [1, 2]), Series("B", [3, 4])], id="g", title="T"))
    a, b = group(root, "A"), group(root, "B")
    assert (a.get("fill"), b.get("fill")) == (PALETTE[0], PALETTE[1])
    ra, rb = rects(root, "A"), rects(root, "B")
    assert num(ra[0], "x") + num(ra[0], "width") <= num(rb[0], "x") + 0.01
    assert num(rb[0], "height") == pytest.approx(3 * num(ra[0], "height"), abs=0.05)


def test_stacked_total_height_equals_sum():
    series = [Series("A", [10, 30]), Series("B", [20, 0]), Series("C", [5, 5])]
    root = parse(bar_chart(["p", "q"], series, id="s", title="Stacked", stacked=True))
    per_unit = num(rects(root, "A")[0], "height") / 10
    for i, total in enumerate([35, 35]):
        parts = [rects(root, s.name)[i] for s in series]
        assert sum(num(r, "height") for r in parts) == pytest.approx(total * per_unit, abs=0.1)
        tops = sorted(parts, key=lambda r: (num(r, "y"), num(r, "y") + num(r, "height")))
        for upper, lower in itertools.pairwise(tops):  # segments touch, no overlap
            assert num(upper, "y") + num(upper, "height") == pytest.approx(num(lower, "y"), abs=0.05)
        assert len({num(r, "x") for r in parts}) == 1


def test_horizontal_bar_widths_are_proportional():
    labels = ["Manufacturing and industrial production", "Health"]
    root = parse(bar_chart(labels, [Series("GPU-h", [50, 150])], id="h", title="By sector", horizontal=True))
    a, b = rects(root, "GPU-h")
    assert num(b, "width") == pytest.approx(3 * num(a, "width"), abs=0.05)
    assert num(a, "height") == pytest.approx(num(b, "height"))
    assert num(a, "x") == num(b, "x")
    assert num(a, "y") < num(b, "y")
    # labels are on the y-axis, right-aligned before the bars; the long one is truncated
    drawn = texts(root)
    assert "Health" in drawn
    assert any(t.endswith("…") and "Manufacturing" in t for t in drawn)


def test_hostile_text_is_escaped_and_readable_in_title():
    svg = bar_chart([HOSTILE], [Series(HOSTILE, [1])], id="x", title=HOSTILE, unit="<b>u</b>")
    out = str(svg)
    assert "<script" not in out
    assert "<b>" not in out
    assert "&lt;script&gt;" in out
    root = parse(svg)
    assert root.find(f"{NS}title").text == HOSTILE
    bar_title = rects(root, HOSTILE)[0].find(f"{NS}title").text
    assert bar_title.startswith(f"{HOSTILE} — {HOSTILE}: 1")
    assert bar_title.endswith("<b>u</b>")
    line = str(line_chart([HOSTILE], [Series(HOSTILE, [1])], id="y", title=HOSTILE))
    assert "<script" not in line
    ET.fromstring(line)


@pytest.mark.parametrize(
    "svg",
    [
        bar_chart(["a", "b"], [Series("A", [1, 2]), Series("B", [3, 4])], id="k1", title="T", unit="h"),
        bar_chart(["a", "b"], [Series("A", [1, 2])], id="k2", title="T", stacked=True, horizontal=True),
        line_chart(["a", "b", "c"], [Series("A", [1, 2, 3])], id="k3", title="T", step=True),
        bar_chart([], [], id="k4", title="T"),
    ],
)
def test_csp_safe_and_accessible(svg):
    out = str(svg)
    assert "style=" not in out
    assert "<script" not in out
    assert "href" not in out
    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.get("width") is None and root.get("height") is None
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids)) and len(ids) >= 2
    prefix = ids[0].split("-")[0]
    assert prefix.startswith("k") and all(i.startswith(prefix + "-") for i in ids)
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{NS}title").get("id") == title_id
    assert root.find(f"{NS}desc").get("id") == desc_id


def test_two_charts_on_one_page_have_distinct_ids():
    one = parse(bar_chart(["a"], [Series("A", [1])], id="chart-a", title="A"))
    two = parse(line_chart(["a"], [Series("A", [1])], id="chart-b", title="B"))
    ids_one = {el.get("id") for el in one.iter() if el.get("id")}
    ids_two = {el.get("id") for el in two.iter() if el.get("id")}
    assert ids_one == {"chart-a-title", "chart-a-desc"}
    assert not ids_one & ids_two


def test_invalid_input_is_rejected():
    with pytest.raises(ValueError):
        bar_chart(["a", "b"], [Series("A", [1])], id="v", title="T")
    with pytest.raises(ValueError):
        bar_chart(["a"], [Series("A", [None])], id="v", title="T")  # type: ignore[list-item]
    with pytest.raises(ValueError):
        bar_chart(["a"], [Series("A", [1])], id='bad" onload="x', title="T")


@pytest.mark.parametrize("render", [bar_chart, line_chart])
def test_empty_data_says_no_data(render):
    for labels, series in [([], []), (["a"], []), ([], [Series("A", [])])]:
        root = parse(render(labels, series, id="e", title="Empty"))
        assert any("no data" in t.lower() for t in texts(root))
        assert "no data" in root.find(f"{NS}desc").text.lower()


def test_all_zero_data_renders_zero():
    root = parse(bar_chart(["a", "b"], [Series("A", [0, 0])], id="z", title="Zero", stacked=True))
    assert [num(r, "height") for r in rects(root, "A")] == [0, 0]
    assert "0" in tick_labels(root)
    line = parse(line_chart(["a", "b"], [Series("A", [0, 0])], id="z2", title="Zero"))
    poly = line.find(f".//{NS}polyline")
    ys = {p.split(",")[1] for p in poly.get("points").split()}
    assert len(ys) == 1  # flat on the baseline


@pytest.mark.parametrize(
    ("peak", "top"), [(87, 100), (100, 100), (1234, 1500), (3, 3), (0.7, 0.8), (12.5, 15), (999_999, 1_000_000)]
)
def test_nice_ticks(peak, top):
    ticks = nice_ticks(peak)
    assert ticks[0] == 0
    assert ticks[-1] == pytest.approx(top)
    assert ticks[-1] >= peak
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    mantissa = f"{steps.pop():e}".split("e")[0]
    assert float(mantissa) in (1, 2, 5)


def test_axis_labels_use_nice_ticks_with_separators():
    root = parse(bar_chart(["a", "b"], [Series("A", [1234, 87])], id="t", title="T"))
    labels = tick_labels(root)
    assert labels[0] == "0" and labels[-1] in ("1,500", "2,000")
    root = parse(bar_chart(["a"], [Series("A", [87])], id="t", title="T"))
    assert tick_labels(root)[-1] == "100"


def test_fmt_number():
    assert fmt_number(1234567) == "1,234,567"
    assert fmt_number(12.5) == "12.5"
    assert fmt_number(1234.56) == "1,235"
    assert fmt_number(0.126) == "0.13"
    assert fmt_number(2.0) == "2"


def test_line_chart_points_and_markers():
    labels = [f"d{i}" for i in range(7)]
    series = [Series("CPU", [1, 2, 3, 4, 5, 6, 7]), Series("GPU", [7, 6, 5, 4, 3, 2, 1])]
    root = parse(line_chart(labels, series, id="l", title="Daily", unit="h"))
    polys = {p.get("data-series"): p for p in root.iter(f"{NS}polyline")}
    assert set(polys) == {"CPU", "GPU"}
    assert polys["GPU"].get("stroke") == PALETTE[1]
    pts = [tuple(map(float, p.split(","))) for p in polys["CPU"].get("points").split()]
    assert len(pts) == len(labels)
    assert all(a[0] < b[0] for a, b in itertools.pairwise(pts))
    assert all(a[1] > b[1] for a, b in itertools.pairwise(pts))  # rising values go up the page
    circles = list(root.iter(f"{NS}circle"))
    assert len(circles) == 2 * len(labels)
    assert circles[0].find(f"{NS}title").text == "d0 — CPU: 1 h"


def test_step_line_chart_draws_a_staircase():
    root = parse(line_chart(["a", "b", "c"], [Series("A", [1, 3, 2])], id="st", title="T", step=True))
    pts = root.find(f".//{NS}polyline").get("points").split()
    assert len(pts) == 5
    for corner, after in zip(pts[1::2], pts[2::2], strict=False):
        assert corner.split(",")[0] == after.split(",")[0]


def test_line_chart_thins_labels_and_drops_markers_for_many_points():
    labels = [f"2024-01-{i:03d}" for i in range(100)]
    root = parse(line_chart(labels, [Series("A", list(range(100)))], id="m", title="Long"))
    drawn = [t for t in texts(root) if t.startswith("2024")]
    assert 2 <= len(drawn) <= 12
    assert drawn[0] == labels[0]
    assert len(root.find(f".//{NS}polyline").get("points").split()) == 100
    assert not list(root.iter(f"{NS}circle"))


def test_desc_summarises_data_with_series_names():
    root = parse(
        bar_chart(
            ["Quota"], [Series("Used", [12.5]), Series("Granted", [100])], id="d", title="GPU budget", unit="GPU-hours"
        )
    )
    desc = root.find(f"{NS}desc").text
    assert "Used" in desc and "Granted" in desc
    assert "12.5 GPU-hours" in desc and "100 GPU-hours" in desc
    many = [f"m{i}" for i in range(20)]
    root = parse(line_chart(many, [Series("Jobs", [1000.0] * 19 + [2500.0])], id="d2", title="Jobs"))
    desc = root.find(f"{NS}desc").text
    assert "Jobs" in desc and "21,500" in desc and "2,500" in desc and "m19" in desc


def test_legend_maps_palette_indices():
    series = [Series(f"s{i}", [1]) for i in range(10)]
    assert legend(series)[:2] == [(0, "s0"), (1, "s1")]
    assert legend(series)[8] == (0, "s8")
    assert legend([]) == []


@pytest.mark.parametrize("horizontal", [False, True])
def test_the_widest_tick_label_stays_inside_the_chart(horizontal):
    """A million GPU-hours in German ("2.000.000"): the value axis' labels are not cut at the chart's edge."""
    svg = bar_chart(["a", "b"], [Series("A", [1_742_729, 10])], id="w", title="W", horizontal=horizontal, lang="de")
    root = parse(svg)
    width = float(root.get("viewBox").split()[2])
    top = next(t for t in root.iter(f"{NS}text") if t.text == tick_labels(root)[-1])
    x, extent = num(top, "x"), CHAR_W * len(top.text)
    left, right = (x - extent / 2, x + extent / 2) if horizontal else (x - extent, x)
    assert tick_labels(root)[-1] == "2.000.000" and left >= 0 and right <= width
