"""The catalog on the portal: public stories wait for an operator (home page, /stories, the story page), the
owner sees the state, operators approve or reject on /operator/catalog; a story body that once broke the
renderer is shown."""

from __future__ import annotations

from tests.support.portal import Portal

STORY = {"kind": "story", "slug": "triage-story", "title": "Faster triage", "visibility": "public"}


def publish(portal: Portal, **extra: str) -> dict:
    return portal.api.ok("POST", "/catalog", "claire", status=201, json={**STORY, **extra})


def test_a_public_story_appears_to_others_only_after_an_operator_approves_it(portal: Portal) -> None:
    item = publish(portal, summary="Triage in half the time")
    anonymous, anna, claire = portal.browser(), portal.browser("anna"), portal.browser("claire")
    for page in ("/", "/stories"):
        assert "Faster triage" not in anonymous.get(page).text
        assert "Faster triage" not in anna.get(page).text
    assert anonymous.get("/stories/triage-story").status_code == 404
    own = claire.get("/stories")
    assert "Faster triage" in own.text and "Awaiting an operator" in own.text
    assert "Awaiting an operator" in claire.get("/stories/triage-story").text

    operator = portal.browser("operator")
    queue = operator.get("/operator/catalog")
    assert queue.status_code == 200 and "Faster triage" in queue.text
    assert anna.get("/operator/catalog").status_code == 403
    r = operator.post(f"/operator/catalog/{item['id']}/decision", {"decision": "approve"})
    assert r.status_code == 303
    for page in ("/", "/stories", "/stories/triage-story"):
        assert "Faster triage" in anonymous.get(page).text
    assert "Awaiting an operator" not in claire.get("/stories").text
    assert "Nothing waits for approval" in operator.get("/operator/catalog").text


def test_a_rejected_story_shows_its_reason_to_its_organization_only(portal: Portal) -> None:
    item = publish(portal)
    operator = portal.browser("operator")
    refused = operator.post(f"/operator/catalog/{item['id']}/decision", {"decision": "reject", "reason": ""})
    assert refused.status_code == 422 and "reason" in refused.text
    operator.post(f"/operator/catalog/{item['id']}/decision", {"decision": "reject", "reason": "no figures given"})
    assert "no figures given" in portal.browser("claire").get("/stories/triage-story").text
    assert portal.browser("anna").get("/stories/triage-story").status_code == 404


def test_a_story_whose_body_is_a_bare_table_rule_renders(portal: Portal) -> None:
    item = publish(portal, body="|---|")
    portal.api.ok("POST", f"/catalog/items/{item['id']}/decision", "operator", json={"decision": "approve"})
    r = portal.browser().get("/stories/triage-story")
    assert r.status_code == 200 and "Faster triage" in r.text
    owner_view = portal.browser("claire").get("/stories/triage-story")
    assert owner_view.status_code == 200
