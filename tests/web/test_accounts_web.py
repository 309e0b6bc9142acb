"""Accounts that hold, through the portal's forms (SQLite and PostgreSQL): the password policy with its reasons
(in German too), the verification banner and its link, a password reset from the e-mail that ends every old
session, and a sign-in lockout (429, Retry-After, the same for an address without an account)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aifactory.demo import DEMO_PASSWORD
from aifactory.services import proposals
from aifactory.services.context import Actor
from tests.support.demo import PEOPLE
from tests.support.mail import MailSink, deliver_to, link_in, smtp_sink
from tests.support.portal import Portal, WebClient

STRONG = "copper-kettle-sings-at-dawn"


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    with smtp_sink() as sink:
        yield sink


def sign_up(web: WebClient, password: str, email: str = "jonas@sonne.example"):
    web.get("/signup")
    form = {"organization": "Bäckerei Sonne", "kind": "sme", "country": "DE", "name": "Jonas Sonne"}
    return web.post("/signup", {**form, "email": email, "password": password, "password2": password})


def test_a_guessable_password_is_refused_saying_why_in_english_and_german(portal: Portal) -> None:
    web = portal.browser()
    r = sign_up(web, "aaaaaaaaaaaa")
    assert r.status_code == 422 and "too easy to guess" in r.text and "repeats characters" in r.text
    assert "must not contain your e-mail address" in sign_up(web, "jonas-sonne-baker-77").text
    assert "at least 12 characters" in sign_up(web, "kurz-1").text
    web.post("/lang", {"lang": "de", "next": "/signup"})
    german = sign_up(web, "aaaaaaaaaaaa")
    assert german.status_code == 422 and "zu leicht zu erraten" in german.text
    with portal.api.uow_factory(write=False) as uow:
        assert uow.users.by_email("jonas@sonne.example") is None


def test_a_sign_up_sees_the_banner_until_the_mailed_link_verifies_it(portal: Portal, smtp: MailSink) -> None:
    web = portal.browser()
    assert sign_up(web, STRONG).status_code == 303
    page = web.get("/")
    assert "Please verify your e-mail address" in page.text and "Resend the e-mail" in page.text
    resent = web.post("/account/verify/resend", {"next": "/"})
    assert resent.status_code == 303
    deliver_to(smtp, portal.api.uow_factory, portal.api.clock)
    first, second = smtp.to("jonas@sonne.example")
    assert web.get(link_in(first, "/verify-email")).status_code == 400  # replaced by the newer link
    verified = web.get(link_in(second, "/verify-email"))
    assert verified.status_code == 200 and "your e-mail address is verified" in verified.text
    assert "Please verify your e-mail address" not in web.get("/").text


def test_a_password_reset_from_the_mail_ends_every_old_session(portal: Portal, smtp: MailSink) -> None:
    signed_in = portal.browser("anna")
    assert "Anna Petersen" in signed_in.get("/").text
    web = portal.browser()
    web.get("/forgot-password")
    known = web.post("/forgot-password", {"email": PEOPLE["anna"]})
    unknown = web.post("/forgot-password", {"email": "nobody@nowhere.example"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/login"
    deliver_to(smtp, portal.api.uow_factory, portal.api.clock)
    (mail,) = [m for m in smtp.to(PEOPLE["anna"]) if "/reset-password" in m.text()]
    link = link_in(mail, "/reset-password")
    form = web.get(link)
    assert form.status_code == 200 and PEOPLE["anna"] in form.text
    token = link.split("token=", 1)[1]
    weak = web.post("/reset-password", {"token": token, "new": "aaaaaaaaaaaa", "new2": "aaaaaaaaaaaa"})
    assert weak.status_code == 422 and "too easy to guess" in weak.text
    done = web.post("/reset-password", {"token": token, "new": STRONG, "new2": STRONG})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert "Anna Petersen" not in signed_in.get("/").text  # the old session ended
    assert web.get(link).status_code == 400  # the link works once
    fresh = portal.browser()
    fresh.get("/login")
    assert fresh.post("/login", {"email": PEOPLE["anna"], "password": DEMO_PASSWORD}).status_code == 401
    fresh.sign_in(PEOPLE["anna"], STRONG)


def test_repeated_failures_lock_the_sign_in_without_saying_whether_the_account_exists(portal: Portal) -> None:
    web = portal.browser()
    web.get("/login")
    pages = {}
    for email in (PEOPLE["anna"], "ghost@nowhere.example"):
        for _ in range(5):
            assert web.post("/login", {"email": email, "password": "wrong-wrong-wrong"}).status_code == 401
        locked = web.post("/login", {"email": email, "password": DEMO_PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
        assert "Too many attempts" in locked.text and "aif_session" not in locked.cookies
        pages[email] = locked.text.replace(email, "EMAIL")
    assert pages[PEOPLE["anna"]] == pages["ghost@nowhere.example"]
    other = portal.browser()
    other.sign_in(PEOPLE["lars"])  # another account from the same address still signs in


def test_a_german_sign_up_gets_its_verification_mail_in_german(portal: Portal, smtp: MailSink) -> None:
    web = portal.browser()
    web.get("/signup")
    web.post("/lang", {"lang": "de", "next": "/signup"})
    assert sign_up(web, STRONG, email="lena@sonne.example").status_code == 303
    assert "Bitte bestätigen Sie Ihre E-Mail-Adresse" in web.get("/").text
    deliver_to(smtp, portal.api.uow_factory, portal.api.clock)
    (mail,) = smtp.to("lena@sonne.example")
    assert "/verify-email?token=" in mail.text() and "Bitte bestätigen Sie Ihre E-Mail-Adresse" in mail.text()


def test_an_unverified_sign_up_cannot_submit_and_is_told_why(portal: Portal) -> None:
    web = portal.browser()
    assert sign_up(web, STRONG).status_code == 303
    info, api = portal.api.info, portal.api
    with api.uow_factory() as uow:
        actor = Actor(uow.users.by_email("jonas@sonne.example"))
        draft = proposals.create_draft(
            uow,
            api.clock,
            actor,
            call_id=info.call_ids["playground"],
            title="Bake less waste",
            abstract="Daily demand forecasts per branch, so that we bake less waste.",
            requested_gpu_hours=100,
            resource_id=info.resource_ids["develop"],
            duration_months=1,
        )
    web.get(f"/proposals/{draft.id}")
    r = web.post(f"/proposals/{draft.id}/submit", follow=True)
    assert r.status_code == 200 and "Verify your e-mail address first" in r.text
    with api.uow_factory(write=False) as uow:
        assert uow.proposals.get(draft.id).status.value == "draft"


def test_changing_the_password_applies_the_policy_and_the_page_says_the_address_is_verified(portal: Portal) -> None:
    web = portal.browser("anna")
    page = web.get("/account")
    assert "address verified" in page.text
    weak = {"current": DEMO_PASSWORD, "new": "aaaaaaaaaaaa", "new2": "aaaaaaaaaaaa"}
    r = web.post("/account/password", weak)
    assert r.status_code == 422 and "repeats characters" in r.text
    strong = {"current": DEMO_PASSWORD, "new": STRONG, "new2": STRONG}
    assert web.post("/account/password", strong).status_code == 303
    portal.browser().sign_in(PEOPLE["anna"], STRONG)
