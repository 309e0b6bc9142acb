"""The real OpenID provider of the single sign-on tests: Node's oidc-provider, started by
``scripts/oidc-dev-provider start`` (scripts/test does, and exports ``AIFACTORY_TEST_OIDC_*``). Without it the
tests skip with the reason, except where AIFACTORY_REQUIRE_OIDC=1 (CI): there they fail.

``walk`` plays the person's browser at the provider with plain HTTP: it follows the redirects, fills in the
provider's sign-in form, and stops at the first redirect to the factory."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from aifactory.oidc.settings import OidcProviderSettings

REQUIRE = "AIFACTORY_REQUIRE_OIDC"
GROUP = "urn:geant:example.org:group"
ADA_GROUP = f"{GROUP}:uni-example:ai-lab#aai.example.org"
# the provider's own people (scripts/oidc/provider.mjs): login -> (password, sub, e-mail)
ADA = ("ada", "ada-signs-in", "ada-7f3c", "ada@uni-example.de")
GRACE = ("grace", "grace-signs-in", "grace-91d2", "grace@startup-example.eu")
MALLORY = ("mallory", "mallory-signs-in", "mallory-0bad", "mallory@uni-example.de")
_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass(frozen=True)
class DevProvider:
    issuer: str
    client_id: str
    client_secret: str

    def settings(self, name: str = "devaai", **extra: Any) -> OidcProviderSettings:
        values: dict[str, Any] = {
            "name": name,
            "title": "Dev AAI",
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scopes": ["openid", "email", "profile", "groups"],
        }
        return OidcProviderSettings(**(values | extra))

    def add_person(
        self, *, sub: str, email: str | None, verified: bool = True, name: str = "", groups: Sequence[str] = ()
    ) -> tuple[str, str]:
        """A new person at the provider (or one replaced, same login): returns (login, password)."""
        login, password = f"p-{sub}", secrets.token_urlsafe(12)
        person: dict[str, Any] = {"login": login, "password": password, "sub": sub, "email_verified": verified}
        person |= {"name": name or login, "groups": list(groups)} | ({"email": email} if email else {})
        httpx.post(f"{self.issuer}/dev/people", json=person, timeout=5).raise_for_status()
        return login, password


def dev_provider() -> DevProvider:
    """The running development provider, or skip (fail under AIFACTORY_REQUIRE_OIDC=1) with the reason."""
    issuer = os.environ.get("AIFACTORY_TEST_OIDC_ISSUER")
    reason = None
    if not issuer:
        reason = "no OpenID provider: run scripts/oidc-dev-provider start and eval its env (scripts/test does)"
    else:
        try:
            httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=3).raise_for_status()
        except httpx.HTTPError as exc:
            reason = f"the OpenID provider at {issuer} does not answer ({type(exc).__name__})"
    if reason is not None:
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{reason} ({REQUIRE}=1)")
        pytest.skip(reason)
    assert issuer is not None
    return DevProvider(
        issuer, os.environ["AIFACTORY_TEST_OIDC_CLIENT_ID"], os.environ["AIFACTORY_TEST_OIDC_CLIENT_SECRET"]
    )


def walk(
    url: str,
    until: str,
    login: str | None = None,
    password: str | None = None,
    *,
    browser: httpx.Client | None = None,
    hops: int = 20,
) -> str:
    """From ``url`` (the provider's authorization request) through the provider's pages, signing in as
    ``login`` when it asks, to the first redirect starting with ``until``; returns that redirect's URL.
    ``browser``: the person's browser (its cookies), else a fresh one."""
    with httpx.Client(timeout=10) if browser is None else nullcontext(browser) as browser:
        response = browser.get(url)
        for _ in range(hops):
            location = response.headers.get("location")
            if location is not None:
                target = urljoin(str(response.url), location)
                if target.startswith(until):
                    return target
                response = browser.get(target)
                continue
            match = _ACTION.search(response.text)
            assert match and login and password, (
                f"stuck at {response.url}: {response.status_code} {response.text[:300]}"
            )
            response = browser.post(
                urljoin(str(response.url), match.group(1)), data={"login": login, "password": password}
            )
            login = password = None  # one sign-in per walk: a second form means the password was wrong
    raise AssertionError(f"no redirect to {until} within {hops} steps")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
