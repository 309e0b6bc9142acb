"""Proposals (applications for GPU time), their reviews and the decision."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any, cast

from .base import ClientBase, HttpCall, Json, Page, decoded, without_none

PDF = {"content-type": "application/pdf"}


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
        declare_no_conflict: bool = False,
    ) -> Json:
        """``declare_no_conflict``: declare with the review that you have no conflict of interest (one declaration
        is needed before scoring: this, or :meth:`declare_interests`)."""
        review = {"scores": dict(scores), "comments": dict(comments or {}), "summary": summary}
        if declare_no_conflict:
            review["declare_no_conflict"] = True
        return self._call("POST", f"/proposals/{proposal_id}/reviews", review)

    def declare_interests(self, proposal_id: int, *, conflict: bool, note: str = "") -> Json:
        """The assigned reviewer's declaration: no conflict (then score), or a conflict (recused)."""
        return self._call("POST", f"/proposals/{proposal_id}/declaration", {"conflict": conflict, "note": note})

    def check_proposal(self, proposal_id: int) -> Json:
        """What submission would refuse now: ``{ready, problems: [{field, message, section}], waiting_for}``."""
        return self._get(f"/proposals/{proposal_id}/checks")

    def attach(self, proposal_id: int, key: str, data: bytes, filename: str) -> Json:
        """Upload the PDF that the call's attachment question ``key`` asks for (replaces an earlier one)."""
        url = f"{self.base_url}/proposals/{proposal_id}/attachments/{key}"
        call = HttpCall("PUT", url, params={"filename": filename}, content=data, headers=PDF)
        return cast(Json, decoded(self._send(call)))

    def remove_attachment(self, proposal_id: int, key: str) -> None:
        self.request("DELETE", f"/proposals/{proposal_id}/attachments/{key}")

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
