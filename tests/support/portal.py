"""The portal as the tests drive it: a TestClient that keeps its cookies, fills in CSRF tokens and signs in
as the demo's people."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from aifactory.demo import DEMO_PASSWORD
from tests.support.api import Api
from tests.support.demo import PEOPLE

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class WebClient:
    """One browser: its own cookies; ``post`` sends the CSRF token of its current seed/session."""

    def __init__(self, client: TestClient):
        self.client = client
        self._csrf: str | None = None

    def get(self, path: str, **kw: Any):
        r = self.client.get(path, **kw)
        if "text/html" in r.headers.get("content-type", "") and CSRF_RE.search(r.text):
            self._csrf = csrf_of(r.text)
        return r

    def csrf(self) -> str:
        if self._csrf is None:
            self.get("/")
        assert self._csrf is not None
        return self._csrf

    def post(self, path: str, data: dict[str, Any] | None = None, *, follow: bool = False, **kw: Any):
        body = {"csrf_token": self.csrf(), **(data or {})}
        r = self.client.post(path, data=body, follow_redirects=follow, **kw)
        if follow and CSRF_RE.search(r.text):
            self._csrf = csrf_of(r.text)
        return r

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        self.get("/login")
        r = self.post("/login", {"email": email, "password": password, "next": "/"})
        assert r.status_code == 303, r.text
        self._csrf = None  # the session's token differs from the anonymous one


@dataclass
class Portal:
    api: Api

    def browser(self, who: str | None = None) -> WebClient:
        """A fresh browser, signed in as a demo person (a key of tests.support.demo.PEOPLE) or anonymous."""
        web = WebClient(TestClient(self.api.client.app, base_url="http://testserver"))
        if who is not None:
            web.sign_in(PEOPLE[who])
        return web


def declare_no_conflict(web: WebClient, proposal_id: int) -> None:
    """The reviewer's declaration of no conflict of interest on the portal, which comes before scoring."""
    r = web.post(f"/reviews/{proposal_id}/declaration", {"conflict": "no"})
    assert r.status_code == 303, r.text
