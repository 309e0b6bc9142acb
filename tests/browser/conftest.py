"""Browser tests: Playwright drives Debian's Chromium (headless; never a downloaded browser) against the real
app served by uvicorn on a free port, on a SQLite file seeded with the demo, with the reconciler running.

Without /usr/bin/chromium they skip with the reason, except where AIFACTORY_REQUIRE_BROWSER=1 (scripts/test,
CI): there they fail. Screenshots go to $AIFACTORY_SCREENSHOTS (default ci-output/screenshots)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aifactory.config import Settings
from aifactory.demo import DEMO_PASSWORD, DemoInfo, seed_demo
from aifactory.services.ports import SystemClock
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory

from .. import dbs
from ..api.conftest import PEOPLE
from ..cli.conftest import LiveServer, _serve

CHROMIUM = os.environ.get("AIFACTORY_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(os.environ.get("AIFACTORY_SCREENSHOTS", Path(__file__).parents[2] / "ci-output" / "screenshots"))
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; scripts/test installs it)"
        if os.environ.get("AIFACTORY_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and AIFACTORY_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


@pytest.fixture(scope="module")
def live(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app with the demo, its reconciler every 0.3 s, jobs on the local executor (4 GPU slots)."""
    folder = tmp_path_factory.mktemp("portal")
    url = dbs.fresh_sqlite(_sqlite_template, folder / "portal.db")
    engine = make_engine(url)
    info: DemoInfo = seed_demo(SqlUnitOfWorkFactory(make_session_factory(engine)), SystemClock())
    engine.dispose()
    server, thread, base = _serve(
        Settings(database_url=url, data_dir=folder / "data", reconcile_seconds=0.3, gpu_slots=4, env="test")
    )
    yield LiveServer(url=base, info=info, thread=thread, server=server)
    server.should_exit = True
    thread.join(timeout=10)


def sign_in(page, live: LiveServer, who: str, password: str = DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live.url}/login")
    page.get_by_label("E-mail address").fill(PEOPLE.get(who, who))
    page.get_by_label("Password or API token").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def shot(page, name: str, *, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
    """A screenshot for CI's output folder (looked at by people: layout, overflow, charts)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def no_horizontal_overflow(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def run_hello_gpu(page, greeting: str, repeat: int) -> None:  # type: ignore[no-untyped-def]
    """From a project page: the Hello-GPU template run through its form, its log followed live to the end."""
    page.get_by_role("link", name="Submit a job").click()
    page.get_by_role("link", name="Hello, GPU").click()
    page.get_by_label("greeting").fill(greeting)
    page.get_by_label("repeat").fill(str(repeat))
    page.get_by_role("button", name="Run").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.locator("#log")).to_contain_text("\n".join([greeting] * repeat), timeout=30_000)
    expect(page.locator("#job-state")).to_have_text("completed", timeout=30_000)
