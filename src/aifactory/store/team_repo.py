"""Invitations and partner consents (``invitations``, ``partner_consents``) in SQL Core: plain values in and
out. An invitation is used only by compare-and-set (``accept``), so that a replayed link finds it taken."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ..domain.teams import ConsentState, Invitation, InvitationKind, PartnerConsent
from . import tables as t


def _invitation(row: Row[Any]) -> Invitation:
    values = dict(row._mapping)
    values["kind"] = InvitationKind(values["kind"])
    return Invitation(**values)


def _consent(row: Row[Any]) -> PartnerConsent:
    values = dict(row._mapping)
    values["state"] = ConsentState(values["state"])
    return PartnerConsent(**values)


class TeamRepository:
    def __init__(self, session: Session):
        self.session = session

    # invitations
    def add_invitation(self, invitation: Invitation) -> Invitation:
        values = asdict(invitation)
        values.pop("id")
        values["kind"] = invitation.kind.value
        table = t.invitations
        invitation.id = self.session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
        return invitation

    def invitation(self, invitation_id: int) -> Invitation | None:
        row = self.session.execute(select(t.invitations).where(t.invitations.c.id == invitation_id)).first()
        return _invitation(row) if row else None

    def invitation_by_hash(self, token_hash: str) -> Invitation | None:
        row = self.session.execute(select(t.invitations).where(t.invitations.c.token_hash == token_hash)).first()
        return _invitation(row) if row else None

    def open_invitations(
        self, now: datetime, *, project_id: int | None = None, organization_id: int | None = None
    ) -> list[Invitation]:
        """Pending ones (not used, not revoked, not expired), oldest first; of a project, or an organization's own."""
        table = t.invitations
        query = select(table).where(
            table.c.accepted_at.is_(None), table.c.revoked_at.is_(None), table.c.expires_at > now
        )
        if project_id is not None:
            query = query.where(table.c.project_id == project_id)
        else:
            query = query.where(table.c.organization_id == organization_id, table.c.kind == "organization")
        return [_invitation(row) for row in self.session.execute(query.order_by(table.c.id))]

    def accept(self, invitation_id: int, user_id: int, at: datetime) -> bool:
        table = t.invitations
        done = self.session.execute(
            update(table)
            .where(table.c.id == invitation_id, table.c.accepted_at.is_(None), table.c.revoked_at.is_(None))
            .values(accepted_at=at, accepted_by=user_id)
        )
        return bool(getattr(done, "rowcount", 0) == 1)

    def revoke(self, invitation_id: int, at: datetime) -> bool:
        table = t.invitations
        done = self.session.execute(
            update(table)
            .where(table.c.id == invitation_id, table.c.accepted_at.is_(None), table.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(getattr(done, "rowcount", 0) == 1)

    # partner consents
    def consents(self, proposal_id: int) -> list[PartnerConsent]:
        table = t.partner_consents
        rows = self.session.execute(
            select(table).where(table.c.proposal_id == proposal_id).order_by(table.c.organization_id)
        )
        return [_consent(row) for row in rows]

    def consents_of(self, organization_id: int) -> list[PartnerConsent]:
        table = t.partner_consents
        rows = self.session.execute(
            select(table).where(table.c.organization_id == organization_id).order_by(table.c.id.desc())
        )
        return [_consent(row) for row in rows]

    def add_consent(self, consent: PartnerConsent) -> PartnerConsent:
        values = asdict(consent)
        values.pop("id")
        values["state"] = consent.state.value
        table = t.partner_consents
        consent.id = self.session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
        return consent

    def answer(self, consent_id: int, state: ConsentState, user_id: int, at: datetime) -> None:
        table = t.partner_consents
        self.session.execute(
            update(table).where(table.c.id == consent_id).values(state=state.value, answered_by=user_id, answered_at=at)
        )

    def drop_consents(self, proposal_id: int, keep: set[int]) -> None:
        """Forget the answers of organizations no longer named (a draft's partners changed)."""
        table = t.partner_consents
        rows = self.consents(proposal_id)
        for consent in rows:
            if consent.organization_id not in keep:
                self.session.execute(table.delete().where(table.c.id == consent.id))
