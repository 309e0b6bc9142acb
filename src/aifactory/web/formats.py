"""Numbers and dates in the page's language, through Babel: one set of rules behind the portal's Jinja filters
(``number``, ``decimal``, ``date``, ``datetime``/``when``). German pages read ``2.000``, ``500,00`` and
``03.12.2026 19:05 UTC``; English pages keep ``2,000``, ``500.00`` and ``2026-12-03 19:05 UTC`` (unambiguous
ISO dates, which the English pages always showed). Pure: no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from ..domain.storage import byte_scale

DASH = "–"


def number_text(value: float | int | None, lang: str) -> str:
    """A count or a whole amount with the language's grouping (``2,000`` / ``2.000``); ``None`` as a dash.
    A non-whole value keeps up to six decimals (``1,234.5`` / ``1.234,5``)."""
    if value is None:
        return DASH
    return format_decimal(value, format="#,##0.######", locale=lang)


def decimal_text(value: float | int | None, lang: str, places: int = 2) -> str:
    """Exactly ``places`` decimals with grouping (``500.00`` / ``500,00``); ``None`` as a dash."""
    if value is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
    return format_decimal(round(value, places), format=pattern, locale=lang)


def date_text(value: date | datetime | None, lang: str) -> str:
    """A day: ISO in English, the language's medium format elsewhere (``03.12.2026``)."""
    if value is None:
        return DASH
    day = value.date() if isinstance(value, datetime) else value
    return day.isoformat() if lang == "en" else format_date(day, "medium", locale=lang)


def datetime_text(value: date | datetime | None, lang: str) -> str:
    """A moment in UTC: ``2026-12-03 19:05 UTC`` in English, the language's medium date and short time
    elsewhere (``03.12.2026 19:05 UTC``). A plain date is shown as :func:`date_text`."""
    if value is None or not isinstance(value, datetime):
        return date_text(value, lang)
    moment = value.astimezone(UTC) if value.tzinfo else value
    if lang == "en":
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"{format_date(moment, 'medium', locale=lang)} {format_time(moment, 'short', locale=lang)} UTC"


def gpu_hours_text(value: float | int | None, lang: str = "en", digits: int = 1) -> str:
    """GPU-hours: small amounts keep more decimals, so that even a short job's charge (a GPU-second is
    0.0003 GPU-hours) is visible."""
    if value is None:
        return DASH
    if 0 < abs(value) < 1:
        digits = max(digits, 4)
    elif 0 < abs(value) < 10:
        digits = max(digits, 3)
    return decimal_text(value, lang, digits)


def bytes_text(value: int, lang: str) -> str:
    """A size in binary units in the language's style: ``1,023 B`` / ``1.023 B``, ``10.0 MiB`` / ``10,0 MiB``."""
    amount, unit = byte_scale(value)
    return f"{number_text(int(amount), lang)} B" if unit == "B" else f"{decimal_text(amount, lang, 1)} {unit}"
