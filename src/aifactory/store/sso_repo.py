"""Single sign-on's rows (``sso_links``, ``sso_requests``) in SQL Core: plain values in and out. A sign-in
moves on only by compare-and-set (``move``, ``redeem``), so that a replayed answer finds it taken."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from ..domain.sso import OidcIdentity, Purpose, RequestStatus, SsoLink, SsoRequest
from . import tables as t

_LINK_COLUMNS = ("provider", "subject", "user_id", "email", "created_at", "last_sign_in_at")


def _link(row: Row[Any]) -> SsoLink:
    return SsoLink(**{name: getattr(row, name) for name in (*_LINK_COLUMNS, "id")})


def _request(row: Row[Any]) -> SsoRequest:
    values = dict(row._mapping)
    values["purpose"] = Purpose(values["purpose"])
    values["status"] = RequestStatus(values["status"])
    values["identity"] = OidcIdentity.from_json(values["identity"]) if values["identity"] else None
    return SsoRequest(**values)


class SsoRepository:
    def __init__(self, session: Session):
        self.session = session

    def link(self, provider: str, subject: str) -> SsoLink | None:
        links = t.sso_links
        row = self.session.execute(
            select(links).where(links.c.provider == provider, links.c.subject == subject)
        ).first()
        return _link(row) if row else None

    def links_of(self, user_id: int) -> list[SsoLink]:
        links = t.sso_links
        rows = self.session.execute(select(links).where(links.c.user_id == user_id).order_by(links.c.id))
        return [_link(row) for row in rows]

    def add_link(self, link: SsoLink) -> SsoLink:
        values = {name: getattr(link, name) for name in _LINK_COLUMNS}
        new_id = self.session.execute(insert(t.sso_links).values(**values).returning(t.sso_links.c.id)).scalar_one()
        return SsoLink(**values, id=new_id)

    def touch_link(self, link_id: int, at: datetime, email: str | None) -> None:
        links = t.sso_links
        self.session.execute(update(links).where(links.c.id == link_id).values(last_sign_in_at=at, email=email))

    def add_request(self, request: SsoRequest) -> SsoRequest:
        values = asdict(request)
        values.pop("id")
        values["purpose"] = request.purpose.value
        values["status"] = request.status.value
        values["identity"] = request.identity.as_json() if request.identity else None
        new_id = self.session.execute(
            insert(t.sso_requests).values(**values).returning(t.sso_requests.c.id)
        ).scalar_one()
        return self.request_by_id(new_id)

    def request_by_id(self, request_id: int) -> SsoRequest:
        row = self.session.execute(select(t.sso_requests).where(t.sso_requests.c.id == request_id)).one()
        return _request(row)

    def request_by_state(self, state_hash: str) -> SsoRequest | None:
        row = self.session.execute(select(t.sso_requests).where(t.sso_requests.c.state_hash == state_hash)).first()
        return _request(row) if row else None

    def request_by_code(self, code_hash: str) -> SsoRequest | None:
        row = self.session.execute(select(t.sso_requests).where(t.sso_requests.c.code_hash == code_hash)).first()
        return _request(row) if row else None

    def move(self, request_id: int, expected: RequestStatus, to: RequestStatus) -> bool:
        reqs = t.sso_requests
        done = self.session.execute(
            update(reqs).where(reqs.c.id == request_id, reqs.c.status == expected.value).values(status=to.value)
        )
        return bool(getattr(done, "rowcount", 0) == 1)

    def save(self, request: SsoRequest) -> None:
        reqs = t.sso_requests
        self.session.execute(
            update(reqs)
            .where(reqs.c.id == request.id)
            .values(
                status=request.status.value,
                identity=request.identity.as_json() if request.identity else None,
                user_id=request.user_id,
                code_hash=request.code_hash,
                code_expires_at=request.code_expires_at,
            )
        )

    def redeem(self, request_id: int, at: datetime) -> bool:
        reqs = t.sso_requests
        done = self.session.execute(
            update(reqs).where(reqs.c.id == request_id, reqs.c.code_used_at.is_(None)).values(code_used_at=at)
        )
        return bool(getattr(done, "rowcount", 0) == 1)

    def purge(self, before: datetime) -> int:
        reqs = t.sso_requests
        done = self.session.execute(delete(reqs).where(reqs.c.expires_at < before))
        return int(getattr(done, "rowcount", 0) or 0)
