"""Numbers and dates in the page's language (web.formats, the portal's |number, |decimal, |date, |datetime
filters): German pages read 2.000, 500,00 and 03.12.2026; English pages keep 2,000, 500.00 and ISO dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from aifactory.services.delivery import OutgoingMail
from aifactory.web.formats import date_text, datetime_text, decimal_text, gpu_hours_text, number_text
from aifactory.web.mail import MailTemplates

MOMENT = datetime(2026, 12, 3, 19, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, en, de",
    [(2000, "2,000", "2.000"), (2_000_000, "2,000,000", "2.000.000"), (12.5, "12.5", "12,5"), (None, "–", "–")],
)
def test_numbers_are_grouped_in_the_page_language(value, en, de) -> None:
    assert number_text(value, "en") == en and number_text(value, "de") == de


def test_decimals_keep_their_places_in_the_page_language() -> None:
    assert decimal_text(500, "en") == "500.00" and decimal_text(500, "de") == "500,00"
    assert decimal_text(1234.56, "de", 1) == "1.234,6" and decimal_text(4, "de", 0) == "4"
    assert gpu_hours_text(1 / 3600, "de") == "0,0003" and gpu_hours_text(1234.56, "en") == "1,234.6"


def test_dates_are_iso_in_english_and_medium_in_german() -> None:
    assert date_text(date(2026, 12, 3), "en") == "2026-12-03" and date_text(date(2026, 12, 3), "de") == "03.12.2026"
    assert datetime_text(MOMENT, "en") == "2026-12-03 19:05 UTC"
    assert datetime_text(MOMENT, "de") == "03.12.2026 19:05 UTC"
    assert datetime_text(date(2026, 1, 2), "de") == "02.01.2026" and datetime_text(None, "de") == "–"


ENGLISH_THOUSANDS = re.compile(r"\d,\d{3}(?!\d)")
ENGLISH_DECIMALS = re.compile(r"\d\.\d\d(?!\d)")
NUM_CELL = re.compile(r'<td class="num">([^<]*)</td>')


def test_german_calls_show_german_numbers(portal) -> None:  # type: ignore[no-untyped-def]
    web = portal.browser("anna")
    web.client.cookies.set("aif_lang", "de")
    page = web.get("/calls").text
    cells = NUM_CELL.findall(page)
    assert cells and any("2.000" in c for c in cells) and any("2.000.000" in c for c in cells)
    assert not [c for c in cells if ENGLISH_THOUSANDS.search(c) or ENGLISH_DECIMALS.search(c)]
    english = portal.browser("anna").get("/calls").text
    assert any("2,000,000" in c for c in NUM_CELL.findall(english))


def test_german_proposal_list_shows_german_dates(portal) -> None:  # type: ignore[no-untyped-def]
    web = portal.browser("anna")
    web.client.cookies.set("aif_lang", "de")
    page = web.get("/proposals").text
    assert re.search(r"\d\d\.\d\d\.20\d\d \d\d:\d\d UTC", page)
    assert not re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d UTC", page)


def _mail(event: str, language: str, data: dict[str, object]) -> str:
    mail = OutgoingMail(1, 1, event, "anna@example.org", "Anna", language, "", data, MOMENT)
    return MailTemplates("AI Factory", "https://factory.example", html=False).render(mail).text


def test_a_german_e_mail_writes_its_date_and_its_decision_reason_in_german() -> None:
    accepted = {"title": "Backen", "gpu_hours": 500, "reason": "auto-approved: 500 ≤ 1000 GPU-hours", "path": "/"}
    german = _mail("proposal-accepted", "de", accepted)
    assert "Automatisch bewilligt: 500 GPU-Stunden beantragt, innerhalb der 1.000 GPU-Stunden" in german
    assert "auto-approved" not in german
    invitation = {"inviter": "Anna", "target": "Backhaus", "expires": "2026-03-09", "path": "/invitations/x"}
    assert "09.03.2026" in _mail("invitation", "de", invitation)
    assert "2026-03-09" in _mail("invitation", "en", invitation)
