"""Proposals: the entity, its ethics self-assessment and its state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from .enums import ApplicationField, ProposalStatus, RiskCategory
from .errors import Conflict, FieldError, InvalidInput

S = ProposalStatus


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    AUTO_ACCEPT = "auto_accept"
    ASSIGN_REVIEWERS = "assign_reviewers"
    REVIEW = "review"
    ACCEPT = "accept"
    REJECT = "reject"
    WITHDRAW = "withdraw"


#: (state, action) -> next state. Anything not listed is an invalid transition.
TRANSITIONS: dict[tuple[ProposalStatus, Action], ProposalStatus] = {
    (S.DRAFT, Action.EDIT): S.DRAFT,
    (S.DRAFT, Action.SUBMIT): S.SUBMITTED,
    (S.DRAFT, Action.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, Action.AUTO_ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, Action.ASSIGN_REVIEWERS): S.UNDER_REVIEW,
    (S.SUBMITTED, Action.ACCEPT): S.ACCEPTED,  # calls that need no review (required_reviews = 0)
    (S.SUBMITTED, Action.REJECT): S.REJECTED,  # e.g. out of scope, before any review
    (S.SUBMITTED, Action.WITHDRAW): S.WITHDRAWN,
    (S.UNDER_REVIEW, Action.ASSIGN_REVIEWERS): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, Action.REVIEW): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, Action.ACCEPT): S.ACCEPTED,
    (S.UNDER_REVIEW, Action.REJECT): S.REJECTED,
    (S.UNDER_REVIEW, Action.WITHDRAW): S.WITHDRAWN,
}

_VERBS = {Action.ASSIGN_REVIEWERS: "assign reviewers to"}

TERMINAL = frozenset({S.ACCEPTED, S.REJECTED, S.WITHDRAWN})

#: What people ask of a proposal: any Action by its name, "assign" (reviewers) and "decide" (accept or reject).
Ask = Action | Literal["assign", "decide"]
_CARRIED_BY: dict[str, tuple[Action, ...]] = {
    **{a.value: (a,) for a in Action},
    "assign": (Action.ASSIGN_REVIEWERS,),
    "decide": (Action.ACCEPT, Action.REJECT),
}
#: The asks that interfaces show (the automatic acceptance is no one's to ask).
ASKS: tuple[Ask, ...] = (Action.EDIT, Action.SUBMIT, Action.WITHDRAW, "assign", Action.REVIEW, "decide")


def allowed(status: ProposalStatus, action: Ask) -> bool:
    """Whether a proposal in ``status`` allows ``action``: read from TRANSITIONS, so no status list is restated.
    Who may ask it is the services' concern; this is the state's answer only."""
    return any((status, a) in TRANSITIONS for a in _CARRIED_BY[action])


def allowed_asks(status: ProposalStatus) -> list[str]:
    """The asks of ASKS that a proposal in ``status`` allows, by name."""
    return [str(a) for a in ASKS if allowed(status, a)]


def require(current: ProposalStatus, action: Action) -> None:
    """A Conflict naming the state and the allowed actions unless ``current`` allows ``action``."""
    if not allowed(current, action):
        names = sorted(a.value for (s, a) in TRANSITIONS if s == current)
        hint = f"allowed: {', '.join(names)}" if names else "it is final"
        verb = _VERBS.get(action, action.value.replace("_", " "))
        raise Conflict(f"cannot {verb} a proposal that is {current.value} ({hint})")


def transition(current: ProposalStatus, action: Action) -> ProposalStatus:
    """The state after ``action``, or a Conflict naming the state and the allowed actions."""
    require(current, action)
    return TRANSITIONS[(current, action)]


def check_reviews_in(done: int, required: int) -> None:
    """An acceptance waits for the call's required reviews."""
    if done < required:
        raise Conflict(f"{done} of the {required} required reviews are in; wait for the rest")


def decision_ready(status: ProposalStatus, done: int, required: int) -> bool:
    """Whether an operator may accept now: the state allows it and the required reviews are in."""
    return allowed(status, Action.ACCEPT) and done >= required


@dataclass(eq=False, kw_only=True)
class ProposalPartner:
    """A partner organization of a development partnership."""

    organization_id: int
    proposal_id: int | None = None


@dataclass(eq=False, kw_only=True)
class Proposal:
    call_id: int
    lead_organization_id: int
    author_id: int
    title: str
    abstract: str = ""
    application_field: ApplicationField = ApplicationField.OTHER
    requested_gpu_hours: int
    resource_id: int
    duration_months: int
    team: list[dict[str, str]] = field(default_factory=list)  # [{name, email, role}]
    partners: list[ProposalPartner] = field(default_factory=list)
    # Ethics and EU AI Act self-assessment
    risk_category: RiskCategory = RiskCategory.MINIMAL
    personal_data: bool = False
    health_data: bool = False
    dual_use: bool = False
    ethics_notes: str = ""
    answers: dict[str, Any] = field(default_factory=dict)  # to the call's questions (domain.questions), by key
    # Lifecycle
    status: ProposalStatus = ProposalStatus.DRAFT
    submitted_at: datetime | None = None
    decision_deadline: date | None = None
    decided_at: datetime | None = None
    decided_by: int | None = None
    decision_reason: str = ""
    awarded_gpu_hours: int | None = None
    held_reason: str = ""  # why it waits for an operator instead of being auto-approved (self-service limits)
    created_at: datetime
    updated_at: datetime
    version: int = 1
    id: int | None = None

    @property
    def stored_id(self) -> int:
        """The id of a stored proposal; asking it of one not yet stored is a programming error."""
        if self.id is None:
            raise ValueError("the proposal is not stored yet")
        return self.id

    @property
    def partner_organization_ids(self) -> list[int]:
        return [p.organization_id for p in self.partners]

    def set_partners(self, organization_ids: list[int]) -> None:
        """Replace the partner list, keeping existing links (no churn in the link table)."""
        keep = {p.organization_id: p for p in self.partners}
        self.partners[:] = [keep.get(o) or ProposalPartner(organization_id=o) for o in dict.fromkeys(organization_ids)]

    @property
    def organization_ids(self) -> set[int]:
        """Every organization taking part: the lead and all partners."""
        return {self.lead_organization_id, *self.partner_organization_ids}

    @property
    def ethics_flags(self) -> list[str]:
        return ethics_flags(self.risk_category, self.personal_data, self.health_data, self.dual_use)


def ethics_flags(risk: RiskCategory, personal_data: bool, health_data: bool, dual_use: bool) -> list[str]:
    """What reviewers and operators must look at; an empty list means nothing to flag."""
    flags = []
    if risk in (RiskCategory.PROHIBITED, RiskCategory.HIGH):
        flags.append(f"risk:{risk.value}")
    if personal_data:
        flags.append("personal_data")
    if health_data:
        flags.append("health_data")
    if dual_use:
        flags.append("dual_use")
    return flags


def check_submittable(p: Proposal) -> None:
    """Refusals at submission that do not depend on the call (the first one found)."""
    errs = submittable_problems(p)
    if errs:
        raise InvalidInput.on(errs[0].field, errs[0].message)


def submittable_problems(p: Proposal) -> list[FieldError]:
    """What keeps any proposal from being submitted: the EU AI Act's prohibited practices, no title, no abstract."""
    errs = []
    if p.risk_category is RiskCategory.PROHIBITED:
        message = (
            "the intended use is a prohibited AI practice under the EU AI Act (Art. 5); "
            "such proposals cannot be submitted"
        )
        errs.append(FieldError("risk_category", message))
    if not p.title.strip():
        errs.append(FieldError("title", "a submitted proposal needs a title"))
    if len(p.abstract.strip()) < 20:
        errs.append(FieldError("abstract", "a submitted proposal needs an abstract of at least 20 characters"))
    return errs


def auto_approvable(p: Proposal, threshold: int | None) -> bool:
    """The playground's instant acceptance: under the threshold and nothing for a human to look at."""
    return threshold is not None and p.requested_gpu_hours <= threshold and not p.ethics_flags


def check_award(requested: int, awarded: int) -> None:
    if awarded < 1:
        raise InvalidInput.on("awarded_gpu_hours", "must be at least 1")
    if awarded > requested:
        raise InvalidInput.on("awarded_gpu_hours", f"{awarded} exceeds the {requested} GPU-hours requested")
