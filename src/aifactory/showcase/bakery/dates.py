"""Reading a table's dates: ISO 8601 or a day-first German date, or the layout a user names; an ambiguous layout
(03/04/2024: March or April?) is refused rather than guessed."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

# unambiguous layouts tried in this order when no date_format is given; the two slash layouts are tried too,
# and refused when both read every date but disagree
AUTO_FORMATS = ("ISO8601", "%d.%m.%Y", "%d.%m.%y", "%Y/%m/%d")
SLASH_FORMATS = ("%d/%m/%Y", "%m/%d/%Y")


class DateError(ValueError):
    """A date column that cannot be read; the message names the value and where it is."""


def _try(values: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(values, format=fmt, errors="coerce")


def _as_text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def parse_dates(values: pd.Series, fmt: str, where: Callable[[int], str]) -> pd.Series:
    """The dates at midnight (a time of day is dropped). ``fmt`` is a strftime layout or '' (detect);
    ``where(i)`` names the i-th value's place (e.g. 'line 7') in errors."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values)
        _refuse_missing(parsed, values, where, "a layout")
        return _midnight(parsed)
    text = _as_text(values)
    if fmt:
        parsed = _try(text, fmt)
        _refuse_missing(parsed, values, where, f"the layout {fmt!r} (date_format)")
        return _midnight(parsed)
    return _midnight(_detect(text, values, where))


def _detect(text: pd.Series, values: pd.Series, where: Callable[[int], str]) -> pd.Series:
    tries = {fmt: _try(text, fmt) for fmt in (*AUTO_FORMATS, *SLASH_FORMATS)}
    complete = [fmt for fmt, parsed in tries.items() if parsed.notna().all()]
    if complete and complete[0] in AUTO_FORMATS:
        return tries[complete[0]]
    if len(complete) == 2 and not tries[complete[0]].equals(tries[complete[1]]):
        i = int((tries[complete[0]] != tries[complete[1]]).to_numpy().nonzero()[0][0])
        raise DateError(
            f"{where(i)}: the date {values.iloc[i]!r} reads as day/month or month/day; set date_format to "
            f"'%d/%m/%Y' or '%m/%d/%Y'"
        )
    if complete:
        return tries[complete[0]]
    best = max(tries.values(), key=lambda parsed: int(parsed.notna().sum()))
    _refuse_missing(best, values, where, "a known layout (2024-03-31, 31.03.2024, 31/03/2024)")
    return best  # unreachable: a layout that reads some but not all values was refused above


def _refuse_missing(parsed: pd.Series, values: pd.Series, where: Callable[[int], str], layout: str) -> None:
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise DateError(
            f"{where(i)}: unparseable date {values.iloc[i]!r} ({int(bad.sum())} unreadable in total); "
            f"expected {layout}; set date_format (e.g. '%d.%m.%Y') for another layout"
        )


def _midnight(parsed: pd.Series) -> pd.Series:
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    out: pd.Series = parsed.dt.normalize().astype("datetime64[ns]")
    return out
