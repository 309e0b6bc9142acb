"""End to end, as real people would: an SME signs up, applies to the playground, gets its allocation, runs a
job from a template, watches it complete and sees it charged on the burn-down; a fast-lane proposal goes
through review and an operator's decision."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from ..cli.conftest import LiveServer
from .conftest import shot, sign_in


def kpi(page: Page, name: str) -> float:
    return float(page.locator(f'[data-kpi="{name}"]').first.inner_text().replace(",", ""))


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
    page.get_by_label("EU AI Act risk category").select_option("minimal")
    page.get_by_role("button", name="Save and continue").click()


def test_an_sme_signs_up_applies_runs_a_template_and_sees_the_charge(page: Page, live: LiveServer) -> None:
    tag = uuid.uuid4().hex[:6]
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
    shot(page, "flow-signup")
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(re.compile(r"/proposals/new"))
    page.get_by_label(re.compile("AI Factory Playground")).check()
    page.get_by_label("Title").fill(f"Sonne {tag}: bake less waste")
    page.get_by_role("button", name="Start the draft").click()
    fill_wizard(page, title=f"Sonne {tag}: bake less waste", gpu_hours="200",
                abstract="Forecast tomorrow's demand per product with LightGBM and bake the newsvendor quantity.")
    shot(page, "flow-wizard-summary")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("accepted").first).to_be_visible()  # the playground accepts at once
    shot(page, "flow-accepted")

    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=re.compile(f"Sonne {tag}")).click()
    expect(page.get_by_role("heading", name=re.compile(r"Allocation \d+ on"))).to_be_visible()
    assert kpi(page, "granted") == 200 and kpi(page, "used") == 0
    project_url = page.url

    page.get_by_role("link", name="Submit a job").click()
    page.get_by_role("link", name="Hello, GPU").click()
    page.get_by_label("greeting").fill("Guten Morgen")
    page.get_by_label("repeat").fill("2")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#log")).to_contain_text("Guten Morgen\nGuten Morgen", timeout=30_000)
    expect(page.locator("#job-state")).to_have_text("completed", timeout=30_000)

    page.goto(project_url)
    expect(page.locator("#jobs")).to_contain_text("completed")
    page.wait_for_function("() => parseFloat(document.querySelector('[data-kpi=used]').innerText) > 0",
                           timeout=15_000)  # settled by the reconciler
    used, available = kpi(page, "used"), kpi(page, "available")
    assert 0 < used < 1 and abs(used + available - 200) < 0.01  # charged from the grant
    expect(page.locator("figure.chart svg")).to_have_count(1)
    shot(page, "flow-project-charged")
