"""``aifactory login --sso`` end to end, headless: the real CLI listens on its loopback port while the test
plays the person's browser (the factory's confirmation page, the real provider's sign-in form, the redirects
back), against the real app served over TCP."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from aifactory.cli import sso as cli_sso
from aifactory.config import Settings
from tests.support.cli import Cli
from tests.support.demo import seed_demo_sqlite
from tests.support.live import LiveServer, live_server
from tests.support.oidc import ADA, ADA_GROUP, DevProvider, dev_provider, walk
from tests.support.sso import down_provider

RULE = {"group": ADA_GROUP, "organization": "Forschungszentrum Nord"}
CONTINUE = re.compile(r'href="(/sso/devaai/cli/continue\?[^"]+)"')


@pytest.fixture
def provider() -> DevProvider:
    return dev_provider()


@pytest.fixture
def live(_sqlite_template: Path, tmp_path: Path, provider: DevProvider) -> Iterator[LiveServer]:
    seeded = seed_demo_sqlite(_sqlite_template, tmp_path / "cli.db")
    settings = Settings(
        database_url=seeded.url,
        data_dir=tmp_path / "data",
        reconcile_seconds=0,
        env="test",
        oidc_providers=[provider.settings(organizations=[RULE]), down_provider()],
    )
    with live_server(settings, seeded.info) as server:
        yield server


def person_at_the_browser(live: LiveServer, login: str, password: str, seen: list[str]):  # noqa: ANN201
    """What ``webbrowser.open`` would start: a person who confirms, signs in at the provider and is sent on
    to the CLI's port (all with one cookie jar, like a browser)."""

    def open_browser(url: str) -> bool:
        seen.append(url)
        with httpx.Client(timeout=10) as browser:
            page = browser.get(url)
            link = CONTINUE.search(page.text)
            assert link, page.text
            started = browser.get(urljoin(url, html.unescape(link.group(1))))
            assert started.status_code == 303, started.text
            answer = walk(started.headers["location"], f"{live.url}/sso/", login, password, browser=browser)
            to_cli = browser.get(answer)
            assert to_cli.status_code == 303, to_cli.text
            assert "close this tab" in browser.get(to_cli.headers["location"]).text
        return True

    return open_browser


def test_login_sso_stores_a_token_of_the_person(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    monkeypatch.setattr(cli_sso, "open_browser", person_at_the_browser(live, ADA[0], ADA[1], seen))
    cli = Cli(tmp_path / "config", live)
    out = cli("login", "--sso", "--provider", "devaai", "--url", live.url)
    assert f"as Ada Lovelace <{ADA[3]}>" in out.stdout
    assert seen and seen[0].startswith(f"{live.url}/sso/devaai/cli?port=") and seen[0] in out.stderr
    assert ADA[3] in cli("whoami").stdout
    tokens = cli.json("tokens", "list")
    assert any(t["name"] == "cli sso devaai" for t in tokens)


def test_login_sso_explains_what_it_cannot_do(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "config", live)
    assert "choose one with --provider (devaai, otheraai)" in cli.fails("login", "--sso", "--url", live.url)
    assert "no sign-in service 'nosuch'" in cli.fails("login", "--sso", "--provider", "nosuch", "--url", live.url)
    monkeypatch.setattr(cli_sso, "open_browser", lambda url: True)  # nobody signs in
    monkeypatch.setenv(cli_sso.ENV_TIMEOUT, "1")
    waited = cli("login", "--sso", "--provider", "devaai", "--url", live.url, code=1).stderr.strip().splitlines()
    assert waited[-1].startswith("error: no sign-in arrived within 1 s") and "/sso/devaai/cli?port=" in waited[-2]
