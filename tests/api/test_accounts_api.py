"""Accounts that hold, through the API on SQLite and PostgreSQL: e-mail verification at sign-up (and the rule that
an unverified account submits no proposal), password reset by e-mail, throttled sign-in with 429 and
Retry-After, and the password policy. E-mails go through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.test_workflow_api import draft_body
from tests.support.api import Api, assert_problem
from tests.support.mail import MailSink, deliver_to, link_in, smtp_sink

STRONG = "copper-kettle-sings-at-dawn"


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    with smtp_sink() as sink:
        yield sink


def register(api: Api, email: str = "new@startup.example") -> dict:
    body = {
        "organization": {"name": "Startup GmbH", "kind": "sme", "country": "DE", "sectors": []},
        "user": {"email": email, "name": "Nina Neu"},
    }
    return api.ok("POST", "/register", json=body, status=201)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_sign_up_is_unverified_until_the_mailed_link_is_opened(api: Api, smtp: MailSink) -> None:
    out = register(api)
    assert out["user"]["email_verified"] is False
    deliver_to(smtp, api.uow_factory, api.clock)
    (mail,) = smtp.to("new@startup.example")
    link = link_in(mail, "/verify-email")
    token = link.split("token=", 1)[1]
    verified = api.ok("POST", "/auth/verify-email", json={"token": token})
    assert verified["email_verified"] is True
    me = api.ok("GET", "/me", headers=bearer(out["token"]["token"]))
    assert me["email_verified"] is True
    again = api.post("/auth/verify-email", json={"token": token})  # single use
    assert_problem(again, 422, "token")


def test_an_unverified_account_cannot_submit_a_proposal(api: Api, smtp: MailSink) -> None:
    out = register(api)
    auth = bearer(out["token"]["token"])
    team = [{"name": "Nina Neu", "email": "new@startup.example", "role": "PI"}]
    created = api.post("/proposals", json=draft_body(api, team=team), headers=auth)
    assert created.status_code == 201, created.text
    r = api.post(f"/proposals/{created.json()['id']}/submit", headers=auth)
    problem = assert_problem(r, 403)
    assert "verify your e-mail address" in problem["detail"]
    assert api.post("/auth/verify-email/resend", headers=auth).status_code == 202
    deliver_to(smtp, api.uow_factory, api.clock)
    first, second = smtp.to("new@startup.example")
    old = link_in(first, "/verify-email").split("token=", 1)[1]
    assert_problem(api.post("/auth/verify-email", json={"token": old}), 422, "token")  # a newer link replaced it
    api.ok("POST", "/auth/verify-email", json={"token": link_in(second, "/verify-email").split("token=", 1)[1]})
    submitted = api.ok("POST", f"/proposals/{created.json()['id']}/submit", headers=auth)
    assert submitted["status"] != "draft"
    assert_problem(api.post("/auth/verify-email/resend", headers=auth), 409)


def test_a_password_reset_from_the_mail_ends_the_old_password(api: Api, smtp: MailSink) -> None:
    email = "anna@backhaus-kiel.example"
    asked = api.ok("POST", "/auth/password-reset", json={"email": email}, status=202)
    unknown = api.ok("POST", "/auth/password-reset", json={"email": "nobody@nowhere.example"}, status=202)
    assert asked == unknown  # the same answer whether the address has an account or not
    deliver_to(smtp, api.uow_factory, api.clock)
    assert smtp.to("nobody@nowhere.example") == []
    (mail,) = [m for m in smtp.to(email) if "/reset-password" in m.text()]
    token = link_in(mail, "/reset-password").split("token=", 1)[1]
    weak = api.post("/auth/password-reset/confirm", json={"token": token, "password": "aaaaaaaaaaaa"})
    assert "too easy to guess" in assert_problem(weak, 422, "password")["detail"]
    api.ok("POST", "/auth/password-reset/confirm", json={"token": token, "password": STRONG})
    reused = api.post("/auth/password-reset/confirm", json={"token": token, "password": STRONG + "x"})
    assert_problem(reused, 422, "token")
    ok = api.post("/auth/token", json={"email": email, "password": STRONG, "name": "cli"})
    assert ok.status_code == 201, ok.text


def test_repeated_failures_lock_out_with_retry_after_and_an_audit_event(api: Api) -> None:
    email = "anna@backhaus-kiel.example"
    for _ in range(5):
        r = api.post("/auth/token", json={"email": email, "password": "wrong-wrong-wrong", "name": "x"})
        assert r.status_code == 401
    locked = api.post("/auth/token", json={"email": email, "password": "bake-less-waste", "name": "x"})
    problem = assert_problem(locked, 429)
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    assert "too many attempts" in problem["detail"]
    ghost = "ghost@nowhere.example"  # an address without an account locks out the same way
    for _ in range(5):
        api.post("/auth/token", json={"email": ghost, "password": "wrong-wrong-wrong", "name": "x"})
    assert api.post("/auth/token", json={"email": ghost, "password": "x", "name": "x"}).status_code == 429
    with api.uow_factory(write=False) as uow:
        from aifactory.domain.access import PageRequest

        events = uow.audit.list(PageRequest(limit=100), action="auth.locked_out").items
    keys = {(e.after or {}).get("key") for e in events}
    assert {email, ghost} <= keys


def test_an_operator_can_vouch_for_an_address_and_nobody_else_can(api: Api) -> None:
    out = register(api)
    user_id = out["user"]["id"]
    refused = api.patch(f"/users/{user_id}/roles", "anna", json={"email_verified": True})
    assert refused.status_code == 403
    vouched = api.ok("PATCH", f"/users/{user_id}/roles", "operator", json={"email_verified": True})
    assert vouched["email_verified"] is True
    again = api.ok("PATCH", f"/users/{user_id}/roles", "operator", json={"email_verified": False})
    assert again["email_verified"] is False


def test_a_reset_link_expires_after_an_hour_and_a_newer_one_retires_it(api: Api, smtp: MailSink) -> None:
    email = "daan@gridwise.example"
    for _ in range(2):
        api.ok("POST", "/auth/password-reset", json={"email": email}, status=202)
    deliver_to(smtp, api.uow_factory, api.clock)
    first, second = [m for m in smtp.to(email) if "/reset-password" in m.text()]
    tokens = [link_in(m, "/reset-password").split("token=", 1)[1] for m in (first, second)]
    body = {"token": tokens[0], "password": STRONG}
    assert_problem(api.post("/auth/password-reset/confirm", json=body), 422, "token")  # retired by the second
    api.clock.advance(minutes=61)
    body = {"token": tokens[1], "password": STRONG}
    assert_problem(api.post("/auth/password-reset/confirm", json=body), 422, "token")  # expired


def test_a_malformed_address_is_refused_naming_the_field(api: Api) -> None:
    assert_problem(api.post("/auth/password-reset", json={"email": "not-an-address"}), 422, "email")
