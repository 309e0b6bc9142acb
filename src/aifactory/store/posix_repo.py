"""The POSIX identities' rows (``posix_users``, ``posix_groups``, the id counters), in SQL Core: plain values in
and out. Uniqueness of names and ids is the database's (unique constraints); the counters only grow."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..domain.posix import AllocationTerm, IdRange, PosixGroup, PosixUser
from ..services.repositories import PosixMembership
from . import tables as t

COUNTER_KINDS = ("uid", "gid")


class PosixRepository:
    def __init__(self, session: Session):
        self.session = session

    def user(self, user_id: int) -> PosixUser | None:
        row = self.session.execute(
            select(t.posix_users.c.name, t.posix_users.c.uid).where(t.posix_users.c.user_id == user_id)
        ).first()
        return PosixUser(row.name, row.uid) if row else None

    def group(self, project_id: int) -> PosixGroup | None:
        row = self.session.execute(
            select(t.posix_groups.c.name, t.posix_groups.c.gid).where(t.posix_groups.c.project_id == project_id)
        ).first()
        return PosixGroup(row.name, row.gid) if row else None

    def users(self) -> dict[int, PosixUser]:
        rows = self.session.execute(select(t.posix_users.c.user_id, t.posix_users.c.name, t.posix_users.c.uid))
        return {row.user_id: PosixUser(row.name, row.uid) for row in rows}

    def groups(self) -> dict[int, PosixGroup]:
        rows = self.session.execute(select(t.posix_groups.c.project_id, t.posix_groups.c.name, t.posix_groups.c.gid))
        return {row.project_id: PosixGroup(row.name, row.gid) for row in rows}

    def add_user(self, user_id: int, user: PosixUser, at: datetime) -> None:
        self.session.execute(insert(t.posix_users).values(user_id=user_id, name=user.name, uid=user.uid, created_at=at))

    def add_group(self, project_id: int, group: PosixGroup, at: datetime) -> None:
        self.session.execute(
            insert(t.posix_groups).values(project_id=project_id, name=group.name, gid=group.gid, created_at=at)
        )

    def next_id(self, kind: str, ids: IdRange) -> int:
        if kind not in COUNTER_KINDS:
            raise ValueError(f"no id counter {kind!r}")
        self._ensure_counter(kind)
        counters = t.posix_id_counters
        last = self.session.execute(
            select(counters.c.last_id).where(counters.c.kind == kind).with_for_update()
        ).scalar_one()
        chosen = ids.next_after(last or None)  # 0: nothing allocated yet
        self.session.execute(update(counters).where(counters.c.kind == kind).values(last_id=chosen))
        return chosen

    def _ensure_counter(self, kind: str) -> None:
        """The counter's row (0: nothing allocated), created once; a concurrent creation is no error."""
        dialect = self.session.get_bind().dialect.name
        module = postgresql if dialect == "postgresql" else sqlite
        statement = module.insert(t.posix_id_counters).values(kind=kind, last_id=0).on_conflict_do_nothing()
        self.session.execute(statement)

    def memberships(self, user_id: int | None = None) -> list[PosixMembership]:
        members = t.project_members
        query = select(members.c.user_id, members.c.project_id).order_by(members.c.project_id, members.c.user_id)
        if user_id is not None:
            query = query.where(members.c.user_id == user_id)
        return [PosixMembership(row.user_id, row.project_id) for row in self.session.execute(query)]

    def allocation_terms(self, project_ids: Collection[int] | None = None) -> list[AllocationTerm]:
        allocs = t.allocations
        query = select(allocs.c.project_id, allocs.c.status, allocs.c.end_date)
        if project_ids is not None:
            query = query.where(allocs.c.project_id.in_(list(project_ids)))
        return [AllocationTerm(row.project_id, row.status, row.end_date) for row in self.session.execute(query)]

    def project_accounts(self) -> dict[int, str]:
        rows = self.session.execute(select(t.projects.c.id, t.projects.c.slurm_account))
        return {row.id: row.slurm_account for row in rows}
