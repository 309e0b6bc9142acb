"""Accounts that hold, in Chromium against the real app: a password reset from the e-mail's link (the mail read
from a real SMTP server, aiosmtpd, as the reconciler delivered it), after which the old password fails and the
new one signs in; and a sign-in lockout after repeated failures, with its message."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from aifactory.demo import DEMO_PASSWORD
from tests.support.browser import shot, sign_in
from tests.support.demo import PEOPLE
from tests.support.live import LiveServer, demo_with_mail
from tests.support.mail import Mail, MailSink, link_in, smtp_sink

NEW_PASSWORD = "lantern-orchard-quietly-hums"


@pytest.fixture(scope="module")
def sink() -> Iterator[MailSink]:
    with smtp_sink() as mail_sink:
        yield mail_sink


@pytest.fixture(scope="module")
def mail_live(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, sink: MailSink) -> Iterator[LiveServer]:
    """The real app with the demo, its reconciler delivering e-mails to the sink."""
    with demo_with_mail(_sqlite_template, tmp_path_factory.mktemp("accounts-portal"), sink.port) as server:
        yield server


def wait_for_mail(sink: MailSink, address: str, path: str, timeout: float = 20) -> Mail:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in sink.to(address) if path in m.text()]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no e-mail with {path} reached {address}")


def test_a_password_reset_from_the_e_mails_link(page: Page, mail_live: LiveServer, sink: MailSink) -> None:
    email = PEOPLE["lars"]
    page.goto(f"{mail_live.url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("a link to reset its password is on its way")
    mail = wait_for_mail(sink, email, "/reset-password")
    page.goto(mail_live.url + link_in(mail, "/reset-password"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.locator("#f-new").fill("aaaaaaaaaaaa")
    page.locator("#f-new2").fill("aaaaaaaaaaaa")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator("#e-new")).to_contain_text("too easy to guess")
    shot(page, "accounts-reset-weak")
    page.locator("#f-new").fill(NEW_PASSWORD)
    page.locator("#f-new2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the password").click()
    page.wait_for_url(re.compile(r".*/login$"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password or API token").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#e-password")).to_contain_text("Wrong e-mail address or password")
    sign_in(page, mail_live, "lars", NEW_PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_lockout_after_repeated_failures(page: Page, mail_live: LiveServer) -> None:
    page.goto(f"{mail_live.url}/login")
    for _ in range(5):
        page.get_by_label("E-mail address").fill(PEOPLE["daan"])
        page.get_by_label("Password or API token").fill("not-my-password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#e-password")).to_contain_text("Wrong e-mail address or password")
    page.get_by_label("E-mail address").fill(PEOPLE["daan"])
    page.get_by_label("Password or API token").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many attempts")
    shot(page, "accounts-lockout")
    page.goto(f"{mail_live.url}/")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)  # still signed out
