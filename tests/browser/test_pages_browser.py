"""The portal in Chromium: public pages on a laptop and a phone, the language switch, keyboard use, a job run
from a template followed live, tenant isolation, and an axe-core accessibility check of the main pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import axe_violations, fits_a_phone, run_hello_gpu, shot, sign_in
from tests.support.live import LiveServer


def test_the_home_page_shows_open_calls_and_the_bakery_story(page: Page, live: LiveServer) -> None:
    page.goto(live.url + "/")  # layout, overflow and screenshots of every page: the axe test below
    expect(page.get_by_role("heading", name="Open calls")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Bakery", re.I)).first).to_be_visible()  # the story


def test_language_switch_translates_and_is_remembered(page: Page, live: LiveServer) -> None:
    page.goto(live.url + "/calls")
    page.get_by_role("button", name="DE").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Ausschreibungen")).to_be_visible()
    page.goto(live.url + "/")
    expect(page.get_by_role("link", name="Anmelden").first).to_be_visible()
    page.get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_keyboard_reaches_the_skip_link_first_and_the_sign_in_form(page: Page, live: LiveServer) -> None:
    page.goto(live.url + "/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label("E-mail address").focus()
    page.keyboard.type("anna@backhaus-kiel.example")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password or API token")).to_be_focused()
    page.keyboard.type("bake-less-waste")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_template_job_is_followed_live_until_it_completes(page: Page, live: LiveServer) -> None:
    sign_in(page, live, "anna")
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=re.compile("bakery", re.I)).first.click()
    project_url = page.url
    run_hello_gpu(page, "moin <b>Kiel</b>", 3)  # the markup is appended live, shown as text
    expect(page.get_by_text("the log is complete")).to_be_visible()
    expect(page.get_by_role("link", name="out.json")).to_be_visible(timeout=10_000)
    shot(page, "job-completed")
    page.goto(project_url)
    expect(page.locator("#jobs tr").first).to_contain_text("completed")
    shot(page, "project")


def test_another_organization_cannot_open_the_project_or_its_jobs(page: Page, live: LiveServer) -> None:
    sign_in(page, live, "anna")
    page.goto(live.url + "/projects")
    page.get_by_role("link", name=re.compile("bakery", re.I)).first.click()
    project_url = page.url
    page.context.clear_cookies()
    sign_in(page, live, "daan")
    response = page.goto(project_url)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("Backhaus")).to_have_count(0)
    response = page.goto(project_url + "/submit")
    assert response is not None and response.status == 404


PAGES = {  # who: the main pages they see (PROPOSAL_x is a demo proposal's id)
    None: ["/", "/calls", "/calls/1", "/login", "/signup", "/stories", "/stories/bakery-bakes-less-waste"],
    "anna": [
        "/",  # her overview: proposals, projects, jobs
        "/projects",
        "/projects/1",
        "/projects/1/submit",
        "/projects/1/templates/bakery-forecast",
        "/proposals",
        "/account",
    ],
    "eva": ["/proposals/new", "/proposals/{juelich}", *[f"/proposals/{{juelich}}/edit?step={n}" for n in range(1, 6)]],
    "schulz": ["/reviews", "/reviews/{medvision}"],
    "operator": [
        "/operator",
        "/operator/proposals/{medvision}",
        "/operator/calls",
        "/operator/resources",
        "/operator/users",
        "/operator/kpis",
        "/operator/audit",
    ],
}


def pages_of(live: LiveServer, who: str | None) -> list[str]:
    return [p.format(**live.info.proposal_ids) for p in PAGES[who]]


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


@pytest.mark.parametrize("who", list(PAGES))
def test_main_pages_pass_axe_fit_laptop_and_phone_and_are_screenshot(
    axe_page: Page, live: LiveServer, who: str | None
) -> None:
    if who:
        sign_in(axe_page, live, who)
    violations, overflow = {}, []
    for path in pages_of(live, who):
        axe_page.set_viewport_size({"width": 1280, "height": 900})
        response = axe_page.goto(live.url + path)
        assert response is not None and response.status == 200, path
        expect(axe_page.locator("h1").first).to_be_visible()
        if found := axe_violations(axe_page):
            violations[path] = found
        shot(axe_page, f"{who or 'public'}-{_slug(path)}")
        if not fits_a_phone(axe_page, f"{who or 'public'}-{_slug(path)}"):
            overflow.append(path)
    assert violations == {}
    assert overflow == []
