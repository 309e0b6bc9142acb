"""The charts as the pages show them: the burn-down on the allocation's time axis with its figures in units
that suit them, the KPI dashboard with a tiny amount (a few GPU-seconds) drawn small and written in
GPU-seconds in the tile, chart and table alike, empty charts that say so, and every chart's data table for
phones."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from tests.support.portal import Portal
from tests.web.test_operator_web import post_charge

NS = "{http://www.w3.org/2000/svg}"


def svg_of(page: str, id: str) -> ET.Element:
    match = re.search(rf'<svg[^>]*aria-labelledby="{id}-title.*?</svg>', page, re.S)
    assert match, f"no chart {id}"
    return ET.fromstring(match.group(0))


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def test_the_burn_down_runs_from_the_allocations_start_to_its_end(portal: Portal) -> None:
    project = portal.api.project_of("bakery")
    page = portal.browser("anna").get(f"/projects/{project}").text
    with portal.api.uow_factory(write=False) as uow:
        alloc = uow.projects.get(project).allocations[0]
    root = svg_of(page, f"burn-{alloc.id}")
    labels = texts(root)
    assert alloc.start_date.isoformat() in labels and alloc.end_date.isoformat() in labels
    granted = next(p for p in root.iter(f"{NS}polyline") if p.get("data-series") == "granted")
    xs = [float(pt.split(",")[0]) for pt in granted.get("points").split()]
    assert max(xs) == 840  # the grant is drawn to the allocation's last day
    assert root.find(f".//{NS}g[@data-series='used']") is not None or "used" in ET.tostring(root, "unicode")
    assert re.search(r'data-kpi="granted">[\d,.]+ GPU-hours<', page)
    phone = page[page.index('class="chart-phone"') :]
    assert '<th scope="col">Day</th>' in phone and '<th scope="row">' in phone and "<caption>" not in phone


def test_a_few_gpu_seconds_are_written_and_drawn_as_what_they_are(portal: Portal) -> None:
    post_charge(portal, "tiny", "bakery", 5, datetime(2025, 6, 10, tzinfo=UTC))
    web = portal.browser("operator")
    page = web.get("/operator/kpis?start=2025-06&end=2025-06").text
    tiles = re.findall(r'<span class="value">([^<]*)</span>', page)
    assert tiles[0] == "5 GPU-seconds"
    root = svg_of(page, "chart-sector")
    assert "GPU-seconds" in texts(root) and "60" in texts(root)  # an axis of at least one GPU-minute
    bar = next(root.iter(f"{NS}rect"))
    assert 0 < float(bar.get("width")) < 0.1 * 640  # a sliver, not a full-width bar
    assert '<td class="num">5 GPU-seconds</td>' in page and "0.0014" not in page
    util = svg_of(page, "chart-utilization")
    assert "100" in texts(util) and '<td class="num">&lt; 0.01 %</td>' in page  # drawn against 100 %
    german = portal.browser("operator")
    german.client.cookies.set("aif_lang", "de")
    german_page = german.get("/operator/kpis?start=2025-06&end=2025-06").text
    assert "5 GPU-Sekunden" in german_page
    sectors = texts(svg_of(german_page, "chart-sector"))  # sectors in words, in German: not the stored keys
    assert "Lebensmittel" in sectors and "food" not in sectors


def test_a_period_without_use_shows_empty_charts_that_say_so(portal: Portal) -> None:
    page = portal.browser("operator").get("/operator/kpis?start=2024-01&end=2024-02").text
    for chart in ("chart-sector", "chart-org-kind", "chart-access-mode", "chart-month"):
        assert "No GPU time used in this period." in texts(svg_of(page, chart))
    assert "No GPU time delivered on any resource in this period." in texts(svg_of(page, "chart-utilization"))
    assert re.findall(r'<span class="value">([^<]*)</span>', page)[0] == "0 GPU-hours"
    assert page.count('class="chart-phone"') == 7
