"""A baker runs the bakery template's form in German, in Chromium: every field has a German label with its unit
and a line of help in plain words, the method ("So funktioniert es") is folded until asked for, a cost is
typed the German way (0,35) and the run is submitted as an ordinary job. The form fits a phone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.browser import no_horizontal_overflow, shot, sign_in
from tests.support.live import LiveServer


def test_a_baker_fills_the_bakery_form_in_german(page: Page, live: LiveServer) -> None:
    sign_in(page, live, "anna")
    page.get_by_role("button", name="DE").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Ihre Übersicht")).to_be_visible()  # her home: her own work
    page.get_by_role("link", name="Projekte", exact=True).first.click()
    page.locator("main a[href^='/projects/']").first.click()
    page.goto(page.url.rstrip("/") + "/templates/bakery-forecast")
    expect(page.get_by_role("heading", name="Bäckerei: Bedarf vorhersagen, weniger wegwerfen")).to_be_visible()

    waste = page.get_by_label("Kosten eines weggeworfenen Stücks (EUR je Stück)", exact=True)
    expect(waste).to_have_attribute("placeholder", "0,4")
    expect(page.get_by_text("Was ein unverkauftes Stück Sie kostet: Zutaten, Energie und Arbeit.")).to_be_visible()
    expect(page.get_by_label("Tage zum Prüfen des Ergebnisses (Tage)", exact=True)).to_be_visible()
    expect(page.get_by_label("Ihre Verkäufe", exact=True)).to_be_visible()  # the dataset picker
    form = page.locator("form[action$='/templates/bakery-forecast']")
    expect(form).not_to_contain_text("waste_cost")  # no raw names, no jargon on the form
    expect(form).not_to_contain_text("newsvendor")

    how = page.locator("details#how-it-works")
    expect(how).not_to_have_attribute("open", re.compile(".*"))
    expect(how.get_by_text("Newsvendor-Menge", exact=False)).to_be_hidden()  # folded
    how.get_by_text("So funktioniert es").click()
    expect(how.get_by_text("Newsvendor-Menge", exact=False)).to_be_visible()

    waste.fill("0,35")
    page.get_by_label("Aufwand (Runden)", exact=True).fill("20")
    shot(page, "plain-bakery-form-de")
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_horizontal_overflow(page)
    shot(page, "plain-bakery-form-de-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name=re.compile("^(Starten|Ausführen|Run)$")).click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
