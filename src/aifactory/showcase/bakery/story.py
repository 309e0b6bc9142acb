"""The bakery showcase in the catalog: the Kiel data as a dataset item and the measured results as a story.

The figures are those of ``python -m aifactory.showcase.bakery`` with the template's defaults (1-day horizon,
waste cost 0.4, margin 0.6 per unit of revenue; the hold-out chosen from the data: 2017-08-01 … 2018-07-31 in six
windows); a slow test (tests/showcase/test_bakery_run.py) checks them against a fresh run.
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


RESULTS = """Headline: waste at matched service level. The last year (2017-08-01 … 2018-07-31, 1,840 day × product
rows, values in EUR of revenue) is held out in six rolling-origin windows of about two months; before each window
the rules of thumb ("same weekday last week", "mean of the last 4 same weekdays") get a safety margin chosen on
the year before it so that their service level there equals the model's, and the rule with less waste there is
the bakery's best rule for that product. Waste reduction at matched service level, over the year and over its
windows (median, worst … best):

| product | waste model / rule (EUR) | reduction | median | worst … best window | service level model / rule |
|---|---:|---:|---:|---:|---:|
| Brot | 4,739 / 5,309 | 10.7 % | 19.4 % | −46.4 % … 30.4 % | 57.1 / 56.3 % |
| Brötchen | 7,314 / 12,405 | 41.0 % | 33.6 % | 11.2 % … 60.7 % | 61.9 / 65.0 % |
| Croissant | 4,329 / 6,483 | 33.2 % | 40.4 % | −9.8 % … 55.9 % | 58.3 / 54.9 % |
| Konditorei | 3,626 / 4,045 | 10.4 % | 16.8 % | −53.1 % … 33.2 % | 56.3 / 58.5 % |
| Kuchen | 7,188 / 9,595 | 25.1 % | 16.9 % | −4.0 % … 55.3 % | 60.2 / 58.8 % |
| Saisonbrot | 636 / 954 | 33.3 % | 32.4 % | 15.4 % … 49.4 % (2 windows) | 65.5 / 60.0 % |
| all products | 27,832 / 38,792 | 28.3 % | 30.8 % | −8.0 % … 49.1 % | 59.0 / 58.8 % |

Over the year the model wastes 28.3 % less than the bakery's best rule of thumb at matched service level (59.0 %
vs 58.8 % of day × product without a stock-out), and loses less revenue to stock-outs (19,663 vs 27,495 EUR);
its cost (0.4 × waste + 0.6 × lost sales) is 28.4 % lower. The windows differ: from 49.1 % less waste
(December–January) to 8.0 % more (June–July, where the rule's service level fell to 42 % against the model's
55 %). Secondary: with the rule's margin chosen on each window itself (hindsight, which favours the rule) the
model still wastes 24.7 % less. The 30 % target is reached for Croissant and Saisonbrot at a service level at
least the rule's, for Brötchen (41.0 %) at a service level 3 points below the rule's, not for Brot, Konditorei
or Kuchen, and not overall (28.3 %; median window 30.8 %).
Caveats: recorded sales are not true demand (sold-out days hide demand); the day's observed weather stands in
for a forecast; revenue stands in for quantity."""


RESULTS_DE = """Kernergebnis: Abfall bei gleichem Servicegrad. Das letzte Jahr (01.08.2017 … 31.07.2018, 1.840 Zeilen
Tag × Produkt, Werte in EUR Umsatz) wird in sechs rollierenden Fenstern von etwa zwei Monaten zurückgehalten. Vor
jedem Fenster erhalten die Faustregeln („gleicher Wochentag letzte Woche“, „Mittel der letzten 4 gleichen
Wochentage“) einen Sicherheitsaufschlag, der auf dem Jahr davor so gewählt wird, dass ihr Servicegrad dort dem des
Modells entspricht; die Regel mit weniger Abfall dort ist die beste Regel der Bäckerei für dieses Produkt.
Abfallminderung bei gleichem Servicegrad, über das Jahr und über seine Fenster (Median, schlechtestes … bestes):

| Produkt | Abfall Modell/Regel (EUR) | Minderung | Median | schlechtestes … bestes Fenster | Servicegrad Modell/Regel |
|---|---:|---:|---:|---:|---:|
| Brot | 4.739 / 5.309 | 10,7 % | 19,4 % | −46,4 % … 30,4 % | 57,1 / 56,3 % |
| Brötchen | 7.314 / 12.405 | 41,0 % | 33,6 % | 11,2 % … 60,7 % | 61,9 / 65,0 % |
| Croissant | 4.329 / 6.483 | 33,2 % | 40,4 % | −9,8 % … 55,9 % | 58,3 / 54,9 % |
| Konditorei | 3.626 / 4.045 | 10,4 % | 16,8 % | −53,1 % … 33,2 % | 56,3 / 58,5 % |
| Kuchen | 7.188 / 9.595 | 25,1 % | 16,9 % | −4,0 % … 55,3 % | 60,2 / 58,8 % |
| Saisonbrot | 636 / 954 | 33,3 % | 32,4 % | 15,4 % … 49,4 % (2 Fenster) | 65,5 / 60,0 % |
| alle Produkte | 27.832 / 38.792 | 28,3 % | 30,8 % | −8,0 % … 49,1 % | 59,0 / 58,8 % |

Über das Jahr wirft das Modell 28,3 % weniger weg als die beste Faustregel der Bäckerei bei gleichem Servicegrad
(59,0 % gegenüber 58,8 % der Tage × Produkte ohne Ausverkauf) und verliert weniger Umsatz durch Ausverkauf (19.663
gegenüber 27.495 EUR); seine Kosten (0,4 × Abfall + 0,6 × entgangener Umsatz) sind 28,4 % niedriger. Die Fenster
unterscheiden sich: von 49,1 % weniger Abfall (Dezember–Januar) bis 8,0 % mehr (Juni–Juli, wo der Servicegrad der
Regel auf 42 % fiel, gegenüber 55 % beim Modell). Zusätzlich: Wird der Aufschlag der Regel auf jedem Fenster selbst
gewählt (im Nachhinein, was die Regel begünstigt), wirft das Modell immer noch 24,7 % weniger weg. Das Ziel von 30 %
wird für Croissant und Saisonbrot bei einem Servicegrad mindestens gleich dem der Regel erreicht, für Brötchen
(41,0 %) bei einem Servicegrad 3 Punkte unter dem der Regel, nicht für Brot, Konditorei oder Kuchen und nicht
insgesamt (28,3 %; Median der Fenster 30,8 %).
Einschränkungen: Erfasste Verkäufe sind nicht die wahre Nachfrage (ausverkaufte Tage verbergen Nachfrage); das am
Tag beobachtete Wetter steht für eine Vorhersage; der Umsatz steht für die Menge."""

TEXTS_DE = {
    "title": "Eine Bäckerei plant ihre Produktion mit KI und backt weniger für die Tonne",
    "summary": "Das Backhaus Kiel sagt den Bedarf des nächsten Tages je Warengruppe vorher und backt die "
    "kostenoptimale Menge: 28 % weniger Abfall als mit seiner besten Faustregel bei gleichem Servicegrad über ein "
    "zurückgehaltenes Jahr (von 8 % mehr bis 49 % weniger in Zwei-Monats-Fenstern).",
    "body": RESULTS_DE,
}

STORY: dict[str, Any] = {
    "kind": "story",
    "slug": "bakery-bakes-less-waste",
    "title": "A bakery plans production with AI and bakes less waste",
    "summary": "Backhaus Kiel forecasts next-day demand per product group and bakes the newsvendor quantity: "
    "28 % less waste than its best rule of thumb at the same service level over a held-out year "
    "(from 8 % more to 49 % less in two-month windows).",
    "body": RESULTS,
    "tags": ["food", "forecasting", "retail"],
    "visibility": "public",
    "details": {
        "organization": "Backhaus Kiel GmbH (demo)",
        "results": RESULTS,
        "texts": {"de": TEXTS_DE},
        "metrics": {
            "waste_reduction_pct": 28.3,
            "waste_reduction_median_pct": 30.8,
            "waste_reduction_min_pct": -8.0,
            "waste_reduction_max_pct": 49.1,
            "service_level_model_pct": 59.0,
            "service_level_baseline_pct": 58.8,
            "cost_reduction_pct": 28.4,
        },
    },
}
