"""The domain's validation messages in the viewer's language (web.problems_text, the portal's |problem filter):
German words and German figures for the known ones, an unknown message as it is."""

from __future__ import annotations

import pytest

from aifactory.domain.errors import InvalidInput
from aifactory.domain.proposals import check_award
from aifactory.web.i18n import Translator
from aifactory.web.problems_text import PATTERNS, problem_text

DE = Translator("de")
EN = Translator("en")


def _message(call, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    return caught.value.errors[0].message


def test_real_domain_messages_come_out_in_german_with_german_figures() -> None:
    over = _message(check_award, 1000, 2000)
    assert problem_text(over, DE.gettext, "de") == "2.000 ist mehr als die beantragten 1.000 GPU-Stunden"
    assert problem_text(_message(check_award, 10, 0), DE.gettext, "de") == "muss mindestens 1 sein"
    big = "must be between 0 and 100,000,000 (or none: no cap)"
    assert problem_text(big, DE.gettext, "de") == "muss zwischen 0 und 100.000.000 liegen (oder leer: ohne Grenze)"


def test_english_stays_as_the_domain_says_and_unknown_messages_pass_through() -> None:
    assert problem_text("must be between 1 and 2,000", EN.gettext, "en") == "must be between 1 and 2,000"
    assert problem_text("something new went wrong", DE.gettext, "de") == "something new went wrong"
    assert problem_text("must not be empty; wrong password", DE.gettext, "de") == (
        "darf nicht leer sein; falsches Passwort"
    )
    assert problem_text(None, DE.gettext, "de") == ""


def test_every_known_message_has_a_german_text() -> None:
    untranslated = [msgid for _pattern, msgid in PATTERNS if DE.gettext(msgid) == msgid]
    assert untranslated == []


def test_a_german_wizard_shows_the_domain_refusal_in_german(portal) -> None:  # type: ignore[no-untyped-def]
    web = portal.browser("eva")
    web.client.cookies.set("aif_lang", "de")
    proposal = portal.api.info.proposal_ids["juelich"]
    page = web.post(
        f"/proposals/{proposal}/edit?step=3",
        {
            "resource_id": str(portal.api.info.resource_ids["develop"]),
            "requested_gpu_hours": "999999999",
            "duration_months": "99",
        },
    )
    assert "muss zwischen" in page.text and "must be between" not in page.text
