"""Browser tests: Playwright drives Debian's Chromium (headless; never a downloaded browser) against the real
app served by uvicorn on a free port, on a SQLite file seeded with the demo, with the reconciler running.

Without /usr/bin/chromium they skip with the reason, except where AIFACTORY_REQUIRE_BROWSER=1 (scripts/test,
CI): there they fail. Screenshots go to $AIFACTORY_SCREENSHOTS (default ci-output/screenshots)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from aifactory.config import Settings
from tests.support.demo import seed_demo_sqlite
from tests.support.live import LiveServer, live_server

CHROMIUM = os.environ.get("AIFACTORY_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    """A context that lets the vendored axe-core be injected despite the portal's CSP."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def live(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app with the demo, its reconciler every 0.3 s, jobs on the local executor (4 GPU slots)."""
    folder = tmp_path_factory.mktemp("portal")
    seeded = seed_demo_sqlite(_sqlite_template, folder / "portal.db")
    settings = Settings(
        database_url=seeded.url, data_dir=folder / "data", reconcile_seconds=0.3, gpu_slots=4, env="test"
    )
    with live_server(settings, seeded.info) as server:
        yield server
