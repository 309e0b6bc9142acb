"""A job's results in Chromium: a hostile HTML report shows its text and its inlined chart in the job page's
sandboxed frame, and none of what it tries happens — no script runs (in the frame, in an inline SVG, on an
image's load, behind a javascript: link), no cookie is set, nothing is fetched or framed, the form does not
send, the meta refresh does not navigate, <base> is ignored; opened in a tab of its own it is just as inert.
Images and the CSV preview show inline, and the page passes axe with the viewer on it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from tests.support.browser import axe_violations, sandboxed_report, shot, sign_in
from tests.support.demo import PEOPLE
from tests.support.live import LiveServer
from tests.support.reports import HOSTILE_REPORT, HOSTILE_SVG, MARKER, MARKUP_CSV, PNG, artifact_spec

FILES = {"report.html": HOSTILE_REPORT.encode(), "chart.png": PNG, "plot.svg": HOSTILE_SVG.encode()}
FILES["sales.csv"] = MARKUP_CSV.encode()


@pytest.fixture(scope="module")
def job_id(live: LiveServer) -> int:
    """anna's completed job that left the hostile report, an image, an SVG with a script and a CSV."""
    headers = {"Authorization": f"Bearer {live.token(PEOPLE['anna'])}"}
    with httpx.Client(base_url=live.url + "/api/v1", headers=headers, timeout=10) as api:
        project = api.get("/projects").json()["items"][0]["id"]
        r = api.post("/jobs", json=artifact_spec(project, FILES, name="hostile-report"))
        assert r.status_code == 201, r.text
        job: int = r.json()["id"]
        deadline = time.monotonic() + 60
        while (state := api.get(f"/jobs/{job}").json()["state"]) not in ("completed", "failed"):
            assert time.monotonic() < deadline, f"job {job} is still {state}"
            time.sleep(0.3)
    assert state == "completed"
    return job


@pytest.fixture
def requests_seen(page: Page) -> Iterator[list[Request]]:
    """The requests that got an answer (one the browser blocks, e.g. by CSP, is reported but fails)."""
    seen: list[Request] = []
    page.on("requestfinished", lambda r: seen.append(r))
    yield seen


def _no_trace_of_the_script(page: Page, seen: list[Request]) -> None:
    assert not [r.url for r in seen if MARKER in r.url]  # no fetch, no refresh, no remote image or frame
    assert not [c for c in page.context.cookies() if MARKER in c["name"]]
    assert not [r for r in seen if r.method == "POST"]  # the report's form never sent


def test_a_hostile_report_shows_its_text_and_chart_and_nothing_of_it_runs(
    page: Page, live: LiveServer, job_id: int, requests_seen: list[Request]
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, live, "anna")
    requests_seen.clear()  # the sign-in's own POST
    page.goto(f"{live.url}/jobs/{job_id}")
    title = page.title()
    report = sandboxed_report(page)
    expect(report.locator("#headline")).to_have_text("Bake 12 % less waste")
    expect(report.locator("#status")).to_have_text("static text")  # the inline script did not run
    expect(report.locator("#chart")).to_be_visible()
    assert report.locator("#chart").evaluate("img => img.decode().then(() => img.naturalWidth)") == 4  # data: PNG
    remote = report.locator("#remote").evaluate("img => img.decode().then(() => 'loaded', () => 'blocked')")
    assert remote == "blocked"  # nothing is fetched from anywhere, the portal included
    assert not report.locator("#rel-link").evaluate("a => a.href").startswith("https://attacker.example")
    report.locator("#js-link").click()
    report.locator("#send").click()
    page.wait_for_timeout(1500)  # time for a meta refresh, a fetch, a form post or a javascript: URL to happen
    frame = next(f for f in page.frames if f.url.endswith(f"/jobs/{job_id}/view/report.html"))
    assert frame.title() == "Forecast report"  # its own title: no script changed it
    assert page.title() == title and MARKER not in page.title()
    _no_trace_of_the_script(page, requests_seen)
    assert dialogs == []
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # the form did not sign anna out
    shot(page, "job-results")


def test_opened_on_its_own_the_report_and_the_svg_stay_inert(
    page: Page, live: LiveServer, job_id: int, requests_seen: list[Request]
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, live, "anna")
    requests_seen.clear()
    page.goto(f"{live.url}/jobs/{job_id}")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open in a new tab").click()
    tab = opened.value
    tab.on("requestfinished", lambda r: requests_seen.append(r))
    tab.wait_for_load_state()
    expect(tab.locator("#status")).to_have_text("static text")
    assert tab.title() == "Forecast report"
    tab.goto(f"{live.url}/jobs/{job_id}/view/plot.svg")
    tab.wait_for_timeout(1000)
    assert dialogs == [] and tab.title() != MARKER
    _no_trace_of_the_script(page, requests_seen)


def test_images_and_the_csv_preview_show_inline(page: Page, live: LiveServer, job_id: int) -> None:
    sign_in(page, live, "anna")
    page.goto(f"{live.url}/jobs/{job_id}")
    chart = page.get_by_role("img", name="Image chart.png")
    svg = page.get_by_role("img", name="Image plot.svg")
    expect(chart).to_be_visible()
    expect(svg).to_be_visible()
    for image, width in ((chart, 4), (svg, 20)):  # loaded lazily: once scrolled to
        image.scroll_into_view_if_needed()
        assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") == width
    table = page.get_by_role("region", name="Table sales.csv")
    expect(table.get_by_role("columnheader", name="product")).to_be_visible()
    expect(table.get_by_role("cell", name="<script>alert(1)</script>")).to_be_visible()  # shown as text
    expect(table.get_by_role("cell", name='a "quoted", <b>bold</b> cell')).to_be_visible()


def test_the_job_page_with_the_viewer_passes_axe_and_says_what_was_charged(
    axe_page: Page, live: LiveServer, job_id: int
) -> None:
    sign_in(axe_page, live, "anna")
    axe_page.goto(f"{live.url}/jobs/{job_id}")
    expect(sandboxed_report(axe_page).locator("#headline")).to_be_visible()
    expect(axe_page.get_by_text("Charged", exact=True)).to_be_visible(timeout=15_000)  # settled by the reconciler
    assert axe_violations(axe_page) == []
    axe_page.set_viewport_size({"width": 390, "height": 844})
    axe_page.reload()
    assert axe_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(axe_page, "job-results-phone")
