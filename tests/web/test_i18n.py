"""Every string of the portal goes through gettext and has a German translation with the same placeholders."""

from __future__ import annotations

import re

from aifactory.web.i18n import merged_catalog
from aifactory.web.messages import extracted, missing

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_extraction_finds_the_templates_and_the_python_strings() -> None:
    found = extracted()
    assert "Sign in" in found and "Welcome, %(name)s." in found and "Not found" in found
    assert any(w.startswith("templates/") for w in found["Sign in"])
    assert len(found) > 150


def test_every_message_has_a_german_translation() -> None:
    assert missing("de") == {}, "run python -m aifactory.web.messages and translate what it prints"


def test_german_translations_keep_their_placeholders() -> None:
    catalog = merged_catalog("de")
    wrong = {
        m.id: m.string
        for m in catalog
        if m.id
        and PLACEHOLDER.findall(m.id)
        and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    }
    assert wrong == {}


def test_a_german_page_has_no_english_navigation_left(portal) -> None:  # type: ignore[no-untyped-def]
    web = portal.browser("anna")
    web.client.cookies.set("aif_lang", "de")
    page = web.get(f"/projects/{portal.api.project_of('bakery')}").text
    for english in (">Projects<", ">Sign out<", ">Submit a job<", ">Members<", "GPU-hours granted"):
        assert english not in page
    for german in ("Projekte", "Abmelden", "Job einreichen", "Mitglieder", "GPU-Stunden bewilligt"):
        assert german in page
