"""Single sign-on on the portal against the real OpenID provider (both databases): the buttons, the linking
rules as a person meets them, the first sign-in's form, and every way a sign-in can fail: a readable page,
never a 500, nothing signed in."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from aifactory.web import security as sec
from tests.support.api import Api
from tests.support.oidc import ADA, GRACE, MALLORY, DevProvider, path_of, walk
from tests.support.sso import CALLBACK, audit_actions, browser, links, query, sign_in, start, user


def _signed_in_as(web, name: str) -> None:
    page = web.get("/account")
    assert page.status_code == 200 and name in page.text, page.text[:500]


def test_the_sign_in_page_offers_each_provider_in_both_languages(sso_api: Api) -> None:
    web = browser(sso_api)
    page = web.get("/login")
    assert "Sign in with Dev AAI" in page.text and "Sign in with Other AAI" in page.text
    web.client.cookies.set(sec.LANG_COOKIE, "de")
    assert "Mit Dev AAI anmelden" in web.get("/login").text


def test_a_new_person_is_placed_by_a_group_rule_and_linked(sso_api: Api) -> None:
    login, password, sub, email = ADA
    web = browser(sso_api)
    answer = sign_in(web, login, password, next_path="/proposals")
    assert answer.status_code == 303 and answer.headers["location"] == "/proposals"
    assert sec.SESSION_COOKIE in web.client.cookies
    _signed_in_as(web, "Ada Lovelace")
    ada = user(sso_api.uow_factory, email)
    assert ada is not None and ada.organization_id == sso_api.info.org_ids["Forschungszentrum Nord"]
    assert not ada.is_org_admin and ada.password_hash is None
    assert [(k.provider, k.subject) for k in links(sso_api.uow_factory, ada.stored_id)] == [("devaai", sub)]
    assert {"user.created", "user.sso_linked", "user.signed_in"} <= set(
        audit_actions(sso_api.uow_factory, ada.stored_id)
    )


def test_an_existing_account_is_linked_by_its_verified_email(sso_api: Api, provider: DevProvider) -> None:
    anna = user(sso_api.uow_factory, "anna@backhaus-kiel.example")
    assert anna is not None
    login, password = provider.add_person(sub=f"anna-{uuid.uuid4().hex[:8]}", email=anna.email, name="Anna P.")
    web = browser(sso_api)
    assert sign_in(web, login, password).status_code == 303
    _signed_in_as(web, anna.name)  # her account, her name: no second account
    assert len(links(sso_api.uow_factory, anna.stored_id)) == 1


def test_an_unverified_email_links_nothing_and_makes_no_one(sso_api: Api, provider: DevProvider) -> None:
    lars = user(sso_api.uow_factory, "lars@fz-nord.example")
    assert lars is not None
    login, password = provider.add_person(sub=f"lars-{uuid.uuid4().hex[:8]}", email=lars.email, verified=False)
    answers = []
    for who in ((login, password), (MALLORY[0], MALLORY[1])):  # an account exists / none does: the same answer
        web = browser(sso_api)
        answer = sign_in(web, *who)
        assert answer.status_code == 403 and "E-mail address not confirmed" in answer.text
        assert sec.SESSION_COOKIE not in web.client.cookies
        answers.append(answer.text.replace(lars.email, "").replace(MALLORY[3], ""))
    assert links(sso_api.uow_factory, lars.stored_id) == []
    assert user(sso_api.uow_factory, MALLORY[3]) is None


def test_later_sign_ins_match_the_subject_even_when_the_email_changes(sso_api: Api, provider: DevProvider) -> None:
    sub = f"baker-{uuid.uuid4().hex[:8]}"
    login, password = provider.add_person(sub=sub, email=f"{sub}@backhaus-kiel.example", name="Ben Baker")
    assert sign_in(browser(sso_api), login, password).status_code == 303  # joins Backhaus Kiel (domain rule)
    baker = user(sso_api.uow_factory, f"{sub}@backhaus-kiel.example")
    assert baker is not None and baker.organization_id == sso_api.info.org_ids["Backhaus Kiel GmbH"]
    login, password = provider.add_person(sub=sub, email="ben@elsewhere.example", verified=False, name="Ben Baker")
    web = browser(sso_api)
    assert sign_in(web, login, password).status_code == 303
    _signed_in_as(web, "Ben Baker")
    (link,) = links(sso_api.uow_factory, baker.stored_id)
    assert link.email == "ben@elsewhere.example"
    assert user(sso_api.uow_factory, "ben@elsewhere.example") is None


def test_a_person_no_rule_places_names_their_organization_on_a_form(sso_api: Api) -> None:
    login, password, _, email = GRACE
    web = browser(sso_api)
    answer = sign_in(web, login, password)
    assert answer.status_code == 303 and answer.headers["location"] == "/sso/welcome"
    assert sec.SESSION_COOKIE not in web.client.cookies
    form = web.get("/sso/welcome")
    assert form.status_code == 200 and email in form.text and "Grace Hopper" in form.text
    fields = {"organization": "Hopper Compilers", "country": "DE", "sectors": "manufacturing", "name": "Grace Hopper"}
    refused = web.post("/sso/welcome", fields)  # no kind chosen: the form again, the error at its field
    assert refused.status_code == 422 and 'id="e-kind"' in refused.text
    done = web.post("/sso/welcome", fields | {"kind": "startup"})
    assert done.status_code == 303 and sec.SESSION_COOKIE in web.client.cookies
    grace = user(sso_api.uow_factory, email)
    assert grace is not None and grace.is_org_admin
    web.get("/")  # the session's CSRF token
    assert web.post("/sso/welcome", fields | {"kind": "startup"}).status_code == 400  # done: not twice
    assert sign_in(browser(sso_api), login, password).headers["location"] == "/"  # linked: straight in


def test_a_state_that_is_not_this_browsers_is_refused(sso_api: Api) -> None:
    web = browser(sso_api)
    answer = walk(start(web).headers["location"], CALLBACK, ADA[0], ADA[1])
    forged = answer.replace(f"state={query(answer)['state']}", "state=forged-state-value")
    refused = web.get(path_of(forged))
    assert refused.status_code == 400 and "Sign-in expired" in refused.text
    other = browser(sso_api)  # the real state, in a browser that did not start the sign-in
    assert other.get(path_of(answer)).status_code == 400
    assert sec.SESSION_COOKIE not in web.client.cookies and sec.SESSION_COOKIE not in other.client.cookies


def test_a_replayed_answer_and_a_replayed_code_are_refused(sso_api: Api) -> None:
    web = browser(sso_api)
    answer = walk(start(web).headers["location"], CALLBACK, ADA[0], ADA[1])
    assert web.get(path_of(answer), follow_redirects=False).status_code == 303
    web.client.cookies.clear()
    web.get("/login")
    web.client.cookies.set("aif_sso", query(answer)["state"], path="/sso/")
    assert web.get(path_of(answer)).status_code == 400  # the sign-in was taken
    fresh = start(web)  # a new sign-in of this browser, handed the old code: the provider refuses it
    again = {
        "code": query(answer)["code"],
        "state": query(fresh.headers["location"])["state"],
        "iss": query(answer)["iss"],
    }
    refused = web.get(f"/sso/devaai/callback?{urlencode(again)}")
    assert refused.status_code == 400 and "Sign-in refused" in refused.text and "invalid_grant" in refused.text


def test_an_id_token_with_another_nonce_is_refused(sso_api: Api) -> None:
    web = browser(sso_api)
    location = start(web).headers["location"]
    tampered = location.replace(f"nonce={query(location)['nonce']}", "nonce=not-the-one-the-factory-derived")
    refused = web.get(path_of(walk(tampered, CALLBACK, ADA[0], ADA[1])))
    assert refused.status_code == 400 and "Invalid claim: &#39;nonce&#39;" in refused.text
    assert sec.SESSION_COOKIE not in web.client.cookies


def test_a_provider_that_does_not_answer_gets_a_readable_page(sso_api: Api) -> None:
    web = browser(sso_api)
    page = start(web, "otheraai")
    assert page.status_code == 503 and "Other AAI cannot be reached right now" in page.text
    assert "Back to sign-in" in page.text
    web.client.cookies.set(sec.LANG_COOKIE, "de")
    assert "Anmeldedienst nicht erreichbar" in start(web, "otheraai").text


def test_a_sign_in_cancelled_at_the_provider_and_an_unknown_provider(sso_api: Api) -> None:
    web = browser(sso_api)
    state = query(start(web).headers["location"])["state"]
    cancelled = web.get(f"/sso/devaai/callback?error=access_denied&state={state}")
    assert cancelled.status_code == 400 and "Sign-in cancelled" in cancelled.text
    assert web.get("/sso/nosuch/callback?code=x&state=y").status_code == 404
    assert web.get("/sso/nosuch/start").status_code == 404
