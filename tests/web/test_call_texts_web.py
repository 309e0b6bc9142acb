"""A call's words in the visitor's language: the demo's calls in German on German pages (title, description, the
call list, the home page and the proposal form), their own words in English, and a language the call does not
carry falls back to its own."""

from __future__ import annotations

from tests.support.portal import Portal


def test_the_demos_calls_read_in_german_on_german_pages_and_in_english_on_english_ones(portal: Portal) -> None:
    call = portal.api.info.call_ids["fast_lane"]
    english = portal.browser(None)
    page = english.get(f"/calls/{call}").text
    assert "<h1>AI Factory Fast Lane</h1>" in page and "short technical assessment" in page
    german = portal.browser(None)
    german.client.cookies.set("aif_lang", "de")
    page = german.get(f"/calls/{call}").text
    assert "<h1>AI Factory Fast Lane: schneller Zugang</h1>" in page and "kurze technische Prüfung" in page
    assert "short technical assessment" not in page
    listing = german.get("/calls").text
    for title in ("AI Factory Playground: erste Schritte", "AI Factory Large Scale: große Vorhaben"):
        assert title in listing and title in german.get("/").text
    anna = portal.browser("anna")
    anna.client.cookies.set("aif_lang", "de")
    assert "AI Factory Fast Lane: schneller Zugang" in anna.get("/proposals/new").text


def test_an_operators_words_are_escaped_rendered_as_markdown_and_fall_back_where_missing(portal: Portal) -> None:
    api, call = portal.api, portal.api.info.call_ids["playground"]
    words = {"title": "Spielwiese <b>KI</b>", "description": "Nur *Markdown* <script>x()</script>"}
    api.ok("PATCH", f"/calls/{call}", "operator", json={"texts": {"de": words}})
    german = portal.browser(None)
    german.client.cookies.set("aif_lang", "de")
    page = german.get(f"/calls/{call}").text
    assert "<h1>Spielwiese &lt;b&gt;KI&lt;/b&gt;</h1>" in page and "<em>Markdown</em>" in page
    assert "<script>x()" not in page
    api.ok("PATCH", f"/calls/{call}", "operator", json={"texts": {"de": {"description": "Nur Text"}}})
    page = german.get(f"/calls/{call}").text
    assert "<h1>AI Factory Playground</h1>" in page and "Nur Text" in page  # no German title: its own
