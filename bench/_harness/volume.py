"""The big database of ``bench/portal_load.py``: the demo factory seeded through the real services (backdated
60 days), then 18 months of volume bulk-inserted with SQLAlchemy Core (executemany in batches, one
transaction): organizations, users, calls of the previous year, proposals in every state with partners,
reviewer assignments and reviews, a project with members and an allocation for every accepted proposal, jobs
with their events, the ledger (grant, reserve, charge, release; the allocations' running sums kept equal to
their entries) and the audit events all of this implies.

The busy project is the bakery's (``anna@backhaus-kiel.example``, the demo's project 1): it gets
``busy_share`` of the jobs, small 1-GPU forecasting runs over the 60 days of its allocation."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .job_volume import Allocation, JobVolume
from .proposals import Accepted, Calls, People, ProposalMaker
from .report import Log
from .seeding import Audit, Ids, Row, ShiftedClock, Sink, analyze, demo_database, move_serials
from .volume_people import organizations, reviewers

ANNA = "anna@backhaus-kiel.example"
HISTORY_DAYS = 548  # 18 months
DEMO_AGE = timedelta(days=60)  # the demo factory is seeded as of 60 days ago
BULK_TABLES = [
    "organizations",
    "users",
    "calls",
    "proposals",
    "review_assignments",
    "reviews",
    "projects",
    "allocations",
    "jobs",
    "job_events",
    "ledger_entries",
    "audit_events",
]


@dataclass
class SeedInfo:
    url: str
    busy_project_id: int
    busy_jobs: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def seed(url: str, n_proposals: int, n_jobs: int, *, busy_share: float, rng_seed: int, log: Log) -> SeedInfo:
    """Migrate ``url`` to head, seed the demo (services), bulk-add the volume; timed per step."""
    with demo_database(url, ShiftedClock(DEMO_AGE)) as db:
        seconds = dict(db.seconds)
        with db.factory(write=False) as uow:
            resources = {r.id: r for s in uow.sites.list_all() for r in s.resources}
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            volume = Volume(Sink(conn, log), random.Random(rng_seed), datetime.now(UTC), resources)
            busy, busy_jobs = volume.run(n_proposals, n_jobs, busy_share)
            move_serials(conn, volume.ids.next)
        seconds["bulk insert"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        analyze(db.engine)
        seconds["analyze"] = time.perf_counter() - t0
    return SeedInfo(url, busy, busy_jobs, volume.sink.counts, seconds)


class Volume:
    def __init__(self, sink: Sink, rng: random.Random, now: datetime, resources: dict[int, Any]) -> None:
        from aifactory.store import tables

        self.t, self.sink, self.rng, self.now, self.resources = tables, sink, rng, now, resources
        self.ids = Ids(sink.conn, [tables.metadata.tables[name] for name in BULK_TABLES])
        self.audit = Audit()

    def run(self, n_proposals: int, n_jobs: int, busy_share: float) -> tuple[int, int]:
        """The volume: (the busy project, its jobs)."""
        from sqlalchemy import func, select

        from aifactory.demo import OPERATOR_EMAIL

        t, conn = self.t, self.sink.conn
        operator_id = conn.scalar(select(t.users.c.id).where(t.users.c.email == OPERATOR_EMAIL))
        busy = self._busy_project()
        existing = conn.scalar(select(func.count()).select_from(t.proposals)) or 0
        n_new = max(0, n_proposals - existing)
        people = self._people(max(40, n_new // 5), operator_id)
        made = ProposalMaker(self.rng, self.now, self.ids, self.audit, self._calls(operator_id), people, HISTORY_DAYS)
        proposals = made.make(n_new)
        self.sink.insert(t.proposals, proposals.rows)
        self.sink.insert(t.proposal_partners, proposals.partners)
        self.sink.insert(t.review_assignments, proposals.assignments)
        self.sink.insert(t.reviews, proposals.reviews)
        allocations = self._projects(proposals.accepted, people)
        self.sink.insert(t.audit_events, self.audit.take(self.ids, in_time_order=True))
        allocations |= self._demo_allocations(exclude=list(allocations))
        jobs = JobVolume(self.sink, self.ids, self.audit, self.rng, self.now, self.resources, allocations)
        return busy, jobs.run(n_jobs, busy, busy_share)

    def _busy_project(self) -> int:
        from sqlalchemy import select

        t = self.t
        anna_id = self.sink.conn.scalar(select(t.users.c.id).where(t.users.c.email == ANNA))
        busy = self.sink.conn.scalar(
            select(t.project_members.c.project_id)
            .where(t.project_members.c.user_id == anna_id)
            .order_by(t.project_members.c.project_id)
        )
        if busy is None:
            raise RuntimeError(f"the demo seed changed: {ANNA} is in no project")
        return int(busy)

    def _people(self, n_orgs: int, operator_id: int) -> People:
        """Organizations with their users, and 30 reviewers."""
        orgs, users, org_users = organizations(self.rng, self.now, self.ids, self.audit, n_orgs, HISTORY_DAYS + 30)
        revs = reviewers(self.rng, self.now, self.ids, self.audit, operator_id, HISTORY_DAYS + 30)
        self.sink.insert(self.t.organizations, orgs)
        self.sink.insert(self.t.users, users + revs)
        by_name = {r.name: r.id for r in self.resources.values()}
        return People(org_users, [u["id"] for u in revs], operator_id, by_name)

    def _calls(self, operator_id: int) -> Calls:
        """Last year's calls (closed 90 days ago), one per access mode like the demo's current ones."""
        from sqlalchemy import select

        t, today = self.t, self.now.date()
        current = [dict(r._mapping) for r in self.sink.conn.execute(select(t.calls).order_by(t.calls.c.id))]
        rows = []
        for c in current:
            old = dict(
                c,
                id=self.ids.take("calls"),
                slug=c["slug"].replace("2026", "2025").replace("2027", "2026") + "-prev",
                title=c["title"] + " (previous round)",
                opens_on=today - timedelta(days=HISTORY_DAYS),
                closes_on=c["opens_on"] - timedelta(days=1),
                closed=True,
                created_at=self.now - timedelta(days=HISTORY_DAYS + 5),
                access_mode=str(c["access_mode"]),
            )
            rows.append(old)
            self.audit.event(old["created_at"], operator_id, "call.created", "call", old["id"], {"slug": old["slug"]})
        self.sink.insert(t.calls, rows)
        since = min(c["opens_on"] for c in current)
        return Calls({str(c["access_mode"]): c for c in current}, {r["access_mode"]: r for r in rows}, since)

    def _projects(self, accepted: list[Accepted], people: People) -> dict[int, Allocation]:
        """A project, its members, an allocation and its grant for every accepted proposal."""
        from aifactory.domain.projects import slurm_account_name

        projects, members, allocs, grants = [], [], [], []
        out: dict[int, Allocation] = {}
        for acc in accepted:
            p, at, by = acc.proposal, acc.proposal["decided_at"], acc.proposal["decided_by"]
            prj, aid = self.ids.take("projects"), self.ids.take("allocations")
            projects.append(
                {
                    "id": prj,
                    "proposal_id": p["id"],
                    "name": p["title"],
                    "slurm_account": slurm_account_name(prj, p["title"]),
                    "lead_organization_id": p["lead_organization_id"],
                    "organization_ids": acc.org_ids,
                    "created_at": at,
                }
            )
            joined = self._members(p, people)
            members.append({"project_id": prj, "user_id": p["author_id"], "role": "pi", "added_at": at})
            members += [{"project_id": prj, "user_id": u, "role": "member", "added_at": j} for u, j in joined]
            allocs.append(_allocation_row(aid, prj, acc, self.now.date()))
            grants.append(_grant_row(self.ids.take("ledger_entries"), aid, prj, p))
            self.audit.event(at, by, "project.created", "project", prj, {"name": p["title"]})
            after = {"project_id": prj, "gpu_hours": p["awarded_gpu_hours"]}
            self.audit.event(at, by, "allocation.created", "allocation", aid, after)
            team = [p["author_id"], *(u for u, _ in joined)]
            granted = allocs[-1]["granted_seconds"]
            out[aid] = Allocation(prj, acc.mode, acc.start, acc.end, p["resource_id"], granted, team, new=True)
        for table, rows in ((self.t.projects, projects), (self.t.project_members, members)):
            self.sink.insert(table, rows)
        self.sink.insert(self.t.allocations, allocs)
        self.sink.insert(self.t.ledger_entries, grants)
        return out

    def _members(self, p: Row, people: People) -> list[tuple[int, datetime]]:
        """Up to three colleagues of the author join the project within ten days: (user, when)."""
        others = [u for u in people.org_users[p["lead_organization_id"]] if u != p["author_id"]]
        chosen = self.rng.sample(others, k=min(len(others), self.rng.randint(0, 3)))
        return [(u, p["decided_at"] + timedelta(days=self.rng.uniform(0, 10))) for u in chosen]

    def _demo_allocations(self, exclude: list[int]) -> dict[int, Allocation]:
        """The demo's allocations (the busy project's among them), to run jobs on next to the bulk ones."""
        from sqlalchemy import select

        t, conn = self.t, self.sink.conn
        out = {}
        rows = conn.execute(
            select(t.allocations, t.calls.c.access_mode)
            .join(t.projects, t.projects.c.id == t.allocations.c.project_id)
            .join(t.proposals, t.proposals.c.id == t.projects.c.proposal_id)
            .join(t.calls, t.calls.c.id == t.proposals.c.call_id)
            .where(t.allocations.c.id.not_in(exclude or [0]))
        )
        for a in rows:
            members = select(t.project_members.c.user_id).where(t.project_members.c.project_id == a.project_id)
            team = list(conn.scalars(members))
            window = (a.start_date, a.end_date)
            out[a.id] = Allocation(
                a.project_id, str(a.access_mode), *window, a.resource_id, a.granted_seconds, team, new=False
            )
        return out


def _allocation_row(aid: int, prj: int, acc: Accepted, today: date) -> Row:
    p = acc.proposal
    return {
        "id": aid,
        "project_id": prj,
        "resource_id": p["resource_id"],
        "gpu_hours": p["awarded_gpu_hours"],
        "start_date": acc.start,
        "end_date": acc.end,
        "status": "active" if acc.end >= today else "expired",
        "created_at": p["decided_at"],
        "granted_seconds": p["awarded_gpu_hours"] * 3600,
        "charged_seconds": 0,
        "reserved_seconds": 0,
        "status_reason": "",
        "low_priority": False,
    }


def _grant_row(entry_id: int, aid: int, prj: int, p: Row) -> Row:
    from aifactory.domain.ledger import month_key

    return {
        "id": entry_id,
        "allocation_id": aid,
        "project_id": prj,
        "resource_id": p["resource_id"],
        "kind": "grant",
        "amount": p["awarded_gpu_hours"] * 3600,
        "gpu_seconds": 0,
        "job_id": None,
        "source": "decision",
        "external_id": None,
        "scenario": None,
        "usage_start": None,
        "usage_end": None,
        "period": month_key(p["decided_at"]),
        "at": p["decided_at"],
        "actor_id": p["decided_by"],
        "reason": "granted by the proposal decision",
        "key": f"grant:allocation:{aid}",
    }


def check_ledger(url: str) -> tuple[int, list[Any]]:
    """The services' own proof that the sums equal the entries (``aifactory check-ledger``)."""
    from aifactory.services.ledger import check_ledger as check
    from aifactory.store.engine import make_engine, make_session_factory
    from aifactory.store.uow import SqlUnitOfWorkFactory

    engine = make_engine(url)
    try:
        with SqlUnitOfWorkFactory(make_session_factory(engine))(write=False) as uow:
            return check(uow)
    finally:
        engine.dispose()
