"""The holiday region: an ISO 3166-2 code (``DE-SH``) or a country (``DE``), checked against the ``holidays``
package, and the public holidays it has on given days."""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from typing import Any

import holidays
import numpy as np
import pandas as pd
import pycountry

NO_HOLIDAYS = ("", "none")


class RegionError(ValueError):
    """A holiday region the ``holidays`` package does not know; the message names it and what would do."""


@dataclass(frozen=True)
class HolidayRegion:
    code: str  # as given, upper-cased: 'DE-SH', 'DE', or '' for none
    country: str
    subdivision: str | None

    def name(self, language: str = "en") -> str:
        """'Schleswig-Holstein, Germany' (pycountry's names, translated where it has them), or the code."""
        if not self.country:
            return ""
        databases: Any = pycountry  # untyped library
        country = databases.countries.get(alpha_2=self.country)
        country_name = _translated("iso3166-1", str(country.name), language) if country else self.country
        if self.subdivision is None:
            return country_name
        sub = databases.subdivisions.get(code=f"{self.country}-{self.subdivision}")
        sub_name = _translated("iso3166-2", str(sub.name), language) if sub else self.subdivision
        return f"{sub_name}, {country_name}"


def _translated(domain: str, text: str, language: str) -> str:
    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language]).gettext(text)
    except OSError:
        return text


def parse_region(code: str) -> HolidayRegion:
    """``DE-SH`` / ``DE`` / ``none``; an unknown country or subdivision names the ones that exist."""
    text = code.strip()
    if text.lower() in NO_HOLIDAYS:
        return HolidayRegion("", "", None)
    country, _, sub = text.partition("-")
    country = country.upper()
    supported = holidays.list_supported_countries()
    if len(country) != 2 or country not in supported:
        raise RegionError(
            f"holidays: {code!r} is not a region the holidays package knows; give an ISO 3166-2 code such as "
            f"DE-SH, a country such as DE, or 'none'"
        )
    if not sub:
        return HolidayRegion(country, country, None)
    subdivisions = [str(s) for s in supported[country]]
    match = next((s for s in subdivisions if s.upper() == sub.upper()), None)
    if match is None:
        known = ", ".join(f"{country}-{s}" for s in subdivisions) or f"none (use {country})"
        raise RegionError(f"holidays: {code!r}: {country} has no subdivision {sub!r}; known: {known}")
    return HolidayRegion(f"{country}-{match}", country, match)


def holiday_names(region: HolidayRegion, dates: pd.DatetimeIndex, language: str) -> dict[pd.Timestamp, str]:
    """The region's public holidays between the first and last of ``dates`` (names in ``language`` where the
    package has it, else the country's own)."""
    if not region.country:
        return {}
    years = list(range(dates.min().year - 1, dates.max().year + 2))
    cal = holidays.country_holidays(region.country, subdiv=region.subdivision, years=years)
    wanted = {"en": "en_US", "de": "de"}.get(language, language)
    if wanted in getattr(cal, "supported_languages", ()):
        cal = holidays.country_holidays(region.country, subdiv=region.subdivision, years=years, language=wanted)
    return {pd.Timestamp(d): str(name) for d, name in cal.items()}


def holiday_flags(region: HolidayRegion, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """0/1 columns holiday, holiday_tomorrow, holiday_yesterday (all 0 without a region)."""
    days = set(holiday_names(region, dates, "en"))
    one = pd.Timedelta(days=1)
    return pd.DataFrame(
        {
            "holiday": np.array([d in days for d in dates]),
            "holiday_tomorrow": np.array([(d + one) in days for d in dates]),
            "holiday_yesterday": np.array([(d - one) in days for d in dates]),
        },
        index=dates,
    ).astype(float)
