"""The portal's pages under load, who asks for them, and the sign-in through the portal's form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from _harness.http_load import get_request
from _harness.volume import ANNA

OPERATOR = "operator@jaif.example"
CSRF_INPUT = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: str | None  # the e-mail of the signed-in person, None: anonymous
    headers: dict[str, str] = field(default_factory=dict)


BASELINE = Page("baseline", "/api/v1/health", None)


def pages(project_id: int) -> list[Page]:
    return [
        Page("project", f"/projects/{project_id}", ANNA),
        Page("jobs", f"/projects/{project_id}/jobs", ANNA, {"HX-Request": "true"}),  # the htmx poll
        Page("kpis", "/operator/kpis", OPERATOR),
        Page("decisions", "/operator", OPERATOR),
        Page("home", "/", None),
    ]


PAGE_NAMES = [p.name for p in pages(0)]


def login_form(login_page: str, email: str, password: str) -> dict[str, str]:
    """The sign-in form's fields, with the CSRF token of the GET /login page (empty when it has none)."""
    m = CSRF_INPUT.search(login_page)
    return {"email": email, "password": password, "next": "/", "csrf_token": m.group(1) if m else ""}


def sign_in(client: Any, email: str, password: str) -> str:
    """The ``aif_session`` cookie after the portal's sign-in form (``client``: an httpx.Client or a Starlette
    TestClient, not following redirects)."""
    client.cookies.clear()
    page = client.get("/login", params={"next": "/"})
    form = login_form(page.text, email, password)
    if page.status_code != 200 or not form["csrf_token"] or "aif_csrf" not in client.cookies:
        raise RuntimeError(
            f"GET /login: HTTP {page.status_code}, csrf input {'found' if form['csrf_token'] else 'missing'}, "
            f"cookies {list(client.cookies.keys())}"
        )
    resp = client.post("/login", data=form)
    session = resp.cookies.get("aif_session") or client.cookies.get("aif_session")
    if resp.status_code not in (302, 303) or not session:
        raise RuntimeError(f"POST /login as {email}: HTTP {resp.status_code}: {resp.text[:300]!r}")
    client.cookies.clear()
    return str(session)


def requests_for(port: int, page: Page, cookies: list[str] | None, clients: int) -> list[bytes]:
    """One request per client, the sessions shared round-robin."""
    accept = "application/json" if page.path.startswith("/api/") else "text/html"
    out = []
    for i in range(clients):
        cookie = {"Cookie": f"aif_session={cookies[i % len(cookies)]}"} if cookies else {}
        out.append(get_request(port, page.path, cookie | page.headers, accept=accept))
    return out
