"""The portal parses and submits a job spec off the event loop: other pages answer while one is parsed, and a
hostile spec (a YAML alias bomb) is refused with the form shown again."""

from __future__ import annotations

import pytest

from aifactory.web.routes import projects as project_pages
from tests.support.hostile import BOMB, while_parsing
from tests.support.portal import Portal


def test_the_portal_submits_off_the_event_loop(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    web = portal.browser("anna")
    web.get("/projects/1/submit")
    client = portal.api.client  # one event loop for both requests (a client used as a context manager)
    cookies = "; ".join(f"{k}={v}" for k, v in web.client.cookies.items())
    form = {"csrf_token": web.csrf(), "spec": BOMB}
    page, submitted = while_parsing(
        lambda gate: monkeypatch.setattr(project_pages, "_spec_document", gate(project_pages._spec_document)),
        lambda: client.post("/projects/1/submit", data=form, headers={"Cookie": cookies}),
        lambda: client.get("/calls"),
    )
    assert page.status_code == 200
    assert submitted.status_code == 422 and "alias" in submitted.text
