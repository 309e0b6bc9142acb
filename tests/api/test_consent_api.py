"""Partner consent through the API: a proposal naming a partner is submitted only once the partner's admin
confirmed (asked by a ``consent-requested`` notification); organizations are found by exact name or id only."""

from __future__ import annotations

from tests.support.api import Api, assert_problem


def draft_with_partner(api: Api, partner: str = "Forschungszentrum Nord") -> int:
    """Eva's playground draft (Stadt Jülich) naming ``partner``, found by its exact name."""
    (org,) = api.ok("GET", "/organizations", "eva", params={"q": partner})["items"]
    pid = api.pid("juelich")
    api.ok("PATCH", f"/proposals/{pid}", "eva", json={"partner_organization_ids": [org["id"]]})
    return pid


def test_the_partner_must_confirm_before_submission(api: Api) -> None:
    pid = draft_with_partner(api)
    refused = api.post(f"/proposals/{pid}/submit", "eva")
    assert_problem(refused, 409, detail="Forschungszentrum Nord (requested)")
    (asked,) = api.ok("GET", f"/proposals/{pid}/consents", "eva")
    assert (asked["state"], asked["answered_at"]) == ("requested", None)
    with api.uow_factory(write=False) as uow:
        note = uow.notifications.by_key(f"consent-requested-{pid}-{asked['organization_id']}")
        assert note is not None and note.data["organization"] == "Stadt Jülich"
        assert [r.user_id for r in uow.notifications.recipients(note.id)] == [api.user_id("lars")]
    assert_problem(api.post(f"/consents/{asked['id']}", "eva", json={"confirm": True}), 404)  # not her organization
    assert_problem(api.post(f"/consents/{asked['id']}", "daan", json={"confirm": True}), 404)
    assert api.ok("POST", f"/consents/{asked['id']}", "lars", json={"confirm": False})["state"] == "declined"
    assert_problem(api.post(f"/proposals/{pid}/submit", "eva"), 409, detail="(declined)")
    assert api.ok("POST", f"/consents/{asked['id']}", "lars", json={"confirm": True})["state"] == "confirmed"
    assert api.ok("POST", f"/proposals/{pid}/submit", "eva")["status"] == "accepted"
    assert "partner.consent" in {
        e["action"] for e in api.ok("GET", "/audit", "operator", params={"limit": 200})["items"]
    }


def test_a_partner_dropped_from_the_draft_is_no_longer_asked(api: Api) -> None:
    pid = draft_with_partner(api)
    assert_problem(api.post(f"/proposals/{pid}/submit", "eva"), 409)
    api.ok("PATCH", f"/proposals/{pid}", "eva", json={"partner_organization_ids": []})
    assert api.ok("GET", f"/proposals/{pid}/consents", "eva") == []
    assert api.ok("POST", f"/proposals/{pid}/submit", "eva")["status"] == "accepted"
    assert [c for c in api.ok("GET", "/consents", "lars") if c["proposal_id"] == pid] == []


def test_applicants_find_organizations_by_exact_name_or_id_only(api: Api) -> None:
    everyone = api.ok("GET", "/organizations", "operator")["total"]
    assert everyone == 6
    own = api.ok("GET", "/organizations", "eva")
    assert [o["name"] for o in own["items"]] == ["Stadt Jülich"]  # no list of every organization
    assert [o["name"] for o in api.ok("GET", "/organizations", "anna")["items"]] == [
        "Backhaus Kiel GmbH",
        "Forschungszentrum Nord",  # a partner of her proposal
    ]
    assert api.ok("GET", "/organizations", "eva", params={"q": "Forschungszentrum"})["items"] == []  # not a search
    exact = api.ok("GET", "/organizations", "eva", params={"q": "forschungszentrum nord"})["items"]
    by_id = api.ok("GET", "/organizations", "eva", params={"q": str(exact[0]["id"])})["items"]
    assert [o["name"] for o in exact] == [o["name"] for o in by_id] == ["Forschungszentrum Nord"]
