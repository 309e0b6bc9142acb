"""``aifactory calls``: access calls (playground, fast lane, large scale) and their settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from ..domain.enums import AccessMode, Enforcement
from .output import Col, Row, show_page, show_record
from .params import IntList, StrList, int_list, str_list
from .state import api

app = typer.Typer(help="Access calls: list, show, create, update.", no_args_is_help=True)

# option name -> API field of the call settings (create and update share them)
SETTINGS = {
    "title": "title",
    "description": "description",
    "opens_on": "opens_on",
    "closes_on": "closes_on",
    "closed": "closed",
    "kinds": "eligible_kinds",
    "countries": "eligible_countries",
    "min_gpu_hours": "min_gpu_hours",
    "max_gpu_hours": "max_gpu_hours",
    "auto_approve": "auto_approve_gpu_hours",
    "reviews": "required_reviews",
    "durations": "durations_months",
    "decision_days": "decision_working_days",
    "cutoffs": "cutoff_days",
    "max_wall_hours": "max_wall_hours",
    "enforcement": "enforcement",
    "resources": "resource_ids",
    "self_service_proposals": "self_service_max_proposals",
    "self_service_gpu_hours": "self_service_max_gpu_hours",
    "self_service_months": "self_service_period_months",
    "questions": "questions",
}
NO_CAP = "none"

Description = Annotated[str | None, typer.Option(help="what the call offers")]
OPENS_ON = typer.Option(help="first day of the call (YYYY-MM-DD)")
ClosesOn = Annotated[str | None, typer.Option(help="last day (YYYY-MM-DD); none: rolling")]
Closed = Annotated[bool | None, typer.Option("--closed/--reopen", help="close the call early, or reopen it")]
Kinds = Annotated[
    StrList | None, typer.Option(parser=str_list, metavar="KIND,…", help="eligible organization kinds (empty: all)")
]
Countries = Annotated[
    StrList | None, typer.Option(parser=str_list, metavar="CC,…", help="eligible countries, ISO codes (empty: all)")
]
MinHours = Annotated[int | None, typer.Option(help="smallest request in GPU-hours")]
MAX_HOURS = typer.Option(help="largest request in GPU-hours")
AutoApprove = Annotated[int | None, typer.Option(help="accept at once up to these GPU-hours (no ethics flags)")]
Reviews = Annotated[int | None, typer.Option(help="reviews required before a decision")]
Durations = Annotated[
    IntList | None, typer.Option(parser=int_list, metavar="N,…", help="allowed allocation durations in months")
]
DecisionDays = Annotated[int | None, typer.Option(help="working days from submission (or cut-off) to decision")]
Cutoffs = Annotated[
    IntList | None,
    typer.Option(parser=int_list, metavar="DAY,…", help="days of the month that are cut-offs (empty: rolling)"),
]
MaxWall = Annotated[int | None, typer.Option(help="longest job in hours")]
EnforcementOpt = Annotated[Enforcement | None, typer.Option(help="hard: stop at the budget; soft: allow overrun")]
RESOURCES = typer.Option(parser=int_list, metavar="ID,…", help="resource ids offered")


def cap(value: str) -> str | int:
    """A self-service cap: a whole number, or ``none`` (no cap)."""
    if value.strip().lower() == NO_CAP:
        return NO_CAP
    try:
        number = int(value)
    except ValueError:
        raise typer.BadParameter(f"expected a whole number or 'none', got {value!r}") from None
    if number < 0:
        raise typer.BadParameter("must not be negative")
    return number


SelfServiceProposals = Annotated[
    str | None,
    typer.Option(
        parser=cap,
        metavar="N|none",
        help="auto-approval only while the organization has fewer open or accepted proposals here (none: no cap)",
    ),
]
SelfServiceHours = Annotated[
    str | None,
    typer.Option(
        parser=cap,
        metavar="N|none",
        help="GPU-hours auto-approved to one organization per period, at most (none: no cap)",
    ),
]
SelfServiceMonths = Annotated[int | None, typer.Option(min=1, max=60, help="the GPU-hours cap's rolling period")]


QuestionsOpt = Annotated[
    str | None,
    typer.Option(
        "--questions",
        metavar="KEYS|@FILE",
        help="what applicants answer beyond the basics: standard keys, '!' for required "
        "(work_plan!,milestones!,data_readiness,code_readiness,team_experience,impact,attachment), "
        "@file.yaml with a list of questions of your own, or none",
    ),
]


def questions_body(spec: str | None) -> list[dict[str, Any]] | None:
    """The API's question list from ``--questions``: keys (``work_plan!``: required), ``@file`` or ``none``."""
    if spec is None:
        return None
    if spec.strip().lower() == NO_CAP:
        return []
    if spec.startswith("@"):
        path = Path(spec[1:])
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="'--questions'") from None
        if not isinstance(data, list) or not all(isinstance(q, dict) for q in data):
            raise typer.BadParameter(f"{path} must hold a list of questions", param_hint="'--questions'")
        return data
    keys = [k.strip() for k in spec.split(",") if k.strip()]
    return [{"key": k.rstrip("!"), "required": k.endswith("!")} for k in keys]


TextOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--text",
        metavar="LANG.FIELD=TEXT",
        help="the title or description in another language, shown to people who read the portal in it, e.g. "
        "--text de.title='KI-Fabrik Spielwiese' (TEXT @file: read from a file; empty: back to the call's own; repeat)",
    ),
]
TRANSLATED = ("title", "description")


def texts_body(specs: list[str] | None, current: dict[str, dict[str, str]] | None = None) -> dict[str, Any] | None:
    """The API's ``texts`` from ``--text de.title=…`` options, on top of the call's ``current`` ones."""
    if not specs:
        return None
    out: dict[str, dict[str, str]] = {lang: dict(words) for lang, words in (current or {}).items()}
    for spec in specs:
        key, sep, value = spec.partition("=")
        lang, _, name = key.strip().partition(".")
        if not sep or name not in TRANSLATED or not lang:
            raise typer.BadParameter(f"{spec!r}: write LANG.title=TEXT or LANG.description=TEXT", param_hint="'--text'")
        if value.startswith("@"):
            try:
                value = Path(value[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise typer.BadParameter(f"cannot read {value[1:]}: {exc.strerror}", param_hint="'--text'") from None
        out.setdefault(lang.lower(), {})[name] = value
    return out


def settings_body(options: dict[str, Any]) -> dict[str, Any]:
    """The API body from a command's options (its ``locals()``): only the options that were given (``none``
    for a self-service cap: null, no cap)."""
    options = {**options, "questions": questions_body(options.get("questions"))}
    given = {field: options[name] for name, field in SETTINGS.items() if options.get(name) is not None}
    return {field: None if value == NO_CAP else value for field, value in given.items()}


def cleared(body: dict[str, Any]) -> list[str]:
    """The settings the body sets to null (a self-service cap given as ``none``)."""
    return [field for field, value in body.items() if value is None]


def _caps(c: Row) -> str:
    proposals = c.get("self_service_max_proposals")
    hours = c.get("self_service_max_gpu_hours")
    left = "no cap" if proposals is None else f"{proposals} open or accepted"
    right = "no cap" if hours is None else f"{hours:,} GPU-hours per {c.get('self_service_period_months')} months"
    return f"{left}; {right} (per organization)"


def _questions(c: Row) -> str:
    asked = [f"{q['key']}{' (required)' if q['required'] else ''}" for q in c.get("questions") or []]
    return ", ".join(asked) or "nothing beyond the basics"


def _hours(c: Row) -> str:
    return f"{c['min_gpu_hours']:,}–{c['max_gpu_hours']:,}"


CALL_COLS = [
    Col("ID", "id", justify="right"),
    Col("Slug", "slug", wrap=True),
    Col("Mode", "access_mode"),
    Col("Open", "is_open", style=lambda v: "green" if v else "dim"),
    Col("GPU-hours", _hours, justify="right"),
    Col("Auto ≤", "auto_approve_gpu_hours", justify="right", optional=True),
    Col("Reviews", "required_reviews", justify="right"),
    Col("Months", lambda c: ",".join(map(str, c["durations_months"])), optional=True),
]


CALL_FIELDS = [
    *CALL_COLS[:2],
    Col("Title", "title"),
    *CALL_COLS[2:],
    Col("Site", "site_id", names="site"),
    Col("Opens", "opens_on"),
    Col("Closes", "closes_on"),
    Col("Closed early", "closed"),
    Col("Eligible kinds", "eligible_kinds"),
    Col("Eligible countries", "eligible_countries"),
    Col("Decision", lambda c: f"{c['decision_working_days']} working days"),
    Col("Cut-off days", "cutoff_days"),
    Col("Max wall time", lambda c: f"{c['max_wall_hours']} h"),
    Col("Enforcement", "enforcement"),
    Col("Resources", "resource_ids", names="resource"),
    Col("Self-service limits", _caps),
    Col("Asks applicants", _questions),
    Col("Description", "description"),
    Col("In other languages", lambda c: ", ".join(sorted(c.get("texts") or {})) or "–", optional=True),
]


@app.command("list")
def list_calls(
    open_: Annotated[bool, typer.Option("--open", help="only calls open today")] = False,
    mode: Annotated[AccessMode | None, typer.Option(help="only this access mode")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """List access calls."""
    page = api().list_calls(access_mode=mode.value if mode else None, open_only=open_, limit=limit, offset=offset)
    show_page(page, CALL_COLS, title="Calls")


@app.command("show")
def show_call(call_id: Annotated[int, typer.Argument(help="call id")]) -> None:
    """Show a call with all its settings."""
    show_record(api().get_call(call_id), CALL_FIELDS)


@app.command("create")
def create_call(
    slug: Annotated[str, typer.Option(help="short name, e.g. playground-2026")],
    title: Annotated[str, typer.Option()],
    mode: Annotated[AccessMode, typer.Option(help="access mode")],
    site: Annotated[int, typer.Option(help="site id")],
    opens_on: Annotated[str, OPENS_ON],
    max_gpu_hours: Annotated[int, MAX_HOURS],
    resources: Annotated[IntList, RESOURCES],
    description: Description = None,
    closes_on: ClosesOn = None,
    kinds: Kinds = None,
    countries: Countries = None,
    min_gpu_hours: MinHours = None,
    auto_approve: AutoApprove = None,
    reviews: Reviews = None,
    durations: Durations = None,
    decision_days: DecisionDays = None,
    cutoffs: Cutoffs = None,
    max_wall_hours: MaxWall = None,
    enforcement: EnforcementOpt = None,
    self_service_proposals: SelfServiceProposals = None,
    self_service_gpu_hours: SelfServiceHours = None,
    self_service_months: SelfServiceMonths = None,
    questions: QuestionsOpt = None,
    text: TextOpt = None,
) -> None:
    """Create a call (operators)."""
    body = settings_body(locals()) | {"slug": slug, "access_mode": mode.value, "site_id": site}
    if (texts := texts_body(text)) is not None:
        body["texts"] = texts
    show_record(api().create_call(**body, clear=cleared(body)), CALL_FIELDS, title="Call created")


@app.command("update")
def update_call(
    call_id: Annotated[int, typer.Argument(help="call id")],
    title: Annotated[str | None, typer.Option()] = None,
    description: Description = None,
    opens_on: Annotated[str | None, OPENS_ON] = None,
    closes_on: ClosesOn = None,
    closed: Closed = None,
    kinds: Kinds = None,
    countries: Countries = None,
    min_gpu_hours: MinHours = None,
    max_gpu_hours: Annotated[int | None, MAX_HOURS] = None,
    auto_approve: AutoApprove = None,
    reviews: Reviews = None,
    durations: Durations = None,
    decision_days: DecisionDays = None,
    cutoffs: Cutoffs = None,
    max_wall_hours: MaxWall = None,
    enforcement: EnforcementOpt = None,
    resources: Annotated[IntList | None, RESOURCES] = None,
    self_service_proposals: SelfServiceProposals = None,
    self_service_gpu_hours: SelfServiceHours = None,
    self_service_months: SelfServiceMonths = None,
    questions: QuestionsOpt = None,
    text: TextOpt = None,
) -> None:
    """Change some settings of a call (operators); options left out stay as they are."""
    body = settings_body(locals())
    if text:
        body["texts"] = texts_body(text, api().get_call(call_id).get("texts"))
    if not body:
        raise typer.BadParameter("name at least one setting to change (see --help)")
    show_record(api().update_call(call_id, **body, clear=cleared(body)), CALL_FIELDS, title="Call updated")
