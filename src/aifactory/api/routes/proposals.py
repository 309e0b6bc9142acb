from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, status

from ...domain.enums import ProposalStatus
from ...domain.proposals import Proposal
from ...services import decisions, proposals
from ..deps import AppContext, Ctx, CurrentActor, IdPath, IdQuery, Paging, Uow
from ..schemas.common import Page, page_of
from ..schemas.identity import UserOut
from ..schemas.proposals import (
    AssignmentOut,
    DecisionIn,
    ProposalCreate,
    ProposalFields,
    ProposalOut,
    QueueItemOut,
    ReviewersIn,
    ReviewIn,
    ReviewOut,
)

router = APIRouter(tags=["proposals and reviews"])


def out(uow: Any, ctx: AppContext, p: Proposal) -> ProposalOut:
    return ProposalOut.of(p, proposals.due(uow, ctx.clock, p), uow.attachments.for_proposal(p.stored_id))


@router.get(
    "/proposals",
    response_model=Page[ProposalOut],
    summary="Proposals visible to you; operators get overdue and soon-due first",
)
def list_proposals(
    actor: CurrentActor,
    uow: Uow,
    ctx: Ctx,
    page: Paging,
    status: ProposalStatus | None = None,
    call_id: IdQuery = None,
    order: Literal["deadline", "created"] | None = None,
) -> dict[str, Any]:
    result = proposals.list_visible(uow, actor, page, status=status, call_id=call_id, order=order)
    due = proposals.due_map(uow, ctx.clock, result.items)
    converted: dict[str, Any] = page_of(result, lambda p: ProposalOut.of(p, due[p.stored_id]))
    return converted


@router.post("/proposals", status_code=status.HTTP_201_CREATED, response_model=ProposalOut)
def create_proposal(body: ProposalCreate, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ProposalOut:
    fields = body.service_fields()
    call_id = fields.pop("call_id")
    return out(uow, ctx, proposals.create_draft(uow, ctx.clock, actor, call_id=call_id, **fields))


@router.get("/proposals/{proposal_id}", response_model=ProposalOut)
def get_proposal(proposal_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ProposalOut:
    return out(uow, ctx, proposals.get(uow, actor, proposal_id))


@router.patch("/proposals/{proposal_id}", response_model=ProposalOut)
def edit_proposal(proposal_id: IdPath, body: ProposalFields, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ProposalOut:
    return out(uow, ctx, proposals.edit(uow, ctx.clock, actor, proposal_id, body.service_fields()))


@router.post("/proposals/{proposal_id}/submit", response_model=ProposalOut)
def submit_proposal(proposal_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ProposalOut:
    submitted = proposals.submit(uow, ctx.clock, actor, proposal_id)
    ctx.kick_reconciler()  # accepted at once: its project's scheduler account and limit are set up now
    return out(uow, ctx, submitted)


@router.post("/proposals/{proposal_id}/withdraw", response_model=ProposalOut)
def withdraw_proposal(proposal_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ProposalOut:
    return out(uow, ctx, proposals.withdraw(uow, ctx.clock, actor, proposal_id))


@router.post("/proposals/{proposal_id}/reviewers", response_model=list[AssignmentOut])
def assign_reviewers(
    proposal_id: IdPath, body: ReviewersIn, actor: CurrentActor, uow: Uow, ctx: Ctx
) -> list[AssignmentOut]:
    assigned = decisions.assign_reviewers(uow, ctx.clock, actor, proposal_id, body.reviewer_ids)
    return [AssignmentOut.model_validate(a) for a in assigned]


@router.get(
    "/proposals/{proposal_id}/reviewer-candidates",
    response_model=list[UserOut],
    summary="Who may be assigned to review the proposal now (operators): no conflict of interest, not yet assigned",
)
def reviewer_candidates(proposal_id: IdPath, actor: CurrentActor, uow: Uow) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in decisions.reviewer_candidates(uow, actor, proposal_id)]


@router.get("/proposals/{proposal_id}/reviews", response_model=list[ReviewOut])
def list_reviews(proposal_id: IdPath, actor: CurrentActor, uow: Uow) -> list[ReviewOut]:
    reviews, anonymous = decisions.reviews_of(uow, actor, proposal_id)
    return [ReviewOut.of(r, anonymous) for r in reviews]


@router.post("/proposals/{proposal_id}/reviews", status_code=status.HTTP_201_CREATED, response_model=ReviewOut)
def submit_review(proposal_id: IdPath, body: ReviewIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ReviewOut:
    review = decisions.submit_review(
        uow,
        ctx.clock,
        actor,
        proposal_id,
        scores={k.value: v for k, v in body.scores.items()},
        comments={k.value: v for k, v in body.comments.items()},
        summary=body.summary,
        declare_no_conflict=body.declare_no_conflict,
    )
    return ReviewOut.of(review, anonymous=False)


@router.post("/proposals/{proposal_id}/decision", response_model=ProposalOut)
def decide(proposal_id: IdPath, body: DecisionIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ProposalOut:
    p = decisions.decide(
        uow,
        ctx.clock,
        actor,
        proposal_id,
        accept_it=body.decision == "accept",
        reason=body.reason,
        awarded_gpu_hours=body.awarded_gpu_hours,
        start_date=body.start_date,
    )
    ctx.kick_reconciler()  # an accepted project's scheduler account and limit are set up now
    return out(uow, ctx, p)


@router.get("/reviews/queue", response_model=list[QueueItemOut], summary="Your assigned proposals (reviewers)")
def review_queue(actor: CurrentActor, uow: Uow) -> list[QueueItemOut]:
    return [
        QueueItemOut(
            **AssignmentOut.model_validate(a).model_dump(),
            proposal_title=p.title,
            proposal_status=p.status,
            reviewed=reviewed,
            ethics_flags=p.ethics_flags,
        )
        for a, p, reviewed in decisions.review_queue(uow, actor)
    ]
