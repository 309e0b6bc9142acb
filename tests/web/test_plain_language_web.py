"""Plain language where applicants are: a template's own words (labels, one-line help, units, per language) on
its form, the method folded under "How it works"; the shipped templates all have them, in German too."""

from __future__ import annotations

import pytest

from aifactory.catalog.loader import load_templates
from aifactory.domain import reasons
from aifactory.domain.errors import InvalidInput
from aifactory.domain.templates import check_template
from aifactory.web.i18n import Translator
from aifactory.web.params_form import coerce, param_fields
from aifactory.web.reasons_text import reason_text
from tests.support.portal import Portal

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "waste_cost": {
            "type": "number",
            "default": 0.4,
            "title": "Cost of one item thrown away",
            "description": "What an unsold item costs you.",
            "x-unit": "EUR per item",
            "x-title-de": "Kosten eines weggeworfenen Stücks",
            "x-unit-de": "EUR je Stück",
        },
        "start": {"type": "string", "format": "date"},
    },
}


def test_a_parameter_speaks_the_viewers_language_and_falls_back_to_its_own_words() -> None:
    de = {f.name: f for f in param_fields(SCHEMA, "de")}
    en = {f.name: f for f in param_fields(SCHEMA, "en")}
    assert (de["waste_cost"].label, de["waste_cost"].unit) == ("Kosten eines weggeworfenen Stücks", "EUR je Stück")
    assert de["waste_cost"].description == "What an unsold item costs you."  # no German help: its own
    assert (en["waste_cost"].label, en["waste_cost"].unit) == ("Cost of one item thrown away", "EUR per item")
    assert (en["start"].kind, en["start"].label) == ("date", "start")  # no title: the name
    assert de["waste_cost"].shown(0.4, "de") == "0,4" and en["waste_cost"].shown(0.4, "en") == "0.4"
    assert coerce(list(de.values()), {"params.waste_cost": "0,25", "params.start": "2026-03-01"}) == {
        "waste_cost": 0.25,
        "start": "2026-03-01",
    }


def test_the_template_check_accepts_words_for_people_and_refuses_anything_else_in_them() -> None:
    doc = {
        "name": "t",
        "title": "T",
        "title_de": "T auf Deutsch",
        "summary": "",
        "how_it_works": "A *method*.",
        "parameters": SCHEMA,
        "job": {"command": ["true"]},
    }
    check_template(doc)
    bad = {**doc, "parameters": {**SCHEMA, "properties": {"n": {"type": "integer", "x-unit": 5}}}}
    with pytest.raises(InvalidInput) as exc:
        check_template(bad)
    assert exc.value.errors[0].field.startswith("parameters.properties")
    with pytest.raises(InvalidInput):
        check_template({**doc, "how_it_works_german": "x"})


def test_every_shipped_parameter_has_a_label_help_and_german_words() -> None:
    for t in load_templates():
        assert t.texts()["de"]["title"], t.name
        for name, prop in t.doc["parameters"]["properties"].items():
            where = f"{t.name}.{name}"
            assert prop.get("title") and prop.get("description"), where
            assert prop.get("x-title-de") and prop.get("x-description-de"), where
            assert ("x-unit" in prop) == ("x-unit-de" in prop), where
            assert len(prop["description"]) <= 140, where  # one line


def test_the_bakery_form_in_german_has_labels_with_units_help_and_the_method_folded(portal: Portal) -> None:
    web = portal.browser("anna")
    project = portal.api.project_of("bakery")
    web.post("/lang", {"lang": "de", "next": "/"})
    html = web.get(f"/projects/{project}/templates/bakery-forecast").text
    assert "<h1>Bäckerei: Bedarf vorhersagen, weniger wegwerfen</h1>" in html
    assert 'Kosten eines weggeworfenen Stücks <span class="unit">(EUR je Stück)</span>' in html
    assert "Was ein unverkauftes Stück Sie kostet" in html and "Standard: 0,4 EUR je Stück" in html
    assert "Benötigt: 2 Prozessorkerne, 4G Arbeitsspeicher, höchstens 30 Minuten je Lauf" in html
    assert "Tage zum Prüfen des Ergebnisses" in html and "co:" not in html[: html.index("<details")]
    folded = html[html.index('<details class="panel" id="how-it-works">') :]
    assert folded.startswith('<details class="panel" id="how-it-works">\n  <summary>So funktioniert es</summary>')
    assert "Newsvendor" in folded and "Newsvendor" not in html[: html.index("<details")]
    english = portal.browser("anna").get(f"/projects/{project}/templates/bakery-forecast").text
    assert 'Cost of one item thrown away <span class="unit">(EUR per item)</span>' in english
    assert "<summary>How it works</summary>" in english and "newsvendor" in english
    assert "LightGBM" not in english[: english.index("<details")]


def test_the_factorys_own_reasons_are_codes_read_back_from_the_unchanged_stored_sentence() -> None:
    made = [
        reasons.auto_approved(500, 1000),
        reasons.held_max_proposals(1, 1),
        reasons.held_max_proposals(3, 2),
        reasons.held_max_gpu_hours(1200, 12, 300, 1400),
    ]
    assert made[0].text == "auto-approved: 500 ≤ 1000 GPU-hours"  # the API's string, as before
    assert [reasons.read(r.text) for r in made] == made
    assert reasons.read("Out of scope.") == reasons.Reason(reasons.OPERATOR, "Out of scope.")
    assert reasons.read("auto-approved: 5 ≤ 10 GPU-hours, and more").code == reasons.OPERATOR
    de, en = Translator("de"), Translator("en")
    assert reason_text(made[3].text, de.gettext, "de") == (
        "Der Betrieb entscheidet: Ihrer Organisation wurden in dieser Ausschreibung in den letzten 12 Monaten "
        "1.200 GPU-Stunden automatisch bewilligt; mit den jetzt beantragten 300 sind das mehr als die 1.400, die "
        "ohne Begutachtung bewilligt werden."
    )
    assert "already has one open or accepted proposal in" in reason_text(made[1].text, en.gettext, "en")
    assert reason_text("Out of scope.", de.gettext, "de") == "Out of scope."


def test_the_proposal_list_gives_the_auto_approval_in_words_in_the_viewers_language(portal: Portal) -> None:
    web = portal.browser("anna")
    english = web.get("/proposals").text
    assert "Approved automatically: 500 GPU-hours asked for, within the 1,000 GPU-hours" in english
    web.post("/lang", {"lang": "de", "next": "/"})
    german = web.get("/proposals").text
    assert "Automatisch bewilligt: 500 GPU-Stunden beantragt, innerhalb der 1.000 GPU-Stunden" in german
    assert "auto-approved" not in german and "≤" not in german
    pid = portal.api.pid("bakery")
    assert "Automatisch bewilligt" in web.get(f"/proposals/{pid}").text
    api = portal.api.ok("GET", f"/proposals/{pid}", "anna")
    assert api["decision_reason"] == "auto-approved: 500 ≤ 1000 GPU-hours"  # the API keeps its string
    assert api["reason_code"] == "auto_approved"
    gridwise = portal.api.ok("GET", f"/proposals/{portal.api.pid('gridwise')}", "daan")
    assert gridwise["reason_code"] == "operator" and "award reduced" in gridwise["decision_reason"]


def _call_page(portal: Portal, slug: str, lang: str = "en") -> str:
    with portal.api.uow_factory(write=False) as uow:
        call = uow.calls.by_slug(slug)
    web = portal.browser()
    if lang != "en":
        web.post("/lang", {"lang": lang, "next": "/"})
    page = web.get(f"/calls/{call.id}")
    assert page.status_code == 200
    return page.text


def test_a_call_page_says_who_may_apply_what_to_ask_for_what_happens_next_and_how_it_is_judged(
    portal: Portal,
) -> None:
    page = _call_page(portal, "large-scale-2026")
    guide = page[page.index('id="call-guide"') :]
    assert "Who may apply" in guide and "Organizations of these kinds:" in guide
    assert "Ask for between " in guide and "GPU-hours (one GPU working for one hour is one GPU-hour)" in guide
    sizing = guide[guide.index('id="sizing"') : guide.index("</ul>", guide.index('id="sizing"'))]
    # the templates' own resources: text-classify-finetune 1 GPU for 30m, hello-gpu 1 GPU for 5 minutes
    assert "Text: fine-tune a transformer to sort customer feedback: 1 GPU(s) for up to 30 minutes" in sizing
    assert "Hello, GPU: 1 GPU(s) for up to 5 minutes" in sizing and "100 runs ≈" in sizing
    assert "Bakery: forecast demand, bake less waste: runs without a GPU" in sizing
    # cut-offs on the 1st and 15th; the clock is 2026-03-02: cut-off 2026-03-15, then 10 working days
    assert "the next cut-off on 2026-03-15" in guide and "decision by 2026-03-27 at the latest" in guide
    assert "2 reviewer(s) read each proposal" in guide
    assert "<dt>Excellence</dt>" in guide and "<dt>Feasibility</dt>" in guide and "<dt>Impact</dt>" in guide


def test_a_playground_call_in_german_says_it_approves_at_once_and_when_otherwise(portal: Portal) -> None:
    guide = _call_page(portal, "playground-2026", "de")
    guide = guide[guide.index('id="call-guide"') :]
    assert "Wer sich bewerben kann" in guide and "Jede Organisation" in guide
    assert "Bis 1.000 GPU-Stunden" in guide and "sofort bewilligt" in guide
    assert "sobald sie eingehen" in guide and "spätestens am 04.03.2026" in guide  # 2 working days
    assert "Bäckerei: Bedarf vorhersagen, weniger wegwerfen: läuft ohne GPU" in guide
    assert "Sonst liest der Betrieb Ihren Antrag" in guide and "Machbarkeit" in guide


def test_a_signed_in_home_shows_their_proposals_projects_and_jobs_and_a_visitor_the_offer(portal: Portal) -> None:
    anna = portal.browser("anna")
    project = portal.api.project_of("bakery")
    anna.get(f"/projects/{project}/templates/hello-gpu")
    r = anna.post(f"/projects/{project}/templates/hello-gpu", {})
    assert r.status_code == 303
    job = r.headers["location"].rsplit("/", 1)[1]
    home = anna.get("/").text
    assert "<h1>Your overview</h1>" in home and "GPU time for AI, with support</h1>" not in home
    mine = home[home.index('id="my-proposals"') :]
    assert f'href="/proposals/{portal.api.pid("bakery")}"' in mine and "Approved automatically" in mine
    assert f'href="/projects/{project}"' in mine[mine.index('id="my-projects"') :]
    assert f'href="/jobs/{job}">#{job}</a>' in mine[mine.index('id="my-jobs"') :]
    assert "Short-term grid load forecasting" not in home  # another organization's proposal
    anna.post("/lang", {"lang": "de", "next": "/"})
    german = anna.get("/").text
    assert "<h1>Ihre Übersicht</h1>" in german and "Neueste Jobs" in german and "Automatisch bewilligt" in german
    visitor = portal.browser().get("/").text
    assert "GPU time for AI, with support</h1>" in visitor and 'id="my-proposals"' not in visitor
