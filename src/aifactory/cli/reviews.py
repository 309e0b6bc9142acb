"""``aifactory reviews`` (assign, queue, list, submit) and ``aifactory decide``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from .output import Col, done, show_rows, status_style
from .params import pairs
from .proposals import ProposalId, show_proposal
from .state import api

app = typer.Typer(help="Reviews: assign reviewers, your review queue, scores and comments.", no_args_is_help=True)

Score = Annotated[int, typer.Option(min=1, max=5, help="score 1–5")]

ASSIGNMENT_COLS = [
    Col("Assignment", "id", justify="right"),
    Col("Proposal", "proposal_id", justify="right"),
    Col("Reviewer", "reviewer_id", justify="right"),
    Col("Assigned", "assigned_at"),
]
QUEUE_COLS = [
    Col("Proposal", "proposal_id", justify="right"),
    Col("Title", "proposal_title", wrap=True),
    Col("Status", "proposal_status", style=status_style),
    Col("Reviewed", "reviewed", style=lambda v: "green" if v else "yellow"),
    Col("Ethics", "ethics_flags", style=lambda v: "yellow" if v else None, wrap=True),
    Col("Assigned", "assigned_at", optional=True),
]
REVIEW_COLS = [
    Col("ID", "id", justify="right"),
    Col("Reviewer", "reviewer_id"),
    *[Col(c.capitalize(), f"scores.{c}", justify="right") for c in ("excellence", "impact", "feasibility")],
    Col("Mean", "mean_score", justify="right"),
    Col("Submitted", "submitted_at", optional=True),
]


class Decision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


@app.command("assign")
def assign(
    proposal_id: ProposalId,
    reviewer: Annotated[list[int], typer.Option("--reviewer", help="reviewer's user id; repeat for more")],
) -> None:
    """Assign reviewers to a submitted proposal (operators); it moves to under_review."""
    show_rows(
        api().assign_reviewers(proposal_id, reviewer), ASSIGNMENT_COLS, title=f"Reviewers of proposal {proposal_id}"
    )


@app.command("queue")
def queue() -> None:
    """Your assigned proposals, the ones still to review first."""
    show_rows(api().review_queue(), QUEUE_COLS, title="Review queue")


def _texts(reviews: list[dict[str, Any]]) -> str | None:
    """The comments and summaries under the score table, one paragraph each."""
    lines = [
        f"Review {r['id']}, {label}: {text}"
        for r in reviews
        for label, text in [*r["comments"].items(), ("summary", r["summary"])]
        if text
    ]
    return "\n".join(lines) or None


@app.command("list")
def list_reviews(proposal_id: ProposalId) -> None:
    """The reviews of a proposal with scores and comments (applicants: anonymous, once decided)."""
    reviews = api().list_reviews(proposal_id)
    show_rows(reviews, REVIEW_COLS, title=f"Reviews of proposal {proposal_id}", extra=[_texts(reviews)])


@app.command("submit")
def submit(
    proposal_id: ProposalId,
    excellence: Score,
    impact: Score,
    feasibility: Score,
    comment: Annotated[
        list[str] | None,
        typer.Option("--comment", metavar="CRITERION=TEXT", help="a comment on one criterion; repeat for more"),
    ] = None,
    summary: Annotated[str, typer.Option(help="overall assessment")] = "",
    no_conflict: Annotated[
        bool, typer.Option("--no-conflict", help="declare with it that you have no conflict of interest")
    ] = False,
) -> None:
    """Score a proposal assigned to you (excellence, impact, feasibility), after declaring your interests."""
    scores = {"excellence": excellence, "impact": impact, "feasibility": feasibility}
    comments = pairs(comment, "--comment")
    review = api().submit_review(
        proposal_id, scores=scores, comments=comments, summary=summary, declare_no_conflict=no_conflict
    )
    done(review, f"Review {review['id']} of proposal {proposal_id} submitted (mean score {review['mean_score']})")


@app.command("declare")
def declare(
    proposal_id: ProposalId,
    no_conflict: Annotated[bool, typer.Option("--no-conflict", help="you have no conflict of interest")] = False,
    conflict: Annotated[
        str | None, typer.Option("--conflict", metavar="WHAT", help="you have one: say what (you are recused)")
    ] = None,
) -> None:
    """Declare your interests in a proposal assigned to you, before you score it."""
    if no_conflict == (conflict is not None):
        raise typer.BadParameter("give either --no-conflict or --conflict WHAT")
    a = api().declare_interests(proposal_id, conflict=conflict is not None, note=conflict or "")
    message = (
        f"Declared a conflict of interest with proposal {proposal_id}: you are recused"
        if a["conflict"]
        else f"Declared no conflict of interest with proposal {proposal_id}: you can score it now"
    )
    done(a, message)


def decide(
    proposal_id: ProposalId,
    decision: Annotated[Decision, typer.Argument(help="accept or reject")],
    gpu_hours: Annotated[
        int | None, typer.Option("--gpu-hours", help="GPU-hours awarded (default: as requested)")
    ] = None,
    reason: Annotated[str, typer.Option(help="why (required to reject)")] = "",
    start_date: Annotated[str | None, typer.Option(help="allocation start, YYYY-MM-DD (default: today)")] = None,
) -> None:
    """Accept (creating the project and its allocation) or reject a proposal (operators)."""
    p: dict[str, Any] = api().decide(
        proposal_id, decision.value, reason=reason, awarded_gpu_hours=gpu_hours, start_date=start_date
    )
    show_proposal(p, title=f"Proposal {p['id']} {p['status']}")
