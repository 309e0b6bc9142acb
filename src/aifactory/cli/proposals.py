"""``aifactory proposals``: draft, edit, submit, withdraw, show and list applications for GPU time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from ..client import ApiError, Json
from ..domain.enums import ApplicationField, ProposalStatus, RiskCategory
from . import plan
from .output import Col, Row, done, show_page, show_record, show_rows, status_style, table
from .params import read_body, team_member
from .state import CliError, api

app = typer.Typer(help="Proposals: applications for GPU time under a call.", no_args_is_help=True)

# option name -> API field; the ethics self-assessment is nested under "ethics"
FIELDS = {
    "call": "call_id",
    "title": "title",
    "abstract": "abstract",
    "field": "application_field",
    "gpu_hours": "requested_gpu_hours",
    "resource": "resource_id",
    "months": "duration_months",
    "partner": "partner_organization_ids",
}
ETHICS = {
    "risk_category": "risk_category",
    "personal_data": "personal_data",
    "health_data": "health_data",
    "dual_use": "dual_use",
    "ethics_notes": "notes",
}

Title = Annotated[str | None, typer.Option(help="short title")]
Abstract = Annotated[str | None, typer.Option(help="what you will do (at least 20 characters to submit)")]
AppField = Annotated[ApplicationField | None, typer.Option("--field", help="application field")]
GpuHours = Annotated[int | None, typer.Option("--gpu-hours", help="GPU-hours requested")]
Resource = Annotated[int | None, typer.Option("--resource", help="resource id (see `aifactory sites list`)")]
Months = Annotated[int | None, typer.Option("--months", help="duration in months (one the call allows)")]
Partner = Annotated[list[int] | None, typer.Option("--partner", help="partner organization id; repeat for more")]
Team = Annotated[list[str] | None, typer.Option("--team", help='team member "Name <email> role"; repeat for more')]
Risk = Annotated[RiskCategory | None, typer.Option("--risk-category", help="EU AI Act risk of the intended use")]
PersonalData = Annotated[bool | None, typer.Option("--personal-data/--no-personal-data")]
HealthData = Annotated[bool | None, typer.Option("--health-data/--no-health-data")]
DualUse = Annotated[bool | None, typer.Option("--dual-use/--no-dual-use")]
EthicsNotes = Annotated[str | None, typer.Option("--ethics-notes", help="notes on the ethics self-assessment")]
BodyFile = Annotated[
    Path | None,
    typer.Option(
        "--file", exists=True, dir_okay=False, help="YAML or JSON file with the API body; options override it"
    ),
]
ProposalId = Annotated[int, typer.Argument(help="proposal id")]


def proposal_body(options: dict[str, Any]) -> dict[str, Any]:
    """The API body from ``--file`` and a command's options (its ``locals()``); options win."""
    body = read_body(options.get("file"))
    body.update({key: options[name] for name, key in FIELDS.items() if options.get(name) not in (None, [])})
    if options.get("team"):
        body["team"] = [team_member(t) for t in options["team"]]
    ethics = {key: options[name] for name, key in ETHICS.items() if options.get(name) is not None}
    if ethics:
        given = body.get("ethics")
        body["ethics"] = {**(given if isinstance(given, dict) else {}), **ethics}
    return body


def _due(p: Row) -> str | None:
    """overdue / due_soon / on_track while a decision is pending; nothing for drafts and decided ones."""
    return p["due_status"] if "decide" in p.get("allowed_actions", ()) else None


PROPOSAL_COLS = [
    Col("ID", "id", justify="right"),
    Col("Title", "title", wrap=True),
    Col("Status", "status", style=status_style),
    Col("Call", "call_id", wrap=True, names="call"),
    Col("GPU-h", "requested_gpu_hours", justify="right"),
    Col("Deadline", "decision_deadline", optional=True),
    Col("Due", _due, style=status_style),
    Col("Ethics", "ethics.flags", style=lambda v: "yellow" if v else None, wrap=True, optional=True),
]
PROPOSAL_FIELDS = [
    *PROPOSAL_COLS[:4],
    Col("Field", "application_field"),
    Col("Resource", "resource_id", names="resource"),
    Col("Requested GPU-hours", "requested_gpu_hours"),
    Col("Awarded GPU-hours", "awarded_gpu_hours"),
    Col("Months", "duration_months"),
    Col("Lead organization", "lead_organization_id", names="organization"),
    Col("Partners", "partner_organization_ids", names="organization"),
    Col("Author", "author_id"),
    Col("Risk category", "ethics.risk_category"),
    Col("Personal data", "ethics.personal_data"),
    Col("Health data", "ethics.health_data"),
    Col("Dual use", "ethics.dual_use"),
    PROPOSAL_COLS[7],
    Col("Ethics notes", "ethics.notes"),
    Col("Submitted", "submitted_at"),
    Col("Decision deadline", "decision_deadline"),
    PROPOSAL_COLS[6],
    Col("Decided", "decided_at"),
    Col("Decision reason", "decision_reason"),
    Col("Waits for an operator", lambda p: p.get("held_reason") or None),
    Col("Abstract", "abstract"),
]
TEAM_COLS = [Col("Name", "name", wrap=True), Col("E-mail", "email"), Col("Role", "role", wrap=True)]


def show_proposal(p: Row, title: str | None = None) -> None:
    team = table(p["team"], TEAM_COLS, title="Team") if p["team"] else None
    show_record(p, PROPOSAL_FIELDS, title=title or f"Proposal {p['id']}", extra=[team])


@app.command("list")
def list_proposals(
    status: Annotated[ProposalStatus | None, typer.Option(help="only this status")] = None,
    call: Annotated[int | None, typer.Option("--call", help="only this call")] = None,
    order: Annotated[
        Literal["deadline", "created"] | None,
        typer.Option(help="most urgent first (operators' default) or newest first"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    all_: Annotated[bool, typer.Option("--all", help="every page (JSON: a list)")] = False,
) -> None:
    """List the proposals you can see, with their decision deadline and whether it is overdue."""
    client, wanted = api(), status.value if status else None
    if all_:
        rows = list(client.iter_proposals(status=wanted, call_id=call, order=order))
        show_rows(rows, PROPOSAL_COLS, title="Proposals")
    else:
        page = client.list_proposals(status=wanted, call_id=call, order=order, limit=limit, offset=offset)
        show_page(page, PROPOSAL_COLS, title="Proposals")


@app.command("show")
def show(proposal_id: ProposalId) -> None:
    """Show a proposal: status, deadline, ethics self-assessment, team."""
    show_proposal(api().get_proposal(proposal_id))


@app.command("create")
def create(
    call: Annotated[int | None, typer.Option("--call", help="call id (or call_id in --file)")] = None,
    title: Title = None,
    abstract: Abstract = None,
    field: AppField = None,
    gpu_hours: GpuHours = None,
    resource: Resource = None,
    months: Months = None,
    partner: Partner = None,
    team: Team = None,
    risk_category: Risk = None,
    personal_data: PersonalData = None,
    health_data: HealthData = None,
    dual_use: DualUse = None,
    ethics_notes: EthicsNotes = None,
    file: BodyFile = None,
    submit_now: Annotated[
        bool, typer.Option("--submit", help="submit it right away (a draft stays if the submission is refused)")
    ] = False,
) -> None:
    """Create a draft proposal for your organization (from options and/or --file); --submit also submits it."""
    client = api()
    draft = client.create_proposal(proposal_body({k: v for k, v in locals().items() if k != "submit_now"}))
    if not submit_now:
        show_proposal(draft, title="Draft created")
        return
    try:
        _report_submitted(client.submit_proposal(draft["id"]))
    except ApiError as exc:
        raise CliError(
            f"draft {draft['id']} created but not submitted: {exc} (fix it with `aifactory proposals "
            f"edit {draft['id']}`, then `aifactory proposals submit {draft['id']}`)"
        ) from None


@app.command("edit")
def edit(
    proposal_id: ProposalId,
    title: Title = None,
    abstract: Abstract = None,
    field: AppField = None,
    gpu_hours: GpuHours = None,
    resource: Resource = None,
    months: Months = None,
    partner: Partner = None,
    team: Team = None,
    risk_category: Risk = None,
    personal_data: PersonalData = None,
    health_data: HealthData = None,
    dual_use: DualUse = None,
    ethics_notes: EthicsNotes = None,
    file: BodyFile = None,
) -> None:
    """Change a draft; what you leave out stays as it is (--team and --partner replace the lists)."""
    body = proposal_body(locals())
    if not body:
        raise typer.BadParameter("name at least one field to change (see --help)")
    show_proposal(api().edit_proposal(proposal_id, body), title="Draft updated")


@app.command("submit")
def submit(proposal_id: ProposalId) -> None:
    """Submit a draft: checks eligibility and ethics, fixes the decision deadline.

    Playground proposals under the call's threshold with no ethics flags are accepted at once.
    """
    _report_submitted(api().submit_proposal(proposal_id))


def _report_submitted(p: Json) -> None:
    if p["status"] == ProposalStatus.ACCEPTED:
        message = (
            f"Proposal {p['id']} accepted: {p['awarded_gpu_hours']:,} GPU-hours ({p['decision_reason']}); "
            "see `aifactory projects list`"
        )
    elif p.get("held_reason"):
        message = (
            f"Proposal {p['id']} submitted; an operator decides on it by {p['decision_deadline']} "
            f"instead of the automatic approval ({p['held_reason']})"
        )
    else:
        message = f"Proposal {p['id']} submitted; decision due by {p['decision_deadline']}"
    done(p, message)


@app.command("withdraw")
def withdraw(proposal_id: ProposalId) -> None:
    """Withdraw a proposal before it is decided."""
    p = api().withdraw_proposal(proposal_id)
    done(p, f"Proposal {p['id']} withdrawn")


app.command("answer")(plan.answer)
app.command("attach")(plan.attach)
app.command("check")(plan.check)
