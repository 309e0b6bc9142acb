"""What the browser tests do on a page: sign in, take a screenshot for CI, check the layout, run a template."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import FrameLocator, Page, expect

from aifactory.demo import DEMO_PASSWORD

from .demo import PEOPLE
from .live import LiveServer

SHOTS = Path(os.environ.get("AIFACTORY_SCREENSHOTS", Path(__file__).parents[2] / "ci-output" / "screenshots"))
AXE = Path(__file__).parents[1] / "browser" / "vendor" / "axe.min.js"


def sign_in(page: Page, live: LiveServer, who: str, password: str = DEMO_PASSWORD) -> None:
    """Through the sign-in form; ``who``: a key of PEOPLE or an e-mail address."""
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mail address").fill(PEOPLE.get(who, who))
    page.get_by_label("Password or API token").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def shot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot for CI's output folder (looked at by people: layout, overflow, charts)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def no_horizontal_overflow(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


PHONE = {"width": 390, "height": 844}


def fits_a_phone(page: Page, name: str) -> bool:
    """The page again at a phone's width, screenshot as ``<name>-phone``: whether it needs no horizontal scroll."""
    page.set_viewport_size(PHONE)
    page.reload()
    fits = no_horizontal_overflow(page)
    shot(page, f"{name}-phone")
    return fits


def fill_wizard(page: Page, *, title: str, gpu_hours: str, abstract: str) -> None:
    """Steps 1–4 of the proposal wizard, then the summary."""
    page.get_by_label("Title").fill(title)
    page.get_by_label("Abstract").fill(abstract)
    page.get_by_role("button", name="Save and continue").click()
    page.locator("#f-team-0-name").fill("Jonas Sonne")
    page.locator("#f-team-0-email").fill(f"jonas@{title.split()[0].lower()}.example")
    page.locator("#f-team-0-role").fill("data scientist")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("GPU-hours requested").fill(gpu_hours)
    page.get_by_role("button", name="Save and continue").click()
    if page.get_by_role("heading", name="Plan and documents").count():  # the call asks questions of its own
        fill_plan(page)
        page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("EU AI Act risk category").select_option("minimal")
    page.get_by_role("button", name="Save and continue").click()


def fill_plan(page: Page) -> None:
    """Every question of the wizard's plan step: each text, the first option of each choice, one milestone."""
    for area in page.locator('textarea[name^="answers."]').all():
        area.fill("Two phases: prepare the data in month 1, then train and evaluate the model.")
    radios = page.locator('input[type=radio][name^="answers."]')
    for name in dict.fromkeys(r.get_attribute("name") for r in radios.all()):
        page.locator(f'input[type=radio][name="{name}"]').first.check()
    if page.locator('input[name$=".0.month"]').count():
        page.locator('input[name$=".0.month"]').first.fill("1")
        page.locator('input[name$=".0.title"]').first.fill("Data prepared")


def verify_email(live: LiveServer, email: str) -> None:
    """The new user opened the link of the verification e-mail (not what these tests are about): the address
    marked verified in the live server's database (the user signs in again to be seen so)."""
    ctx = live.server.config.app.state.ctx
    with ctx.uow_factory() as uow:
        user = uow.users.by_email(email)
        assert user is not None, email
        user.email_verified_at = ctx.clock.now()
        uow.commit()


def sign_up_sme(page: Page, live: LiveServer, tag: str, *, shots: str | None = None) -> str:
    """A new SME through the portal: its sign-up, an application to the playground (accepted at once), then its
    project's page; the project's URL. ``shots``: a prefix for screenshots of the steps."""
    page.goto(live.url + "/")
    page.get_by_role("link", name="Sign up your organization").first.click()
    page.get_by_label("Name of the organization").fill(f"Bäckerei Sonne {tag}")
    page.get_by_label("Kind").select_option("sme")
    page.get_by_label("Country (ISO code, e.g. DE)").fill("DE")
    page.get_by_label("food").check()
    page.get_by_label("Your name").fill("Jonas Sonne")
    page.get_by_label("E-mail address").fill(f"jonas-{tag}@sonne.example")
    page.locator("#f-password").fill("croissant-2026")
    page.get_by_label("Password again").fill("croissant-2026")
    if shots:
        shot(page, f"{shots}-signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/proposals/new"))
    verify_email(live, f"jonas-{tag}@sonne.example")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live, f"jonas-{tag}@sonne.example", "croissant-2026")
    page.goto(live.url + "/proposals/new")
    page.get_by_label(re.compile("AI Factory Playground")).check()
    page.get_by_label("Title").fill(f"Sonne {tag}: bake less waste")
    page.get_by_role("button", name="Start the draft").click()
    fill_wizard(
        page,
        title=f"Sonne {tag}: bake less waste",
        gpu_hours="200",
        abstract="Forecast tomorrow's demand per product with LightGBM and bake the newsvendor quantity.",
    )
    if shots:
        shot(page, f"{shots}-wizard-summary")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("accepted").first).to_be_visible()  # the playground accepts at once
    if shots:
        shot(page, f"{shots}-accepted")
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=re.compile(f"Sonne {tag}")).click()
    expect(page.get_by_role("heading", name=re.compile(r"Allocation \d+ on"))).to_be_visible()
    return page.url


def run_hello_gpu(page: Page, greeting: str, repeat: int) -> None:
    """From a project page: the Hello-GPU template run through its form, its log followed live to the end."""
    page.get_by_role("link", name="Submit a job").click()
    page.get_by_role("link", name="Hello, GPU").click()
    page.get_by_label("greeting").fill(greeting)
    page.get_by_label("repeat").fill(str(repeat))
    page.get_by_role("button", name="Run").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.locator("#log")).to_contain_text("\n".join([greeting] * repeat), timeout=30_000)
    expect(page.locator("#job-state")).to_have_text("completed", timeout=30_000)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page (the page's context must bypass the portal's CSP to
    inject it: the ``axe_page`` fixture)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})""")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]


def sandboxed_report(page: Page, name: str = "report.html") -> FrameLocator:
    """On a job page: the frame that shows the report ``name`` (a path among the job's artifacts), checked to be
    sandboxed with no allowance at all (no scripts, no same origin, no forms)."""
    frame = page.locator(f'iframe.report[src$="/view/{name}"]')
    expect(frame).to_have_attribute("sandbox", "")
    return page.frame_locator(f'iframe.report[src$="/view/{name}"]')
