"""The team page, an invitation's link (sign up from it, or sign in and accept), and revoking and removing
through the portal; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.mail import MailSink, smtp_sink
from tests.support.portal import Portal
from tests.support.teams import mailed_token


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    with smtp_sink() as sink:
        yield sink


def team(portal: Portal) -> str:
    return f"/projects/{portal.api.project_of('bakery')}/team"


def test_the_pi_sees_members_and_invites(portal: Portal) -> None:
    anna = portal.browser("anna")
    page = anna.get(team(portal))
    assert page.status_code == 200
    assert 'data-member="anna@backhaus-kiel.example"' in page.text and 'data-member="lars@fz-nord.example"' in page.text
    r = anna.post(team(portal) + "/invite", {"email": "ben@backhaus-kiel.example", "role": "member"}, follow=True)
    assert r.status_code == 200 and "Invitation sent to ben@backhaus-kiel.example." in r.text
    assert 'data-invitation="ben@backhaus-kiel.example"' in r.text
    bad = anna.post(team(portal) + "/invite", {"email": "not an address", "role": "member"})
    assert bad.status_code == 422 and "is not a valid e-mail address" in bad.text and 'aria-invalid="true"' in bad.text


def test_members_see_the_team_but_change_nothing_and_others_see_nothing(portal: Portal) -> None:
    lars = portal.browser("lars")
    page = lars.get(team(portal))
    assert page.status_code == 200 and "Invite a colleague" not in page.text and "Remove" not in page.text
    assert lars.post(team(portal) + "/invite", {"email": "x@y.example", "role": "member"}).status_code == 403
    assert portal.browser("claire").get(team(portal)).status_code == 404
    assert portal.browser().get(team(portal), follow_redirects=False).status_code in (303, 401)


def test_a_newcomer_signs_up_from_the_link_and_lands_on_the_team(portal: Portal, smtp: MailSink) -> None:
    anna = portal.browser("anna")
    anna.post(team(portal) + "/invite", {"email": "ben@backhaus-kiel.example", "role": "member"})
    token = mailed_token(portal.api, smtp, "ben@backhaus-kiel.example")
    ben = portal.browser()
    page = ben.get(f"/invitations/{token}")
    assert page.status_code == 200 and "Create your account" in page.text and "ben@backhaus-kiel.example" in page.text
    weak = ben.post(f"/invitations/{token}/signup", {"name": "Ben", "password": "short", "password2": "short"})
    assert weak.status_code == 422 and 'id="e-password"' in weak.text
    secret = "Roggenbrot mit Kümmel 42"
    r = ben.post(f"/invitations/{token}/signup", {"name": "Ben Bäcker", "password": secret, "password2": secret})
    assert r.status_code == 303 and r.headers["location"] == team(portal)
    landed = ben.get(team(portal))
    assert 'data-member="ben@backhaus-kiel.example"' in landed.text and "Ben Bäcker" in landed.text
    with portal.api.uow_factory(write=False) as uow:
        user = uow.users.by_email("ben@backhaus-kiel.example")
        assert (
            user.email_verified_at is not None and user.organization_id == portal.api.info.org_ids["Backhaus Kiel GmbH"]
        )
    assert portal.browser().get(f"/invitations/{token}").status_code == 404  # used once


def test_a_person_with_an_account_signs_in_and_accepts(portal: Portal, smtp: MailSink) -> None:
    anna = portal.browser("anna")
    anna.post(team(portal) + "/invite", {"email": "lars@fz-nord.example", "role": "pi"})
    token = mailed_token(portal.api, smtp, "lars@fz-nord.example")
    assert "Sign in to accept" in portal.browser().get(f"/invitations/{token}").text
    wrong = portal.browser("daan")
    refused = wrong.post(f"/invitations/{token}")
    assert refused.status_code == 403 and "another e-mail address" in refused.text
    lars = portal.browser("lars")
    assert lars.post(f"/invitations/{token}").status_code == 303  # already a member: the link is used, nothing else


def test_the_pi_revokes_and_removes(portal: Portal, smtp: MailSink) -> None:
    anna = portal.browser("anna")
    anna.post(team(portal) + "/invite", {"email": "ben@backhaus-kiel.example", "role": "member"})
    token = mailed_token(portal.api, smtp, "ben@backhaus-kiel.example")
    (pending,) = portal.api.ok("GET", f"/projects/{portal.api.project_of('bakery')}/invitations", "anna")
    r = anna.post(f"/team/invitations/{pending['id']}/revoke", follow=True)
    assert "Invitation to ben@backhaus-kiel.example revoked." in r.text
    assert portal.browser().get(f"/invitations/{token}").status_code == 404
    lars_id = portal.api.user_id("lars")
    r = anna.post(f"{team(portal)}/remove/{lars_id}", follow=True)
    assert "Member removed." in r.text and 'data-member="lars@fz-nord.example"' not in r.text
