"""In a real browser, without JavaScript doing it: a role button on the users page leads to the confirmation
(checked with axe), Cancel changes nothing, Confirm changes the role."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.browser import axe_violations, shot, sign_in
from tests.support.live import LiveServer

ANNA = "anna@backhaus-kiel.example"


def _reviewer_button(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("row").filter(has_text=ANNA).get_by_role("button", name="Reviewer")


def test_a_role_change_is_confirmed_on_its_own_page(axe_page: Page, live: LiveServer) -> None:
    page = axe_page
    sign_in(page, live, "operator")
    page.goto(f"{live.url}/operator/users")
    expect(_reviewer_button(page)).to_have_attribute("aria-pressed", "false")

    _reviewer_button(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change the roles of Anna Petersen?")
    expect(page.get_by_role("listitem").filter(has_text="will become a reviewer")).to_contain_text(ANNA)
    assert axe_violations(page) == []
    shot(page, "operator-confirm-roles")
    page.get_by_role("link", name="Cancel").click()
    expect(_reviewer_button(page)).to_have_attribute("aria-pressed", "false")  # Cancel: nothing changed

    _reviewer_button(page).click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Roles of Anna Petersen changed.")).to_be_visible()
    expect(_reviewer_button(page)).to_have_attribute("aria-pressed", "true")
