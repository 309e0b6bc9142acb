"""People's words, in the page's language, for the keys the reports group by: application fields (sectors),
organization kinds and access modes. The msgids are those of ``proposals/_labels.html``, so one translation
serves the tables, the labels and the charts."""

from __future__ import annotations

from collections.abc import Callable


def key_names(g: Callable[[str], str]) -> dict[str, str]:
    """``g``: the viewer's gettext. Unknown keys are left to the caller (``names.get(key, key)``)."""
    return {
        "health": g("Health"),
        "energy-climate": g("Energy and climate"),
        "mobility": g("Mobility"),
        "education": g("Education"),
        "finance": g("Finance"),
        "manufacturing": g("Manufacturing"),
        "food": g("Food"),
        "other": g("Other"),
        "startup": g("Startup"),
        "sme": g("SME"),
        "industry": g("Industry"),
        "academia": g("Academia"),
        "public_sector": g("Public sector"),
        "playground": g("Playground"),
        "fast_lane": g("Fast lane"),
        "large_scale": g("Large scale"),
        "none": g("none"),
        "unspecified": g("unspecified"),
        "all": g("all"),
    }
