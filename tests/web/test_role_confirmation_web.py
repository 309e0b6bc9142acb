"""Role changes on the operator's users page take two steps, without JavaScript: a role button only shows, in
words, what would change for whom (nothing is changed); the confirmation's button, posting the same values with
``confirm=yes`` and the CSRF token, changes it. Operators only."""

from __future__ import annotations

from tests.support.portal import Portal

ANNA = "Anna Petersen (anna@backhaus-kiel.example)"


def roles_of(portal: Portal, user_id: int) -> tuple[bool, bool, bool]:
    with portal.api.uow_factory(write=False) as uow:
        user = uow.users.get(user_id)
        assert user is not None
        return user.is_operator, user.is_reviewer, user.active


def test_a_role_button_only_asks_and_the_confirmation_changes_the_role(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    anna = api.user_id("anna")
    url = f"/operator/users/{anna}/roles"
    before = api.counts()
    asked = web.post(url, {"role": "is_operator", "value": "1", "offset": "50"})
    assert asked.status_code == 200
    page = asked.text
    assert f"{ANNA} will become an operator: full control of calls, decisions, users and the ledger." in page
    assert "reviewer" not in page.split("<main", 1)[-1].lower()  # only what changes is listed
    assert 'name="confirm" value="yes"' in page and 'name="role" value="is_operator"' in page
    assert 'name="value" value="1"' in page and 'name="offset" value="50"' in page and 'name="csrf_token"' in page
    assert 'href="/operator/users?offset=50"' in page  # Cancel: back to the page the button was on
    assert api.counts() == before and roles_of(portal, anna) == (False, False, True)  # nothing changed, no audit
    again = web.client.get(url, follow_redirects=False)  # the language switch or a reload: back to the users
    assert again.status_code == 303 and again.headers["location"] == "/operator/users"

    done = web.post(url, {"role": "is_operator", "value": "1", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == "/operator/users"
    assert roles_of(portal, anna) == (True, False, True)
    assert "Roles of Anna Petersen changed." in web.get("/operator/users").text

    taking_back = web.post(url, {"role": "is_operator", "value": "0"}).text
    assert f"{ANNA} will no longer be an operator." in taking_back and roles_of(portal, anna)[0] is True
    web.post(url, {"role": "active", "value": "0"})
    assert roles_of(portal, anna) == (True, False, True)
    assert f"{ANNA} will be deactivated" in web.post(url, {"role": "active", "value": "0"}).text
    assert web.post(url, {"role": "active", "value": "0", "confirm": "yes"}).status_code == 303
    assert roles_of(portal, anna) == (True, False, False)


def test_when_nothing_would_change_the_page_says_so_and_nothing_is_applied(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    anna = api.user_id("anna")
    url = f"/operator/users/{anna}/roles"
    before = api.counts()
    page = web.post(url, {"role": "is_reviewer", "value": "0"}).text  # Anna is no reviewer
    assert f"Nothing changes: {ANNA} already has these roles." in page and 'name="confirm"' not in page
    done = web.post(url, {"role": "is_reviewer", "value": "0", "confirm": "yes"}, follow=True)
    assert "Nothing changed for Anna Petersen." in done.text
    assert api.counts() == before  # not even an audit entry


def test_neither_step_goes_without_the_csrf_token(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    anna = api.user_id("anna")
    url = f"/operator/users/{anna}/roles"
    for extra in ({}, {"confirm": "yes"}):
        forged = web.client.post(url, data={"role": "is_operator", "value": "1", **extra})
        assert forged.status_code == 403
        wrong = web.client.post(url, data={"role": "is_operator", "value": "1", "csrf_token": "0" * 64, **extra})
        assert wrong.status_code == 403
    assert roles_of(portal, anna) == (False, False, True)


def test_only_an_operator_changes_roles_or_sees_the_question(portal: Portal) -> None:
    api = portal.api
    anna, schulz = api.user_id("anna"), api.user_id("schulz")
    for who, target in (("anna", anna), ("schulz", anna), ("schulz", schulz)):
        web = portal.browser(who)
        for extra in ({}, {"confirm": "yes"}):
            r = web.post(f"/operator/users/{target}/roles", {"role": "is_operator", "value": "1", **extra})
            assert r.status_code == 403 and "will become an operator" not in r.text
    assert roles_of(portal, anna)[0] is False and roles_of(portal, schulz)[0] is False


def test_an_operator_cannot_be_asked_to_demote_themself(portal: Portal) -> None:
    web = portal.browser("operator")
    me = portal.api.user_id("operator")
    for extra in ({}, {"confirm": "yes"}):
        r = web.post(f"/operator/users/{me}/roles", {"role": "is_operator", "value": "0", **extra})
        assert r.status_code == 409 and "will no longer be an operator" not in r.text
    assert roles_of(portal, me)[0] is True


def test_the_german_confirmation_is_german(portal: Portal) -> None:
    web = portal.browser("operator")
    web.client.cookies.set("aif_lang", "de")
    anna = portal.api.user_id("anna")
    page = web.post(f"/operator/users/{anna}/roles", {"role": "is_reviewer", "value": "1"}).text
    assert f"{ANNA} erhält die Rolle Gutachter" in page and "Noch ist nichts geändert." in page
    assert ">Bestätigen</button>" in page and ">Abbrechen</a>" in page
    assert "will become" not in page and ">Confirm<" not in page and ">Cancel<" not in page
    done = web.post(
        f"/operator/users/{anna}/roles", {"role": "is_reviewer", "value": "1", "confirm": "yes"}, follow=True
    )
    assert "Rollen von Anna Petersen geändert." in done.text
