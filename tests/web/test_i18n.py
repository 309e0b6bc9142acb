"""Every string of the portal goes through gettext and has a German translation with the same placeholders."""

from __future__ import annotations

import re

import pytest

from aifactory.catalog.loader import load_templates
from aifactory.domain.catalog import CatalogKind, check_details
from aifactory.showcase.bakery.story import STORY
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
    for english in (">Projects<", ">Sign out<", ">Submit a job<", ">Members<", ">granted<", "GPU-hours"):
        assert english not in page
    for german in ("Projekte", "Abmelden", "Job einreichen", "Mitglieder", ">bewilligt<", " GPU-Stunden</span>"):
        assert german in page


# -- shipped content: the built-in catalog templates carry their German words ---------------------------------

SHIPPED_TEMPLATES = load_templates()


def test_the_factory_ships_templates_to_check() -> None:
    assert {"hello-gpu", "bakery-forecast"} <= {t.name for t in SHIPPED_TEMPLATES}


@pytest.mark.parametrize("template", SHIPPED_TEMPLATES, ids=lambda t: t.name)
def test_every_shipped_template_has_its_german_words(template) -> None:  # type: ignore[no-untyped-def]
    texts = template.texts()
    english = {"title": template.doc["title"], "summary": template.doc.get("summary", "")} | texts.get("en", {})
    german = texts.get("de", {})
    lacking = [field for field, text in english.items() if text and not german.get(field)]
    for name, prop in template.doc["parameters"].get("properties", {}).items():
        for key, de_key in (("title", "x-title-de"), ("description", "x-description-de"), ("x-unit", "x-unit-de")):
            if prop.get(key) and not prop.get(de_key):
                lacking.append(f"parameters.{name}.{de_key}")
    assert lacking == [], f"{template.name}: add the German words to template.yaml"
    assert all(german[f] != english[f] for f in english if english[f]), "a German field copies the English one"


def test_every_shipped_story_has_its_german_words() -> None:
    german = STORY["details"]["texts"]["de"]
    assert {f: bool(german.get(f)) for f in ("title", "summary", "body")} == dict.fromkeys(
        ("title", "summary", "body"), True
    )
    assert german["title"] != STORY["title"] and german["body"] != STORY["body"]
    check_details(CatalogKind.STORY, STORY["details"])  # the catalog accepts the per-language texts


def test_a_german_story_page_shows_the_german_story(portal) -> None:  # type: ignore[no-untyped-def]
    web = portal.browser("anna")
    web.client.cookies.set("aif_lang", "de")
    page = web.get(f"/stories/{STORY['slug']}").text
    assert STORY["details"]["texts"]["de"]["title"] in page and "4.739 / 5.309" in page
    assert STORY["title"] not in page and "Caveats" not in page
    assert STORY["title"] in portal.browser("anna").get(f"/stories/{STORY['slug']}").text
