"""The bakery showcase in the catalog: the Kiel data as a dataset item and the measured results as a story.

The figures are those of ``python -m aifactory.showcase.bakery`` with the template's defaults (1-day horizon,
waste cost 0.4, margin 0.6 per unit of revenue; held-out 2017-08-01 … 2018-07-31), measured on 2026-11-23.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

SALES = Path(__file__).parent / "data" / "umsatzdaten_gekuerzt.csv"


def dataset() -> dict[str, Any]:
    """The shipped sales file as a catalog dataset (size and sha256 computed now)."""
    data = SALES.read_bytes()
    return {
        "kind": "dataset",
        "slug": "kiel-bakery-sales",
        "title": "Kiel bakery: daily revenue per product group",
        "summary": "Daily revenue of six product groups of a bakery in Kiel, 2013-07 to 2018-07, with weather and "
        "Kieler Woche days (opencampus.sh course data). Revenue in EUR, used as the demand signal.",
        "tags": ["food", "retail", "time-series"],
        "visibility": "public",
        "details": {
            "origin": "opencampus.sh, einfuehrung-in-data-science-und-ml (commit 65374ef)",
            "licence": "none stated; education and research use, attribute opencampus.sh",
            "format": "csv",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    }


RESULTS = """Held-out year 2017-08-01 … 2018-07-31 (1,840 day × group rows), revenue-equivalent units (EUR).

| group | waste reduction vs best baseline | service level model / baseline | at matched service level |
|---|---:|---:|---:|
| 1 Brot | 21.7 % | 56.3 / 61.6 % | 9.7 % (61.3 %) |
| 2 Brötchen | 48.6 % | 56.3 / 65.3 % | 32.9 % (67.8 %) |
| 3 Croissant | 36.9 % | 57.4 / 55.5 % | already equal or better |
| 4 Konditorei | 18.3 % | 56.6 / 61.6 % | 8.3 % (58.8 %) |
| 5 Kuchen | 29.0 % | 58.3 / 59.9 % | 20.0 % (61.9 %) |
| 6 Saisonbrot | 35.4 % | 67.3 / 63.6 % | already equal or better |
| overall | 35.3 % | 57.3 / 60.8 % | 25.6 % (61.6 %) |

At the newsvendor quantile the model wastes 35.3 % less than the best rule of thumb ("mean of the last 4 same
weekdays" with a safety margin chosen on the training years) and loses less revenue to stock-outs (20,832 vs
28,446), but runs out on more days (service level 57.3 % vs 60.8 %). Re-choosing its quantile on the training
years to match the baseline's service level, the waste reduction is 25.6 %: the 30 % target is met at equal or
better service level for Brötchen, Croissant and Saisonbrot, not for Brot, Konditorei, Kuchen or overall.
Caveats: recorded sales are not true demand (sold-out days hide demand); the day's observed weather stands in
for a forecast."""

STORY: dict[str, Any] = {
    "kind": "story",
    "slug": "bakery-bakes-less-waste",
    "title": "A bakery plans production with AI and bakes less waste",
    "summary": "Backhaus Kiel forecasts next-day demand per product group and bakes the newsvendor quantity: "
    "35 % less waste than its best rule of thumb, 26 % at the same service level.",
    "body": RESULTS,
    "tags": ["food", "forecasting", "retail"],
    "visibility": "public",
    "details": {
        "organization": "Backhaus Kiel GmbH (demo)",
        "results": RESULTS,
        "metrics": {
            "waste_reduction_pct": 35.3,
            "waste_reduction_matched_service_pct": 25.6,
            "service_level_model_pct": 57.3,
            "service_level_baseline_pct": 60.8,
            "cost_reduction_pct": 31.0,
        },
    },
}
