"""Usage apportioned across calendar months, as an accounting system would.

A charge covers a run from ``start`` to ``end``. Reports by month count each month's share of it: the
amount × (the run's seconds in that calendar month, UTC) ÷ (the run's seconds). Shares are whole billing
GPU-seconds by the largest-remainder rule (each month gets the floor of its exact share; the seconds left
over go one each to the months with the largest remainders, the earlier month first on a tie), so the
months of one charge always add up to its amount exactly.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_MICROSECOND = timedelta(microseconds=1)
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"  # YYYY-MM
FIRST_MONTH, LAST_MONTH = "0001-01", "9998-12"  # every month between has a first instant and a next month


def is_month(key: str) -> bool:
    """``YYYY-MM`` naming a month reports can count in (``FIRST_MONTH`` to ``LAST_MONTH``)."""
    return re.match(MONTH_PATTERN, key) is not None and FIRST_MONTH <= key <= LAST_MONTH


def month_key(at: datetime) -> str:
    """``YYYY-MM`` of a moment, in UTC."""
    at = at.astimezone(UTC)
    return f"{at.year:04d}-{at.month:02d}"


def month_start(key: str) -> datetime:
    """The first instant (UTC) of the month ``YYYY-MM``."""
    return datetime(int(key[:4]), int(key[5:7]), 1, tzinfo=UTC)


def next_month(at: datetime) -> datetime:
    """The first instant (UTC) of the month after the one ``at`` falls in."""
    at = at.astimezone(UTC)
    return datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)


def month_seconds(start: datetime, end: datetime) -> list[tuple[str, timedelta]]:
    """The run's time in each calendar month it touches, in order (months with none left out)."""
    out: list[tuple[str, timedelta]] = []
    at = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while at < end:
        cut = min(next_month(at), end)
        out.append((month_key(at), cut - at))
        at = cut
    return out


def apportion(amount: int, start: datetime, end: datetime) -> list[tuple[str, int]]:
    """``amount`` split across the months of the run ``start``–``end`` by the seconds in each (see the
    module's rule). A run of no length (end not after start) counts whole in the month of its end (a run
    that ends at midnight on the 1st has none of its seconds in that month); months whose share rounds to
    nothing are left out."""
    spans = month_seconds(start, end)
    if len(spans) <= 1:
        return [(spans[0][0] if spans else month_key(end), amount)]
    micros = [s // _MICROSECOND for _, s in spans]
    total = sum(micros)
    floors = [amount * m // total for m in micros]
    left = amount - sum(floors)
    by_remainder = sorted(range(len(spans)), key=lambda i: (-(amount * micros[i] % total), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [(key, share) for (key, _), share in zip(spans, floors, strict=True) if share]
