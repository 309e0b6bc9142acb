"""What the browser tests do on a page: sign in, take a screenshot for CI, check the layout, run a template."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

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
