"""A proposal's attachments (``proposal_attachments``): one row per attachment question answered."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..domain.attachments import ProposalAttachment
from . import tables as t
from .repositories import Repository


class AttachmentRepository(Repository[ProposalAttachment]):
    entity = ProposalAttachment

    def for_proposal(self, proposal_id: int) -> list[ProposalAttachment]:
        c = t.proposal_attachments.c
        stmt = select(ProposalAttachment).where(c.proposal_id == proposal_id).order_by(c.key)
        return list(self.session.scalars(stmt))

    def find(self, proposal_id: int, key: str) -> ProposalAttachment | None:
        c = t.proposal_attachments.c
        stmt = select(ProposalAttachment).where(c.proposal_id == proposal_id, c.key == key)
        return self.session.scalar(stmt)

    def remove(self, attachment: ProposalAttachment) -> None:
        self.session.execute(delete(t.proposal_attachments).where(t.proposal_attachments.c.id == attachment.id))
        self.session.expunge(attachment)
