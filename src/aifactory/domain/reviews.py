"""Reviews: per-criterion scores, and the conflict-of-interest rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .enums import Criterion
from .errors import Conflict, FieldError, Forbidden, InvalidInput

SCORE_MIN, SCORE_MAX = 1, 5


@dataclass(eq=False, kw_only=True)
class ReviewAssignment:
    proposal_id: int
    reviewer_id: int
    assigned_by: int | None
    assigned_at: datetime
    # the reviewer's declaration of interests, made before scoring (None: not declared yet)
    declared_at: datetime | None = None
    conflict: bool | None = None
    conflict_note: str = ""
    id: int | None = None

    @property
    def recused(self) -> bool:
        """The reviewer declared a conflict of interest: they score nothing, another reviewer is needed."""
        return self.conflict is True


def check_may_declare(a: ReviewAssignment, reviewed: bool, conflict: bool, note: str) -> None:
    """A declaration comes before the review; a conflict, once declared, stands (an operator assigns another)."""
    if reviewed:
        raise Conflict("you have already reviewed this proposal; your declaration was made then")
    if a.recused:
        raise Conflict("you declared a conflict of interest with this proposal; an operator assigns another reviewer")
    if conflict and not note.strip():
        raise InvalidInput.on("note", "say in a few words what the conflict is (e.g. a former employer)")
    if len(note) > 2000:
        raise InvalidInput.on("note", "at most 2000 characters")


def check_may_score(a: ReviewAssignment) -> None:
    """Scores only after the reviewer declared no conflict of interest with the proposal."""
    if a.recused:
        raise Forbidden("you declared a conflict of interest with this proposal and cannot review it")
    if a.declared_at is None:
        raise Conflict(
            "declare your interests first: confirm that you have no conflict of interest with this proposal "
            "(declare_no_conflict: true, or POST the declaration)"
        )


@dataclass(eq=False, kw_only=True)
class Review:
    proposal_id: int
    reviewer_id: int
    score_excellence: int
    score_impact: int
    score_feasibility: int
    comment_excellence: str = ""
    comment_impact: str = ""
    comment_feasibility: str = ""
    summary: str = ""
    submitted_at: datetime
    id: int | None = None

    @property
    def mean_score(self) -> float:
        return (self.score_excellence + self.score_impact + self.score_feasibility) / 3


def validate_scores(scores: dict[str, int]) -> None:
    errs = []
    for c in Criterion:
        v = scores.get(c.value)
        if v is None:
            errs.append(FieldError(f"scores.{c.value}", "a score is required"))
        elif not SCORE_MIN <= v <= SCORE_MAX:
            errs.append(FieldError(f"scores.{c.value}", f"must be between {SCORE_MIN} and {SCORE_MAX}"))
    unknown = set(scores) - {c.value for c in Criterion}
    errs += [FieldError(f"scores.{u}", "unknown criterion") for u in sorted(unknown)]
    if errs:
        raise InvalidInput("invalid review scores", errs)


def check_no_conflict(reviewer_org_id: int | None, proposal_org_ids: set[int]) -> None:
    """No reviewer from the applicant's organization or any partner organization."""
    if reviewer_org_id is not None and reviewer_org_id in proposal_org_ids:
        raise Forbidden("conflict of interest: the reviewer belongs to an organization of this proposal")
