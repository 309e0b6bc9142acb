"""Operators choose on the portal what a call asks applicants: standard questions asked or not, required or
not, the largest PDF; questions set through the API stay."""

from __future__ import annotations

from tests.support.portal import Portal


def test_an_operator_chooses_a_calls_questions(portal: Portal) -> None:
    api, op = portal.api, portal.browser("operator")
    call = api.info.call_ids["playground"]
    own = {"key": "pilot_site", "kind": "choice", "title": "Pilot site", "options": ["Kiel", "Lübeck"]}
    api.ok("PATCH", f"/calls/{call}", "operator", json={"questions": [own]})
    page = op.get(f"/operator/calls/{call}/questions")
    assert page.status_code == 200 and "Work plan" in page.text and "Pilot site" in page.text
    assert f'href="/operator/calls/{call}/questions"' in op.get("/operator/calls").text
    form = {"ask-work_plan": "on", "required-work_plan": "on", "ask-attachment": "on", "max-attachment": "2.5"}
    r = op.post(f"/operator/calls/{call}/questions", form)
    assert r.status_code == 303
    asked = api.ok("GET", f"/calls/{call}", "anna")["questions"]
    assert [(q["key"], q["required"]) for q in asked] == [
        ("work_plan", True),
        ("attachment", False),
        ("pilot_site", False),
    ]
    assert asked[1]["max_bytes"] == int(2.5 * (1 << 20))
    r = op.post(f"/operator/calls/{call}/questions", {"ask-attachment": "on", "max-attachment": "900"})
    assert r.status_code == 422 and 'id="e-max-attachment"' in r.text  # over the site's limit; nothing changed
    assert len(api.ok("GET", f"/calls/{call}", "anna")["questions"]) == 3
    r = op.post(f"/operator/calls/{call}/questions", {"ask-attachment": "on", "max-attachment": "lots"})
    assert r.status_code == 422 and "enter a size in MiB" in r.text
    assert portal.browser("anna").post(f"/operator/calls/{call}/questions", form).status_code in (403, 404)
    op.post("/lang", {"lang": "de", "next": "/"})
    assert "Arbeitsplan" in op.get(f"/operator/calls/{call}/questions").text


def test_saving_the_page_keeps_what_was_set_through_the_api(portal: Portal) -> None:
    """A standard question's own wording, options or limit set through the API survive a save on the page."""
    api, op = portal.api, portal.browser("operator")
    call = api.info.call_ids["fast_lane"]
    tuned = [
        {"key": "work_plan", "required": True, "max_chars": 3000, "title": "Plan of work"},
        {"key": "data_readiness", "options": ["Ready", "Not ready"], "options_de": ["Bereit", "Nicht bereit"]},
    ]
    api.ok("PATCH", f"/calls/{call}", "operator", json={"questions": tuned})
    form = {"ask-work_plan": "on", "ask-data_readiness": "on", "required-data_readiness": "on"}
    assert op.post(f"/operator/calls/{call}/questions", form).status_code == 303
    asked = {q["key"]: q for q in api.ok("GET", f"/calls/{call}", "anna")["questions"]}
    assert (asked["work_plan"]["max_chars"], asked["work_plan"]["title"], asked["work_plan"]["required"]) == (
        3000,
        "Plan of work",
        False,  # the page decides what is required
    )
    assert asked["data_readiness"]["options"] == ["Ready", "Not ready"] and asked["data_readiness"]["required"]
    assert asked["data_readiness"]["options_de"] == ["Bereit", "Nicht bereit"]
