"""The one rule for showing GPU time on the portal, used by the charts and the figure tiles beside them.

An amount below 0.1 GPU-hours is shown in GPU-minutes, below one GPU-minute in GPU-seconds, so that a short
job's charge never reads ``0.0011`` next to ``500.00``. A chart picks one unit for all its values (from the
largest) and an axis that reaches at least :func:`axis_floor` of that unit, so that a tiny amount is drawn as a
small bar, not a full-height one. Numbers follow the page's language (Babel). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from babel.numbers import format_decimal

SMALL_HOURS = 0.1  # below this, minutes
SMALL_MINUTES = 1.0  # below this, seconds


@dataclass(frozen=True)
class GpuUnit:
    key: str  # "hours" | "minutes" | "seconds"
    per_hour: float  # how many of this unit make one GPU-hour
    floor: float  # the least top of a value axis in this unit


HOURS = GpuUnit("hours", 1.0, 1.0)
MINUTES = GpuUnit("minutes", 60.0, 6.0)  # a minutes axis reaches 0.1 GPU-hours at least
SECONDS = GpuUnit("seconds", 3600.0, 60.0)  # a seconds axis reaches one GPU-minute at least


def unit_for(hours: float) -> GpuUnit:
    """The unit that shows ``hours`` GPU-hours readably (zero and large amounts: GPU-hours)."""
    size = abs(hours)
    if size == 0 or size >= SMALL_HOURS:
        return HOURS
    return MINUTES if size * 60 >= SMALL_MINUTES else SECONDS


def unit_for_all(values: list[float]) -> GpuUnit:
    """One unit for a chart: the one its largest value needs."""
    return unit_for(max((abs(v) for v in values), default=0.0))


def in_unit(hours: float, unit: GpuUnit) -> float:
    return hours * unit.per_hour


def axis_top(peak: float, floor: float) -> float:
    """The top a value axis must reach: the data's peak, but never less than the unit's floor."""
    return max(peak, floor)


def decimals(value: float) -> int:
    """Fewer decimals for larger numbers: 1234 -> 0, 12.3 -> 1, 1.23 -> 2."""
    size = abs(value)
    return 0 if size >= 100 else 1 if size >= 10 else 2


def number(value: float, lang: str, places: int | None = None) -> str:
    """``value`` with grouping and decimals in the language's style (``1,234.5`` / ``1.234,5``): exactly
    ``places`` decimals, or without ``places`` as many as :func:`decimals` allows, trailing zeros dropped."""
    digit = "0" if places is not None else "#"
    places = decimals(value) if places is None else places
    pattern = "#,##0" + ("." + digit * places if places else "")
    text = format_decimal(round(value, places), format=pattern, locale=lang)
    return text.lstrip("-") if set(text) <= set("-0.,") else text  # never "-0"


def gpu_amount(hours: float | None, lang: str) -> tuple[str, GpuUnit | None]:
    """A GPU-time amount as (number text, its unit); ``None`` as a dash without a unit."""
    if hours is None:
        return "–", None
    unit = unit_for(hours)
    return number(in_unit(hours, unit), lang), unit


def unit_label(unit: GpuUnit, t: Callable[..., str]) -> str:
    """The unit's name in the page's language (``t`` is the viewer's gettext)."""
    if unit.key == "seconds":
        return t("GPU-seconds")
    return t("GPU-minutes") if unit.key == "minutes" else t("GPU-hours")


def amount_text(hours: float | None, t: Callable[..., str], lang: str) -> str:
    """``500 GPU-hours``, ``3.00 GPU-minutes``, ``5.04 GPU-seconds`` (translated): tiles and table cells."""
    text, unit = gpu_amount(hours, lang)
    if unit is None:
        return text
    if text == "1":
        return (
            t("1 GPU-second")
            if unit.key == "seconds"
            else t("1 GPU-minute")
            if unit.key == "minutes"
            else t("1 GPU-hour")
        )
    if unit.key == "seconds":
        return t("%(n)s GPU-seconds", n=text)
    return t("%(n)s GPU-minutes", n=text) if unit.key == "minutes" else t("%(n)s GPU-hours", n=text)
