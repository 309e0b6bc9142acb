"""The main pages in German, on a laptop and a phone: no horizontal scroll, no shipped English left (every
English msgid that has a German translation is absent from the page's visible text), numbers in German style.
Screenshots: ci-output/screenshots/de-*.png."""

from __future__ import annotations

import re
from functools import cache

import pytest
from playwright.sync_api import Page, expect

from aifactory.web.i18n import merged_catalog
from tests.support.browser import fits_a_phone, shot, sign_in
from tests.support.live import LiveServer

LAPTOP = {"width": 1280, "height": 900}
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|%d")
ENGLISH_THOUSANDS = re.compile(r"\d,\d{3}(?!\d)")
ENGLISH_DECIMALS = re.compile(r"\d\.\d{1,2}(?!\d)")

PAGES = {  # who: German pages to check (the catalog: the stories, a project's templates, the operator's list)
    None: ["/", "/calls", "/calls/1", "/stories", "/stories/bakery-bakes-less-waste"],
    "anna": ["/", "/proposals", "/projects/1", "/projects/1/submit", "/projects/1/templates/bakery-forecast"],
    "operator": ["/operator", "/operator/kpis", "/operator/calls", "/operator/catalog"],
}


@cache
def english_with_german() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The catalogs' English msgids whose German differs, as patterns on visible text (placeholders match any
    text). Single words are left out: a name or a term the same in both languages ("Jobs", "Name") is no leak."""
    found = []
    for m in merged_catalog("de"):
        if not m.id or isinstance(m.id, tuple) or not m.string or m.string == m.id:
            continue
        words = PLACEHOLDER.sub(" ", m.id).split()
        if len(words) < 2 or len(m.id) < 10:
            continue
        parts = [re.escape(p) for p in PLACEHOLDER.split(m.id)]
        found.append((m.id, re.compile(r"(?<!\w)" + r".{1,80}?".join(parts) + r"(?!\w)")))
    return tuple(found)


def untranslated(text: str) -> list[str]:
    return [msgid for msgid, pattern in english_with_german() if pattern.search(text)]


def english_numbers(page: Page) -> list[str]:
    """Figures in English style in number cells and tiles (German: 2.000 and 500,00)."""
    cells = page.locator("td.num, .kpi .value, [data-kpi], [data-charge], p.help[id^='d-']").all_inner_texts()
    return [c for c in cells if ENGLISH_THOUSANDS.search(c) or ENGLISH_DECIMALS.search(c)]


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def test_the_check_finds_english_left_on_a_page() -> None:
    assert len(english_with_german()) > 100
    assert "Open calls" in untranslated("Startseite · Open calls · Anmelden")
    assert untranslated("Offene Ausschreibungen · Anmelden") == []


@pytest.mark.parametrize("who", list(PAGES))
def test_german_pages_fit_speak_german_and_write_german_numbers(page: Page, live: LiveServer, who: str | None) -> None:
    if who:
        sign_in(page, live, who)
    page.context.add_cookies([{"name": "aif_lang", "value": "de", "url": live.url}])
    overflow, english, numbers = [], {}, {}
    for path in PAGES[who]:
        name = f"de-{who or 'public'}-{_slug(path)}"
        page.set_viewport_size(LAPTOP)
        response = page.goto(live.url + path)
        assert response is not None and response.status == 200, path
        expect(page.locator("html")).to_have_attribute("lang", "de")
        if left := untranslated(page.locator("body").inner_text()):
            english[path] = left
        if found := english_numbers(page):
            numbers[path] = found
        shot(page, name)
        if not fits_a_phone(page, name):
            overflow.append(path)
    assert english == {}
    assert numbers == {}
    assert overflow == []
