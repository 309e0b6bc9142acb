"""In a real browser: a large-scale proposal's plan step (the call's own questions), checked as the applicant
goes, with a PDF uploaded through the plain form; axe finds nothing on the step."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import axe_violations, shot, sign_in
from tests.support.live import LiveServer


def test_an_applicant_fills_the_plan_step_and_attaches_a_pdf(axe_page: Page, live: LiveServer, tmp_path: Path) -> None:
    page = axe_page
    sign_in(page, live, "eva")
    page.goto(live.url + "/proposals/new")
    page.get_by_label(re.compile("AI Factory Large Scale")).check()
    page.get_by_label("Title").fill("Digital twin of Jülich's traffic")
    page.get_by_role("button", name="Start the draft").click()
    page.get_by_label("Abstract").fill("A city-scale traffic model trained on five years of sensor data.")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("GPU-hours requested").fill("60000")
    page.get_by_label("Duration (months)").select_option("6")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="Plan and documents", level=2)).to_be_visible()

    page.get_by_label("Work plan").fill("Months 1-2: clean the sensor data. Months 3-6: train and validate.")
    page.get_by_role("button", name="Save and continue").click()  # not complete: stays, says what is missing
    expect(page.get_by_role("alert")).to_contain_text("not complete yet")
    expect(page.get_by_role("alert")).to_contain_text("Milestones")
    assert axe_violations(page) == []
    shot(page, "proposal-plan-incomplete")

    page.locator('[id="f-answers.milestones.0.month"]').fill("2")
    page.locator('[id="f-answers.milestones.0.title"]').fill("Sensor data cleaned and documented")
    page.locator('[id="f-answers.milestones.1.month"]').fill("6")
    page.locator('[id="f-answers.milestones.1.title"]').fill("Validated traffic model")
    page.get_by_label("Ready and accessible").check()
    page.get_by_label("Runs on one GPU or a workstation").check()
    page.get_by_label("The team's experience").fill("Our mobility team has trained forecasting models for six years.")
    page.get_by_label("Expected impact").fill("Fewer traffic jams and better planned road works in Jülich.")
    page.get_by_role("button", name="Save draft").click()

    pdf = tmp_path / "Traffic twin.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    page.get_by_label("Choose a PDF").set_input_files(str(pdf))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("The file is attached")
    expect(page.get_by_role("link", name="Traffic twin.pdf")).to_be_visible()
    assert axe_violations(page) == []
    shot(page, "proposal-plan-complete")

    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="Ethics and AI Act", level=2)).to_be_visible()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="Review and submit", level=2)).to_be_visible()
    expect(page.get_by_text("Validated traffic model")).to_be_visible()
    expect(page.get_by_role("link", name="Traffic twin.pdf")).to_be_visible()
