"""End to end, as real people would: an SME signs up, applies to the playground, gets its allocation, runs a
job from a template, watches it complete and sees it charged on the burn-down; a fast-lane proposal goes
through review and an operator's decision."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Browser, Page, expect

from tests.support.browser import fill_wizard, run_hello_gpu, shot, sign_in, sign_up_sme
from tests.support.live import LiveServer


def kpi(page: Page, name: str) -> float:
    return float(page.locator(f'[data-kpi="{name}"]').first.get_attribute("data-hours") or "nan")  # GPU-hours


def test_an_sme_signs_up_applies_runs_a_template_and_sees_the_charge(page: Page, live: LiveServer) -> None:
    tag = uuid.uuid4().hex[:6]
    project_url = sign_up_sme(page, live, tag, shots="flow")
    assert kpi(page, "granted") == 200 and kpi(page, "used") == 0

    run_hello_gpu(page, "Guten Morgen", 2)

    page.goto(project_url)
    expect(page.locator("#jobs")).to_contain_text("completed")
    page.wait_for_function(
        "() => parseFloat(document.querySelector('[data-kpi=used]').dataset.hours) > 0", timeout=15_000
    )  # settled by the reconciler
    used, available = kpi(page, "used"), kpi(page, "available")
    assert 0 < used < 1 and abs(used + available - 200) < 0.01  # charged from the grant
    expect(page.locator("figure.chart svg")).to_have_count(1)
    shot(page, "flow-project-charged")


def person(browser: Browser, live: LiveServer, who: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(page, live, who)
    return page


def test_a_fast_lane_proposal_goes_through_review_and_an_operators_decision(browser: Browser, live: LiveServer) -> None:
    tag = uuid.uuid4().hex[:6]
    title = f"Jülich {tag}: traffic forecasts for the city"
    eva = person(browser, live, "eva")
    eva.goto(live.url + "/proposals/new")
    eva.get_by_label(re.compile("AI Factory Fast Lane")).check()
    eva.get_by_label("Title").fill(title)
    eva.get_by_role("button", name="Start the draft").click()
    fill_wizard(
        eva,
        title=title,
        gpu_hours="5000",
        abstract="Short-term traffic forecasts for the city's road network from public sensor data.",
    )
    eva.get_by_role("button", name="Submit").click()
    expect(eva.get_by_text("submitted").first).to_be_visible()
    proposal_url = eva.url

    operator = person(browser, live, "operator")
    operator.get_by_role("link", name="Operations").click()
    operator.get_by_role("link", name=title).click()
    operator.get_by_label("Prof. Maria Schulz").check()
    operator.get_by_role("button", name="Assign").click()
    expect(operator.get_by_text("Prof. Maria Schulz").first).to_be_visible()
    shot(operator, "flow-operator-proposal")

    schulz = person(browser, live, "schulz")
    schulz.get_by_role("link", name="Reviews").click()
    schulz.get_by_role("link", name=title).click()
    # The form to score comes only after the reviewer's declaration of interests.
    expect(schulz.locator("#f-score_excellence")).to_have_count(0)
    shot(schulz, "flow-review-declaration")
    schulz.get_by_role("button", name="I have no conflict of interest").click()
    for criterion, score in (("excellence", "4"), ("impact", "5"), ("feasibility", "4")):
        schulz.locator(f"#f-score_{criterion}").fill(score)
    schulz.locator("#f-comment_impact").fill("Clear benefit <em>for the city</em>.")
    shot(schulz, "flow-review-form")
    schulz.get_by_role("button", name="Submit the review").click()
    expect(schulz.get_by_role("status")).to_contain_text("your review is stored")
    expect(schulz.get_by_role("row", name=re.compile(tag))).to_contain_text("done")
    schulz.get_by_role("link", name=title).click()
    expect(schulz.get_by_text("Clear benefit <em>for the city</em>.").first).to_be_visible()  # shown as text

    operator.reload()
    operator.locator("#f-awarded_gpu_hours").fill("4000")
    operator.locator("#f-accept_reason").fill("Feasible and useful; award trimmed to the plan.")
    operator.get_by_role("button", name="Accept and allocate").click()
    expect(operator.get_by_text("accepted").first).to_be_visible()

    eva.goto(proposal_url)
    expect(eva.get_by_text("accepted").first).to_be_visible()
    expect(eva.get_by_text("Feasible and useful; award trimmed to the plan.")).to_be_visible()
    eva.get_by_role("link", name="Go to the project").click()
    expect(eva.locator('[data-kpi="granted"]')).to_have_text("4,000 GPU-hours")
    shot(eva, "flow-fast-lane-project")
    for page in (eva, operator, schulz):
        page.context.close()
