"""The e-mailed links' rows (``account_tokens``) in SQL Core. A link is used by compare-and-set (``use``), so that
two clicks on it cannot both succeed."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ..domain.accounts import AccountToken, Purpose
from . import tables as t


def _token(row: Row[Any]) -> AccountToken:
    values = dict(row._mapping)
    values["purpose"] = Purpose(values["purpose"])
    return AccountToken(**values)


class AccountTokenRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, token: AccountToken) -> AccountToken:
        values = asdict(token)
        values.pop("id")
        values["purpose"] = token.purpose.value
        new_id = self.session.execute(
            insert(t.account_tokens).values(**values).returning(t.account_tokens.c.id)
        ).scalar_one()
        return AccountToken(**{**asdict(token), "id": new_id})

    def by_hash(self, token_hash: str) -> AccountToken | None:
        row = self.session.execute(select(t.account_tokens).where(t.account_tokens.c.token_hash == token_hash)).first()
        return _token(row) if row else None

    def use(self, token_id: int, at: datetime) -> bool:
        """Marks the token used; False when it already was (another request won)."""
        toks = t.account_tokens
        done = self.session.execute(
            update(toks).where(toks.c.id == token_id, toks.c.used_at.is_(None)).values(used_at=at)
        )
        return bool(getattr(done, "rowcount", 0) == 1)

    def retire(self, user_id: int, purpose: Purpose, at: datetime) -> None:
        """Every open link of that purpose stops working (a newer one was sent, or the password changed)."""
        toks = t.account_tokens
        self.session.execute(
            update(toks)
            .where(toks.c.user_id == user_id, toks.c.purpose == purpose.value, toks.c.used_at.is_(None))
            .values(used_at=at)
        )
