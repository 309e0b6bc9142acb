"""Single sign-on in Chromium against the real OpenID provider (scripts/oidc-dev-provider): "Sign in with Dev
AAI" on the sign-in page, the provider's own sign-in form, back on the portal signed in; a new person's first
sign-in form in German; a refused sign-in's page. Each checked with axe-core and screenshotted."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from aifactory.config import Settings
from tests.support.browser import axe_violations, no_horizontal_overflow, shot
from tests.support.demo import seed_demo_sqlite
from tests.support.live import LiveServer, live_server
from tests.support.oidc import ADA, ADA_GROUP, MALLORY, DevProvider, dev_provider


@pytest.fixture(scope="module")
def provider() -> DevProvider:
    return dev_provider()


@pytest.fixture(scope="module")
def sso_live(
    _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, provider: DevProvider
) -> Iterator[LiveServer]:
    """The real app with the demo and the real provider as "Dev AAI" (a group rule places Ada)."""
    folder = tmp_path_factory.mktemp("sso-portal")
    seeded = seed_demo_sqlite(_sqlite_template, folder / "portal.db")
    rule = {"group": ADA_GROUP, "organization": "Forschungszentrum Nord"}
    settings = Settings(
        database_url=seeded.url,
        data_dir=folder / "data",
        reconcile_seconds=0,
        env="test",
        oidc_providers=[provider.settings(organizations=[rule])],
    )
    with live_server(settings, seeded.info) as server:
        yield server


def at_the_provider(page: Page, login: str, password: str) -> None:
    """The provider's own sign-in page (another site: its labels are its own)."""
    expect(page.get_by_role("heading", name="Development AAI")).to_be_visible()
    page.get_by_label("Login name").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_person_signs_in_through_the_provider(page: Page, sso_live: LiveServer) -> None:
    page.goto(f"{sso_live.url}/login?next=/proposals")
    expect(page.get_by_role("heading", name="Or sign in through your institution")).to_be_visible()
    shot(page, "sso-login")
    page.get_by_role("link", name="Sign in with Dev AAI").click()
    at_the_provider(page, ADA[0], ADA[1])
    expect(page).to_have_url(re.compile(rf"^{re.escape(sso_live.url)}/proposals$"))
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Welcome, Ada Lovelace.")


def test_a_new_person_names_their_organization_in_german(
    axe_page: Page, sso_live: LiveServer, provider: DevProvider
) -> None:
    page = axe_page
    sub = f"nia-{uuid.uuid4().hex[:8]}"
    login, password = provider.add_person(sub=sub, email=f"{sub}@startup.example", name="Nia Novak")
    page.goto(f"{sso_live.url}/login")
    page.get_by_role("button", name="DE").click()
    page.get_by_role("link", name="Mit Dev AAI anmelden").click()
    at_the_provider(page, login, password)
    expect(page.get_by_role("heading", name="Willkommen in der Factory")).to_be_visible()
    expect(page.locator("#f-name")).to_have_value("Nia Novak")
    assert axe_violations(page) == []
    assert no_horizontal_overflow(page)
    shot(page, "sso-welcome-de")
    page.locator("#f-organization").fill(f"Nia AI {sub}")
    page.locator("#f-kind").select_option("startup")
    page.locator("#f-country").fill("PL")
    page.get_by_role("button", name="Weiter").click()
    expect(page.get_by_role("link", name="Nia Novak")).to_be_visible()


def test_an_unverified_address_gets_a_clear_page(axe_page: Page, sso_live: LiveServer) -> None:
    page = axe_page
    page.goto(f"{sso_live.url}/login")
    page.get_by_role("link", name="Sign in with Dev AAI").click()
    at_the_provider(page, MALLORY[0], MALLORY[1])
    expect(page.get_by_role("heading", name="E-mail address not confirmed")).to_be_visible()
    expect(page.get_by_role("link", name="Back to sign-in")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()  # not signed in
    assert axe_violations(page) == []
    shot(page, "sso-unverified")
