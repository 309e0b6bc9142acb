"""In the browser: a PI invites a colleague from the team page; the invitation e-mail (read from the aiosmtpd
sink, sent by the server's own delivery loop) carries a link; the colleague follows it, signs up and lands on
the team page as a member."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import shot, sign_in
from tests.support.live import LiveServer, demo_with_mail
from tests.support.mail import MailSink, smtp_sink

PUBLIC = "https://jaif.example"


@pytest.fixture(scope="module")
def sink() -> Iterator[MailSink]:
    with smtp_sink() as mail:
        yield mail


@pytest.fixture(scope="module")
def mailing(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, sink: MailSink) -> Iterator[LiveServer]:
    """The app with the demo, sending its e-mails to the sink; its links name the public address."""
    with demo_with_mail(_sqlite_template, tmp_path_factory.mktemp("teams"), sink.port, public_url=PUBLIC) as server:
        yield server


def the_link(sink: MailSink, address: str) -> str:
    deadline = time.monotonic() + 30
    while not sink.to(address) and time.monotonic() < deadline:
        time.sleep(0.2)
    (mail,) = sink.to(address)
    (link,) = re.findall(rf"{re.escape(PUBLIC)}/invitations/inv_[A-Za-z0-9_-]+", mail.text())
    return link


def test_an_invitation_is_accepted_from_the_emails_link(
    page: Page, browser: Browser, mailing: LiveServer, sink: MailSink
) -> None:
    colleague = f"ben.{uuid.uuid4().hex[:6]}@backhaus-kiel.example"
    sign_in(page, mailing, "anna")
    page.goto(mailing.url + "/projects")
    page.get_by_role("link", name=re.compile("Bake less waste")).first.click()
    page.get_by_role("link", name="Team: members and invitations").click()
    page.get_by_label("E-mail address").fill(colleague)
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text(f"Invitation sent to {colleague}.")).to_be_visible()
    expect(page.locator(f'[data-invitation="{colleague}"]')).to_be_visible()
    team_url = page.url

    link = the_link(sink, colleague)
    ben = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    ben.goto(mailing.url + urlsplit(link).path)  # the link's path on this server (the mail names the public address)
    expect(ben.get_by_role("heading", name=re.compile("You are invited to join"))).to_be_visible()
    ben.get_by_label("Your name").fill("Ben Bäcker")
    ben.locator("#f-password").fill("Roggenbrot mit Kümmel 42")
    ben.locator("#f-password2").fill("Roggenbrot mit Kümmel 42")
    ben.get_by_role("button", name="Sign up and join").click()
    ben.wait_for_url(team_url)
    expect(ben.get_by_text("Welcome to the team.")).to_be_visible()
    expect(ben.locator(f'[data-member="{colleague}"]')).to_contain_text("Ben Bäcker")
    expect(ben.get_by_role("button", name="Send the invitation")).to_have_count(0)  # a member, not the PI
    shot(ben, "teams-invitation-accepted")
    ben.goto(mailing.url + urlsplit(link).path)  # used once
    expect(ben.get_by_text(re.compile("already used"))).to_be_visible()
