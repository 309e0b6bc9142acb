"""Charts on a phone: the project page's burn-down and the KPI dashboard give way to their data tables, and
neither page scrolls sideways (Chromium at 390 px wide). Screenshots: ci-output/screenshots/charts-*."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.support.browser import no_horizontal_overflow, shot, sign_in
from tests.support.live import LiveServer

PHONE = {"width": 390, "height": 844}


def test_charts_turn_into_their_tables_on_a_phone_without_sideways_scrolling(
    browser: Browser, live: LiveServer
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    try:
        sign_in(page, live, "anna")
        page.goto(live.url + "/projects")
        page.get_by_role("link", name=re.compile("bakery", re.I)).first.click()
        expect(page.locator("figure.chart .chart-phone table").first).to_be_visible()
        expect(page.locator("figure.chart svg").first).to_be_hidden()
        assert no_horizontal_overflow(page)
        shot(page, "charts-project-phone")
        context.clear_cookies()
        sign_in(page, live, "operator")
        page.goto(live.url + "/operator/kpis")
        expect(page.locator("figure.chart .chart-phone table")).to_have_count(7)
        expect(page.locator("figure.chart .chart-phone table").first).to_be_visible()
        assert no_horizontal_overflow(page)
        shot(page, "charts-kpis-phone")
        page.set_viewport_size({"width": 1280, "height": 900})  # on a laptop: the drawings
        expect(page.locator("figure.chart svg").first).to_be_visible()
        expect(page.locator("figure.chart .chart-phone").first).to_be_hidden()
        assert no_horizontal_overflow(page)
        shot(page, "charts-kpis-laptop")
    finally:
        context.close()
