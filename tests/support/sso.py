"""Single sign-on as the portal tests drive it: a browser (``WebClient``) starts the sign-in on the portal,
``oidc.walk`` signs in at the real provider, and the browser brings the provider's answer back."""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from fastapi.testclient import TestClient
from httpx import Response

from aifactory.domain.access import PageRequest
from aifactory.domain.identity import User
from aifactory.domain.sso import SsoLink, s256
from aifactory.oidc.settings import OidcProviderSettings
from aifactory.store.uow import SqlUnitOfWorkFactory

from .api import Api
from .live import free_port
from .oidc import path_of, walk
from .portal import WebClient

PUBLIC_URL = "http://127.0.0.1:8123"  # what the test apps call themselves (the provider knows loopback URIs)
CALLBACK = f"{PUBLIC_URL}/sso/devaai/callback"


def down_provider() -> OidcProviderSettings:
    """A sign-in service nobody listens for (a free port of this machine): "provider down"."""
    return OidcProviderSettings(
        name="otheraai", title="Other AAI", issuer=f"http://127.0.0.1:{free_port()}", client_id="x", client_secret="y"
    )


def browser(api: Api) -> WebClient:
    return WebClient(TestClient(api.client.app, base_url="http://testserver"))


def start(web: WebClient, name: str = "devaai", next_path: str = "/") -> Response:
    """The "Sign in with …" link of the sign-in page: a redirect to the provider (or an error page)."""
    page = web.get(f"/login?next={next_path}")
    assert name == "nosuch" or f'href="/sso/{name}/start?next=' in page.text, page.text
    return web.get(f"/sso/{name}/start?next={quote(next_path, safe='')}", follow_redirects=False)


def sign_in(web: WebClient, login: str, password: str, next_path: str = "/") -> Response:
    """The whole sign-in in this browser; returns the factory's answer to the provider's redirect."""
    started = start(web, next_path=next_path)
    assert started.status_code == 303, started.text
    answer = walk(started.headers["location"], CALLBACK, login, password)
    return web.get(path_of(answer), follow_redirects=False)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass(frozen=True)
class CliSide:
    """What the command line client holds: its verifier, its state and its (pretend) loopback port."""

    verifier: str
    state: str
    port: int

    @classmethod
    def new(cls) -> CliSide:
        return cls(secrets.token_urlsafe(48), secrets.token_urlsafe(24), free_port())

    def page(self, name: str = "devaai") -> str:
        params = {"port": self.port, "challenge": s256(self.verifier), "state": self.state}
        return f"/sso/{name}/cli?{urlencode(params)}"

    def confirm(self, web: WebClient, name: str = "devaai") -> Response:
        """The confirmation page, then its "Continue" link: a redirect to the provider (or an error page)."""
        page = web.get(self.page(name))
        assert page.status_code == 200, page.text
        link = re.search(r'href="(/sso/[^"]+/cli/continue\?[^"]+)"', page.text)
        assert link, page.text
        return web.get(html.unescape(link.group(1)), follow_redirects=False)


def links(uow_factory: SqlUnitOfWorkFactory, user_id: int) -> list[SsoLink]:
    with uow_factory(write=False) as uow:
        return uow.sso.links_of(user_id)


def user(uow_factory: SqlUnitOfWorkFactory, email: str) -> User | None:
    with uow_factory(write=False) as uow:
        return uow.users.by_email(email)


def audit_actions(uow_factory: SqlUnitOfWorkFactory, entity_id: int) -> list[str]:
    with uow_factory(write=False) as uow:
        page = uow.audit.list(PageRequest(limit=200, offset=0), entity_type="user", entity_id=entity_id)
        return [e.action for e in page.items]
