"""A call's title and description in other languages, through the API: operators set them, anyone reads them,
bad language codes and unknown fields are refused naming the field, and nothing is half-written."""

from __future__ import annotations

from tests.support.api import assert_problem

GERMAN = {"de": {"title": "Spielwiese für Bäckereien", "description": "Für **erste** Schritte."}}


def test_operators_set_a_calls_words_in_german_and_anyone_reads_them(api):
    call_id = api.info.call_ids["fast_lane"]
    call = api.ok("PATCH", f"/calls/{call_id}", "operator", json={"texts": GERMAN})
    assert call["texts"] == GERMAN and call["title"] == "AI Factory Fast Lane"  # its own words stay
    assert api.ok("GET", f"/calls/{call_id}", "anna")["texts"] == GERMAN
    # blank words are dropped (the call's own are shown); an empty object takes every translation away
    call = api.ok("PATCH", f"/calls/{call_id}", "operator", json={"texts": {"de": {"title": "  ", "description": "x"}}})
    assert call["texts"] == {"de": {"description": "x"}}
    assert api.ok("PATCH", f"/calls/{call_id}", "operator", json={"texts": {}})["texts"] == {}
    r = api.patch(f"/calls/{call_id}", "anna", json={"texts": GERMAN})
    assert r.status_code == 403


def test_bad_texts_are_refused_naming_the_field_and_nothing_changes(api):
    call_id = api.info.call_ids["playground"]
    before = api.ok("GET", f"/calls/{call_id}", "operator")["texts"]
    r = api.patch(f"/calls/{call_id}", "operator", json={"texts": {"de": {"summary": "nope"}}})
    assert_problem(r, 422, "texts.de.summary")
    r = api.patch(f"/calls/{call_id}", "operator", json={"texts": {"german": {"title": "Titel"}}})
    assert_problem(r, 422, "texts.german.[key]")
    r = api.patch(f"/calls/{call_id}", "operator", json={"texts": {"de": {"title": "x" * 201}}})
    assert_problem(r, 422, "texts.de.title")
    r = api.patch(f"/calls/{call_id}", "operator", json={"texts": None})
    assert_problem(r, 422, "texts")
    assert api.ok("GET", f"/calls/{call_id}", "operator")["texts"] == before
