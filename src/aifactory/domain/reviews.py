"""Reviews: per-criterion scores, and the conflict-of-interest rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .enums import Criterion
from .errors import FieldError, Forbidden, InvalidInput

SCORE_MIN, SCORE_MAX = 1, 5


@dataclass(eq=False, kw_only=True)
class ReviewAssignment:
    proposal_id: int
    reviewer_id: int
    assigned_by: int | None
    assigned_at: datetime
    id: int | None = None


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
