"""The demo history's proposals and their decisions, as the services write them: submitted (audited) with a
decision deadline from the call's working days and the site's holidays; on the playground auto-accepted at once;
on the fast lane and at large scale assigned to reviewers, reviewed and then accepted (often with a reduced
award) or rejected, with a reason written for people; the most recent still waiting in the operator's queue.

Pure: rows from a random generator and the demo's ids; nothing here reads or writes a database."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .demo_history_jobs import audit_row
from .domain.calendar import add_months, decision_deadline, holiday_calendar
from .domain.enums import ProposalStatus
from .domain.reasons import auto_approved

Row = dict[str, Any]

# per access mode: share of the proposals, GPU-hours asked for (from, to, step)
MODES = {"playground": (45, (100, 1_000, 50)), "fast_lane": (37, (2_000, 50_000, 1_000)), "large_scale": (18, None)}
LARGE = (60_000, 500_000, 10_000)
QUEUED_DAYS = 7  # reviewed proposals submitted in the last week are still waiting for the operator's decision
ACCEPT_SHARE = {"fast_lane": 0.8, "large_scale": 0.65}

TOPICS = {  # an organization's application field -> what its projects are about
    "food": [
        "Demand forecasting for bakery branches",
        "Shelf-life prediction for fresh produce",
        "Recipe optimisation with small language models",
    ],
    "energy-climate": [
        "Short-term wind power forecasting",
        "Regional climate downscaling with diffusion models",
        "Heat-pump demand forecasting for district grids",
    ],
    "health": [
        "Segmentation of CT scans for radiotherapy planning",
        "Triage of dermatology images",
        "Clinical note summarisation in French",
    ],
    "mobility": [
        "Pedestrian intent prediction from dashcam video",
        "Traffic flow simulation for smart intersections",
        "Lidar point-cloud labelling at scale",
    ],
    "education": [
        "Plain-language rewriting of municipal letters",
        "Speech recognition for council meetings",
        "Search over the city archive",
    ],
}
ACCEPT_REASONS = (
    "Sound plan and data in place; awarded as requested.",
    "Clear impact; the award follows the reviewers' advice on the work plan.",
    "Feasible within the period; the award is reduced to match the milestones.",
)
REJECT_REASONS = (
    "The work plan does not show how the GPU-hours would be used; please resubmit with milestones.",
    "The data are not ready yet (no agreement with the data holder); please apply again once they are.",
    "Better suited to the playground first: a smaller test would show feasibility.",
)


@dataclass(frozen=True)
class Org:
    id: int
    name: str
    kind: str
    author_id: int  # who writes its proposals in the history (a colleague of the demo's applicant)
    fields: tuple[str, ...]


@dataclass
class Decided:
    """A proposal accepted in the history: what the project and its allocation are made from."""

    proposal_id: int
    mode: str
    title: str
    org: Org
    resource_id: int
    awarded: int
    months: int
    at: datetime
    by: int | None


@dataclass
class Plan:
    rows: dict[str, list[Row]] = field(default_factory=dict)
    accepted: list[Decided] = field(default_factory=list)

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)


@dataclass
class Context:
    rng: random.Random
    now: datetime
    ids: dict[str, int]
    operator_id: int
    reviewer_ids: tuple[int, ...]
    calls: dict[str, Row]  # call id -> its row
    plan: Plan
    holidays: Any = None
    titles: dict[str, int] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table] - 1

    def audit(self, at: datetime, actor: int | None, action: str, kind: str, entity: int, **change: Any) -> None:
        before = change.pop("before", None)
        row = audit_row(self.next_id("audit_events"), at, actor, action, (kind, entity), before, change or None)
        self.plan.add("audit_events", row)


def _requested(rng: random.Random, mode: str) -> int:
    low, high, step = MODES[mode][1] or LARGE
    return rng.randrange(low, high + 1, step)


def _title(ctx: Context, org: Org) -> tuple[str, str]:
    fld = ctx.rng.choice(org.fields)
    base = ctx.rng.choice(TOPICS.get(fld, TOPICS["food"]))
    n = ctx.titles[base] = ctx.titles.get(base, 0) + 1
    return (base if n == 1 else f"{base}, phase {n}"), fld


def proposal(ctx: Context, call: Row, org: Org, resource_id: int, submitted: datetime) -> None:
    """One submitted proposal and what became of it by ``ctx.now``."""
    rng, mode = ctx.rng, call["access_mode"]
    pid = ctx.next_id("proposals")
    title, fld = _title(ctx, org)
    requested, months = _requested(rng, mode), rng.choice(call["durations_months"])
    if ctx.holidays is None:
        ctx.holidays = holiday_calendar("DE", "NW", range(ctx.now.year - 2, ctx.now.year + 2))
    deadline = decision_deadline(submitted.date(), call["decision_working_days"], call["cutoff_days"], ctx.holidays)
    row: Row = {
        "id": pid,
        "call_id": call["id"],
        "lead_organization_id": org.id,
        "author_id": org.author_id,
        "title": title,
        "abstract": f"{title}: a {months}-month project on the {call['title']}.",
        "application_field": fld,
        "requested_gpu_hours": requested,
        "resource_id": resource_id,
        "duration_months": months,
        "team": [],
        "risk_category": "high" if fld == "health" else "minimal",
        "personal_data": fld == "health",
        "health_data": fld == "health",
        "dual_use": False,
        "ethics_notes": "",
        "status": ProposalStatus.SUBMITTED,
        "submitted_at": submitted,
        "decision_deadline": deadline,
        "decided_at": None,
        "decided_by": None,
        "decision_reason": "",
        "awarded_gpu_hours": None,
        "created_at": submitted - timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 6)),
        "updated_at": submitted,
        "version": 2,
        "held_reason": "",
    }
    ctx.plan.add("proposals", row)
    ctx.audit(
        submitted,
        org.author_id,
        "proposal.submitted",
        "proposal",
        pid,
        before={"status": "draft"},
        status="submitted",
        decision_deadline=deadline.isoformat(),
    )
    if mode == "playground":
        reason = auto_approved(requested, call["auto_approve_gpu_hours"] or 0).text
        _decide(ctx, row, org, submitted, None, requested, reason, "auto_accept")
    else:
        _reviewed(ctx, row, org, call, deadline)


def _at(day: date, hour: int, rng: random.Random) -> datetime:
    return datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=UTC)


def _reviewed(ctx: Context, row: Row, org: Org, call: Row, deadline: date) -> None:
    rng, mode, submitted = ctx.rng, call["access_mode"], row["submitted_at"]
    assigned = submitted + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
    if assigned > ctx.now:
        return  # waiting for reviewers
    reviewers = (
        ctx.reviewer_ids[: call["required_reviews"]] if mode == "large_scale" else (rng.choice(ctx.reviewer_ids),)
    )
    row["status"], row["version"] = ProposalStatus.UNDER_REVIEW, 3
    assignments: dict[int, dict[str, Any]] = {}
    for rid in reviewers:
        aid = ctx.next_id("review_assignments")
        assignments[rid] = {
            "id": aid,
            "proposal_id": row["id"],
            "reviewer_id": rid,
            "assigned_by": ctx.operator_id,
            "assigned_at": assigned,
            "declared_at": None,  # declared no conflict of interest when the review came in (below)
            "conflict": None,
            "conflict_note": "",
        }
        ctx.plan.add("review_assignments", assignments[rid])
        ctx.audit(
            assigned,
            ctx.operator_id,
            "review.assigned",
            "reviewassignment",
            aid,
            proposal_id=row["id"],
            reviewer_id=rid,
        )
    ctx.audit(
        assigned,
        ctx.operator_id,
        "proposal.reviewers_assigned",
        "proposal",
        row["id"],
        before={"status": "submitted"},
        status="under_review",
    )
    last = assigned
    for rid in reviewers:
        at = assigned + timedelta(days=rng.uniform(1.0, 6.0 if mode == "large_scale" else 2.5))
        if at > ctx.now:
            continue
        last = max(last, at)
        assignments[rid].update(declared_at=at, conflict=False)
        scores = {c: rng.randint(2, 5) for c in ("excellence", "impact", "feasibility")}
        review_id = ctx.next_id("reviews")
        ctx.plan.add(
            "reviews",
            {
                "id": review_id,
                "proposal_id": row["id"],
                "reviewer_id": rid,
                **{f"score_{c}": s for c, s in scores.items()},
                "comment_excellence": "",
                "comment_impact": "",
                "comment_feasibility": "",
                "summary": "Clear aims; the resources asked for fit the work plan.",
                "submitted_at": at,
            },
        )
        ctx.audit(at, rid, "review.submitted", "review", review_id, proposal_id=row["id"], **scores)
    n_reviews = sum(1 for r in ctx.plan.rows.get("reviews", []) if r["proposal_id"] == row["id"])
    on_time = _at(deadline, 9, rng) + timedelta(days=rng.randint(-3, 5))  # operators are late now and then
    decided = max(last + timedelta(hours=rng.randint(2, 30)), on_time)
    if n_reviews < len(reviewers) or decided > ctx.now or submitted > ctx.now - timedelta(days=QUEUED_DAYS):
        return  # still under review: in the operator's queue
    if rng.random() < ACCEPT_SHARE[mode]:
        requested = row["requested_gpu_hours"]
        cut = rng.choice((1.0, 1.0, 0.8, 0.6))
        step = 100 if mode == "fast_lane" else 10_000
        awarded = max(call["min_gpu_hours"], int(requested * cut) // step * step)
        reason = ACCEPT_REASONS[2] if awarded < requested else rng.choice(ACCEPT_REASONS[:2])
        _decide(ctx, row, org, decided, ctx.operator_id, awarded, reason, "accept")
    else:
        row.update(
            status=ProposalStatus.REJECTED,
            decided_at=decided,
            updated_at=decided,
            version=4,
            decided_by=ctx.operator_id,
            decision_reason=rng.choice(REJECT_REASONS),
        )
        ctx.audit(
            decided,
            ctx.operator_id,
            "proposal.rejected",
            "proposal",
            row["id"],
            before={"status": "under_review"},
            status="rejected",
            decision_reason=row["decision_reason"],
        )


def _decide(
    ctx: Context, row: Row, org: Org, at: datetime, by: int | None, awarded: int, reason: str, action: str
) -> None:
    before = row["status"].value
    row.update(
        status=ProposalStatus.ACCEPTED,
        decided_at=at,
        updated_at=at,
        decided_by=by,
        decision_reason=reason,
        awarded_gpu_hours=awarded,
        version=row["version"] + 1,
    )
    ctx.audit(
        at,
        by,
        f"proposal.{action}ed",
        "proposal",
        row["id"],
        before={"status": before},
        status="accepted",
        decision_reason=reason,
        awarded_gpu_hours=awarded,
    )
    mode = ctx.calls[row["call_id"]]["access_mode"]
    ctx.plan.accepted.append(
        Decided(row["id"], mode, row["title"], org, row["resource_id"], awarded, row["duration_months"], at, by)
    )


def allocation_end(start: date, months: int) -> date:
    return add_months(start, months) - timedelta(days=1)
