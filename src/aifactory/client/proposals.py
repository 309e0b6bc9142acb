"""Proposals (applications for GPU time), their reviews and the decision."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, cast

from .base import ClientBase, Json, Page, without_none


class ProposalsMixin(ClientBase):
    """Drafts, submission, reviewers, reviews and decisions."""

    def list_proposals(
        self,
        *,
        status: str | None = None,
        call_id: int | None = None,
        order: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        return self._get_page("/proposals", status=status, call_id=call_id, order=order, limit=limit, offset=offset)

    def iter_proposals(
        self, *, status: str | None = None, call_id: int | None = None, order: str | None = None, page_size: int = 100
    ) -> Iterator[Json]:
        """Every visible proposal, fetched page by page."""
        return self._walk("/proposals", page_size, status=status, call_id=call_id, order=order)

    def create_proposal(self, body: Mapping[str, Any]) -> Json:
        """A draft from the API's ``ProposalCreate`` body (``call_id``, ``title``, ``requested_gpu_hours``, …)."""
        return self._call("POST", "/proposals", dict(body))

    def get_proposal(self, proposal_id: int) -> Json:
        return self._get(f"/proposals/{proposal_id}")

    def edit_proposal(self, proposal_id: int, changes: Mapping[str, Any]) -> Json:
        return self._call("PATCH", f"/proposals/{proposal_id}", dict(changes))

    def submit_proposal(self, proposal_id: int) -> Json:
        return self._call("POST", f"/proposals/{proposal_id}/submit")

    def withdraw_proposal(self, proposal_id: int) -> Json:
        return self._call("POST", f"/proposals/{proposal_id}/withdraw")

    def assign_reviewers(self, proposal_id: int, reviewer_ids: Sequence[int]) -> list[Json]:
        answer = self.request("POST", f"/proposals/{proposal_id}/reviewers", json={"reviewer_ids": list(reviewer_ids)})
        return cast(list[Json], answer)

    def list_reviews(self, proposal_id: int) -> list[Json]:
        return self._get_list(f"/proposals/{proposal_id}/reviews")

    def submit_review(
        self,
        proposal_id: int,
        *,
        scores: Mapping[str, int],
        comments: Mapping[str, str] | None = None,
        summary: str = "",
    ) -> Json:
        review = {"scores": dict(scores), "comments": dict(comments or {}), "summary": summary}
        return self._call("POST", f"/proposals/{proposal_id}/reviews", review)

    def review_queue(self) -> list[Json]:
        return self._get_list("/reviews/queue")

    def decide(
        self,
        proposal_id: int,
        decision: str,
        *,
        reason: str = "",
        awarded_gpu_hours: int | None = None,
        start_date: date | str | None = None,
    ) -> Json:
        """``decision`` is ``accept`` or ``reject`` (a rejection needs a reason)."""
        start = start_date.isoformat() if isinstance(start_date, date) else start_date
        verdict = without_none(decision=decision, reason=reason, awarded_gpu_hours=awarded_gpu_hours, start_date=start)
        return self._call("POST", f"/proposals/{proposal_id}/decision", verdict)
