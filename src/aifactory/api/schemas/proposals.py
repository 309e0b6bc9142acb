from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from ...domain import reasons
from ...domain.enums import ApplicationField, Criterion, DueStatus, ProposalStatus, RiskCategory
from ...domain.proposals import allowed_asks
from ...domain.questions import MAX_QUESTIONS
from .common import Id, In, LongText, Out, refuse_null
from .questions import Answer, AttachmentOut, Key

Hours = Annotated[int, Field(ge=1, le=100_000_000, description="GPU-hours")]


class TeamMemberIn(In):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(max_length=254)]
    role: Annotated[str, Field(max_length=100)] = ""


class EthicsIn(In):
    """EU AI Act and ethics self-assessment of the intended use."""

    risk_category: RiskCategory = RiskCategory.MINIMAL
    personal_data: bool = False
    health_data: bool = False
    dual_use: bool = False
    notes: LongText = ""


class ProposalFields(In):
    title: Annotated[str, Field(max_length=300)] | None = None
    abstract: LongText | None = None
    application_field: ApplicationField | None = None
    requested_gpu_hours: Hours | None = None
    resource_id: Id | None = None
    duration_months: Annotated[int, Field(ge=1, le=60)] | None = None
    team: Annotated[list[TeamMemberIn], Field(max_length=100)] | None = None
    partner_organization_ids: Annotated[list[Id], Field(max_length=50)] | None = None
    ethics: EthicsIn | None = None
    answers: Annotated[dict[Key, Answer], Field(max_length=MAX_QUESTIONS)] | None = Field(
        default=None,
        description="answers to the call's questions by key: text, or [{month, title}] for milestones; "
        "null removes one; keys left out stay as they are",
    )

    _no_nulls = field_validator("*", mode="before")(refuse_null)

    def service_fields(self) -> dict[str, Any]:
        """Flatten to the service's field names, keeping only what the client sent."""
        data = self.model_dump(exclude_unset=True, exclude={"ethics", "answers"})
        if self.answers is not None:
            data["answers"] = {
                k: [m.model_dump() for m in v] if isinstance(v, list) else v for k, v in self.answers.items()
            }
        if self.ethics is not None:
            e = self.ethics.model_dump(exclude_unset=True)
            if "notes" in e:
                e["ethics_notes"] = e.pop("notes")
            data.update(e)
        return data


class ProposalCreate(ProposalFields):
    call_id: Id
    title: Annotated[str, Field(min_length=1, max_length=300)]
    requested_gpu_hours: Hours
    resource_id: Id
    duration_months: Annotated[int, Field(ge=1, le=60)]


class EthicsOut(Out):
    risk_category: RiskCategory
    personal_data: bool
    health_data: bool
    dual_use: bool
    notes: str
    flags: list[str]


class ProposalOut(Out):
    id: int
    call_id: int
    status: ProposalStatus
    title: str
    abstract: str
    application_field: ApplicationField
    requested_gpu_hours: int
    resource_id: int
    duration_months: int
    team: list[dict[str, str]]
    lead_organization_id: int
    partner_organization_ids: list[int]
    author_id: int
    ethics: EthicsOut
    answers: dict[str, Any]
    attachments: list[AttachmentOut] = []
    submitted_at: datetime | None
    decision_deadline: date | None
    due_status: DueStatus
    decided_at: datetime | None
    decision_reason: str
    reason_code: str = Field(
        description="who gave the decision reason: auto_approved (the call's automatic approval; figures in the "
        "reason) or operator (a person's words); empty before a decision"
    )
    awarded_gpu_hours: int | None
    held_reason: str = Field(
        description="why it waits for an operator although the call auto-approves (a self-service limit); "
        "empty otherwise"
    )
    allowed_actions: list[str] = Field(
        description="what the proposal's state allows (edit, submit, withdraw, assign, review, decide); "
        "whether you may do it depends on your role as well"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, p: Any, due: DueStatus, attachments: list[Any] | None = None) -> ProposalOut:
        ethics = EthicsOut(
            risk_category=p.risk_category,
            personal_data=p.personal_data,
            health_data=p.health_data,
            dual_use=p.dual_use,
            notes=p.ethics_notes,
            flags=p.ethics_flags,
        )
        derived = ("ethics", "due_status", "allowed_actions", "reason_code", "attachments")
        fields = {k: getattr(p, k) for k in cls.model_fields if k not in derived}
        code = reasons.read(p.decision_reason).code if p.decision_reason else ""
        files = [AttachmentOut.model_validate(a) for a in attachments or []]
        return cls(
            **fields,
            ethics=ethics,
            due_status=due,
            allowed_actions=allowed_asks(p.status),
            reason_code=code,
            attachments=files,
        )


class ReviewersIn(In):
    reviewer_ids: Annotated[list[Id], Field(min_length=1, max_length=20)]


class AssignmentOut(Out):
    id: int
    proposal_id: int
    reviewer_id: int
    assigned_by: int | None
    assigned_at: datetime
    declared_at: datetime | None = Field(description="when the reviewer declared their interests (null: not yet)")
    conflict: bool | None = Field(description="the reviewer declared a conflict of interest and is recused")
    conflict_note: str


class DeclarationIn(In):
    """The reviewer's declaration of interests, made before scoring."""

    conflict: bool = Field(description="true: you have a conflict of interest with this proposal (you are recused)")
    note: LongText = Field(default="", description="what the conflict is (required with conflict: true)")


class QueueItemOut(AssignmentOut):
    proposal_title: str
    proposal_status: ProposalStatus
    reviewed: bool
    ethics_flags: list[str]


class ReviewIn(In):
    scores: dict[Criterion, Annotated[int, Field(ge=1, le=5)]] = Field(
        description="one score per criterion (excellence, impact, feasibility), 1–5"
    )
    comments: dict[Criterion, LongText] = {}
    summary: LongText = ""
    declare_no_conflict: bool = Field(
        default=False,
        description="true declares that you have no conflict of interest with this proposal (needed once "
        "before scoring, unless you POSTed your declaration before)",
    )


class ReviewOut(Out):
    id: int
    proposal_id: int
    reviewer_id: int | None
    scores: dict[str, int]
    comments: dict[str, str]
    summary: str
    mean_score: float
    submitted_at: datetime

    @classmethod
    def of(cls, r: Any, anonymous: bool) -> ReviewOut:
        crit = [c.value for c in Criterion]
        return cls(
            id=r.id,
            proposal_id=r.proposal_id,
            reviewer_id=None if anonymous else r.reviewer_id,
            scores={c: getattr(r, f"score_{c}") for c in crit},
            comments={c: getattr(r, f"comment_{c}") for c in crit if getattr(r, f"comment_{c}")},
            summary=r.summary,
            mean_score=round(r.mean_score, 2),
            submitted_at=r.submitted_at,
        )


class DecisionIn(In):
    decision: Literal["accept", "reject"]
    reason: LongText = ""
    awarded_gpu_hours: Hours | None = None
    start_date: date | None = None
