"""The big database of ``bench/portal_load.py``: the demo factory seeded through the real services (backdated
60 days), then 18 months of volume bulk-inserted with SQLAlchemy Core (executemany in batches, one
transaction): organizations, users, calls of the previous year, proposals in every state with partners,
reviewer assignments and reviews, a project with members and an allocation for every accepted proposal, jobs
with their events, the ledger (grant, reserve, charge, release; the allocations' running sums kept equal to
their entries) and the audit events all of this implies.

The busy project is the bakery's (``anna@backhaus-kiel.example``, the demo's project 1): it gets
``busy_share`` of the jobs, small 1-GPU forecasting runs over the 60 days of its allocation."""

from __future__ import annotations

import math
import os
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

ANNA = "anna@backhaus-kiel.example"
BATCH = 5_000
HISTORY_DAYS = 548  # 18 months
DEMO_AGE = timedelta(days=60)  # the demo factory is seeded as of 60 days ago

KIND_WEIGHTS = {"sme": 34, "startup": 24, "academia": 20, "industry": 13, "public_sector": 9}
COUNTRY_WEIGHTS = {
    "DE": 22,
    "FR": 14,
    "IT": 11,
    "ES": 9,
    "NL": 7,
    "PL": 6,
    "BE": 4,
    "AT": 4,
    "SE": 4,
    "FI": 3,
    "CZ": 3,
    "PT": 3,
    "DK": 2,
    "IE": 2,
    "GR": 2,
    "HU": 1,
    "RO": 1,
    "SI": 1,
    "LU": 1,
}
SECTOR_WEIGHTS = {
    "health": 18,
    "energy-climate": 15,
    "manufacturing": 14,
    "mobility": 12,
    "finance": 11,
    "food": 8,
    "education": 9,
    "other": 13,
}
MODE_WEIGHTS = {"playground": 50, "fast_lane": 35, "large_scale": 15}
REQUESTED = {
    "playground": [100, 200, 250, 300, 500, 500, 800, 1000, 1000, 1500, 2000],
    "fast_lane": [2_000, 4_000, 5_000, 8_000, 10_000, 15_000, 20_000, 30_000, 50_000],
    "large_scale": [60_000, 80_000, 100_000, 150_000, 250_000, 400_000, 800_000, 1_500_000],
}
# open (recent) and settled (older) proposals
STATUS_RECENT = {"draft": 25, "submitted": 30, "under_review": 30, "accepted": 10, "rejected": 3, "withdrawn": 2}
STATUS_OLD = {"draft": 9, "submitted": 0, "under_review": 1, "accepted": 50, "rejected": 32, "withdrawn": 8}
# job templates per access mode: (gpus_per_node, nodes, time limit in minutes, cpus_per_task)
TEMPLATES = {
    "playground": [(1, 1, 30, 8), (1, 1, 60, 16), (2, 1, 120, 32), (4, 1, 240, 72)],
    "fast_lane": [(1, 1, 120, 16), (4, 1, 240, 72), (4, 2, 480, 72), (4, 4, 720, 72), (4, 8, 1440, 72)],
    "large_scale": [(4, 8, 1440, 72), (4, 32, 1440, 72), (4, 64, 2880, 72), (4, 128, 2880, 72)],
}
JOB_MODE_WEIGHT = {"playground": 1.0, "fast_lane": 3.0, "large_scale": 8.0}
OUTCOME_WEIGHTS = {"completed": 78, "failed": 10, "cancelled": 7, "timeout": 5}
JOB_WORDS = ["train", "finetune", "eval", "forecast", "preprocess", "infer", "sweep", "pretrain", "distill", "embed"]
MODELS = ["resnet50", "vit-b16", "llama-8b", "mistral-7b", "gnn", "unet", "xgb", "tft", "bert-base", "whisper"]
ORG_WORDS = [
    "Nord",
    "Süd",
    "Alpha",
    "Data",
    "Vision",
    "Quantum",
    "Green",
    "Blue",
    "Smart",
    "Open",
    "Neuro",
    "Agri",
    "Helio",
    "Aero",
    "Medi",
    "Fin",
    "Logi",
    "Robo",
    "Terra",
    "Volt",
]
ORG_SUFFIX = {
    "sme": ["GmbH", "S.r.l.", "B.V.", "SARL", "Sp. z o.o.", "Oy"],
    "startup": ["AI", "Labs", "Analytics"],
    "academia": ["University", "Institute", "Research Centre"],
    "industry": ["AG", "S.p.A.", "SE", "Group"],
    "public_sector": ["City Council", "Agency", "Region"],
}


@dataclass
class SeedInfo:
    url: str
    busy_project_id: int
    busy_jobs: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


class ShiftedClock:
    """The system clock, ``offset`` ago: the demo's history starts 60 days back."""

    def __init__(self, offset: timedelta):
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) - self.offset


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _bulk(conn: Any, table: Any, rows: list[dict]) -> None:
    from sqlalchemy import insert

    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i : i + BATCH])


# --------------------------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------------------------


class _Ids:
    def __init__(self, conn: Any, tables: list[Any]):
        from sqlalchemy import func, select

        self.next = {t.name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1 for t in tables}

    def take(self, table: str) -> int:
        n = self.next[table]
        self.next[table] = n + 1
        return n


def seed(
    url: str, n_proposals: int, n_jobs: int, *, busy_share: float = 0.05, rng_seed: int = 1, log: Any = print
) -> SeedInfo:
    """Migrate ``url`` to head, seed the demo (services), bulk-add the volume; timed per step."""
    from sqlalchemy import select, text

    from aifactory.demo import OPERATOR_EMAIL, seed_demo
    from aifactory.store import tables as t
    from aifactory.store.engine import make_engine, make_session_factory
    from aifactory.store.migrate import upgrade
    from aifactory.store.uow import SqlUnitOfWorkFactory

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    upgrade(url)
    seconds["migrate"] = time.perf_counter() - t0
    engine = make_engine(url)
    try:
        t0 = time.perf_counter()
        factory = SqlUnitOfWorkFactory(make_session_factory(engine))
        seed_demo(factory, ShiftedClock(DEMO_AGE))
        with factory(write=False) as uow:
            resources = {r.name: r for s in uow.sites.list_all() for r in s.resources}
        seconds["demo (services)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        rng = random.Random(rng_seed)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            operator_id = conn.scalar(select(t.users.c.id).where(t.users.c.email == OPERATOR_EMAIL))
            anna_id = conn.scalar(select(t.users.c.id).where(t.users.c.email == ANNA))
            busy = conn.scalar(
                select(t.project_members.c.project_id)
                .where(t.project_members.c.user_id == anna_id)
                .order_by(t.project_members.c.project_id)
            )
            if busy is None:
                raise RuntimeError(f"the demo seed changed: {ANNA} is in no project")
            b = _Bulk(conn, rng, now, operator_id, resources, log)
            counts = b.run(n_proposals, n_jobs, busy, busy_share)
            if engine.dialect.name == "postgresql":  # explicit ids: move the serials past them
                for name in b.ids.next:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"GREATEST((SELECT max(id) FROM {name}), 1))"
                        )
                    )
        seconds["bulk insert"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if engine.dialect.name == "sqlite":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        seconds["analyze"] = time.perf_counter() - t0
    finally:
        engine.dispose()
    return SeedInfo(url=url, busy_project_id=busy, busy_jobs=counts.pop("busy_jobs"), counts=counts, seconds=seconds)


class _Bulk:
    def __init__(
        self, conn: Any, rng: random.Random, now: datetime, operator_id: int, resources: dict[str, Any], log: Any
    ):
        from aifactory.store import tables as t

        self.t, self.conn, self.rng, self.now, self.today = t, conn, rng, now, now.date()
        self.operator_id, self.resources, self.log = operator_id, resources, log
        self.ids = _Ids(
            conn,
            [
                t.organizations,
                t.users,
                t.calls,
                t.proposals,
                t.review_assignments,
                t.reviews,
                t.projects,
                t.allocations,
                t.jobs,
                t.job_events,
                t.ledger_entries,
                t.audit_events,
            ],
        )
        self.audit: list[dict] = []
        self.counts: dict[str, int] = {}

    # ---------------------------------------------------------------- helpers

    def insert(self, table: Any, rows: list[dict]) -> None:
        _bulk(self.conn, table, rows)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    def event(
        self,
        at: datetime,
        actor: int | None,
        action: str,
        entity: str,
        entity_id: int,
        after: dict | None,
        before: dict | None = None,
    ) -> None:
        self.audit.append(
            dict(
                occurred_at=at,
                actor_id=actor,
                action=action,
                entity_type=entity,
                entity_id=entity_id,
                before=before,
                after=after,
            )
        )

    def flush_audit(self) -> None:
        self.audit.sort(key=lambda r: r["occurred_at"])
        for r in self.audit:
            r["id"] = self.ids.take("audit_events")
        self.insert(self.t.audit_events, self.audit)
        self.audit = []

    def moment(self, days_ago_max: float, days_ago_min: float = 0.0) -> datetime:
        """A time in the window, denser towards now (the factory grows)."""
        u = math.sqrt(self.rng.random())
        return self.now - timedelta(days=days_ago_max - u * (days_ago_max - days_ago_min))

    # ---------------------------------------------------------------- the steps

    def run(self, n_proposals: int, n_jobs: int, busy: int, busy_share: float) -> dict[str, int]:
        from sqlalchemy import func, select

        t = self.t
        existing = self.conn.scalar(select(func.count()).select_from(t.proposals)) or 0
        n_new = max(0, n_proposals - existing)
        self.orgs(max(40, n_new // 5))
        self.calls()
        self.proposals(n_new)
        self.projects()
        self.flush_audit()
        self.jobs(n_jobs, busy, busy_share)
        self.counts["busy_jobs"] = self.busy_jobs
        return self.counts

    def orgs(self, n: int) -> None:
        t, rng = self.t, self.rng
        orgs, users = [], []
        self.org_users: dict[int, list[int]] = {}
        self.org_kind: dict[int, str] = {}
        for _ in range(n):
            oid = self.ids.take("organizations")
            kind = _pick(rng, KIND_WEIGHTS)
            created = self.moment(HISTORY_DAYS + 30)
            name = f"{rng.choice(ORG_WORDS)}{rng.choice(ORG_WORDS).lower()} {rng.choice(ORG_SUFFIX[kind])} #{oid}"
            sectors = sorted({_pick(rng, SECTOR_WEIGHTS) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))})
            orgs.append(
                dict(
                    id=oid,
                    name=name,
                    kind=kind,
                    country=_pick(rng, COUNTRY_WEIGHTS),
                    sectors=sectors,
                    created_at=created,
                )
            )
            self.event(created, None, "organization.registered", "organization", oid, {"name": name, "kind": kind})
            self.org_kind[oid] = kind
            for k in range(rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5])):
                uid = self.ids.take("users")
                at = created + timedelta(days=rng.uniform(0, 30)) if k else created
                users.append(
                    dict(
                        id=uid,
                        email=f"user{uid}@org{oid}.example",
                        name=f"User {uid}",
                        organization_id=oid,
                        is_operator=False,
                        is_reviewer=False,
                        is_org_admin=k == 0,
                        active=rng.random() > 0.02,
                        created_at=at,
                        password_hash=None,
                    )
                )
                self.event(at, None, "user.created", "user", uid, {"email": users[-1]["email"]})
                self.org_users.setdefault(oid, []).append(uid)
        self.reviewers = []
        for _ in range(30):
            uid = self.ids.take("users")
            at = self.moment(HISTORY_DAYS + 30)
            users.append(
                dict(
                    id=uid,
                    email=f"reviewer{uid}@review.example",
                    name=f"Reviewer {uid}",
                    organization_id=None,
                    is_operator=False,
                    is_reviewer=True,
                    is_org_admin=False,
                    active=True,
                    created_at=at,
                    password_hash=None,
                )
            )
            self.event(at, self.operator_id, "user.created", "user", uid, {"email": users[-1]["email"]})
            self.reviewers.append(uid)
        self.insert(t.organizations, orgs)
        self.insert(t.users, users)

    def calls(self) -> None:
        """Last year's calls (closed 90 days ago), one per access mode like the demo's current ones."""
        from sqlalchemy import select

        t = self.t
        current = [dict(r._mapping) for r in self.conn.execute(select(t.calls).order_by(t.calls.c.id))]
        self.calls_by_mode: dict[str, dict[str, dict]] = {"old": {}, "new": {}}
        rows = []
        for c in current:
            mode = str(c["access_mode"])
            self.calls_by_mode["new"][mode] = c
            old = dict(
                c,
                id=self.ids.take("calls"),
                slug=c["slug"].replace("2026", "2025").replace("2027", "2026") + "-prev",
                title=c["title"] + " (previous round)",
                opens_on=self.today - timedelta(days=HISTORY_DAYS),
                closes_on=c["opens_on"] - timedelta(days=1),
                closed=True,
                created_at=self.now - timedelta(days=HISTORY_DAYS + 5),
            )
            old["access_mode"] = mode
            rows.append(old)
            self.calls_by_mode["old"][mode] = old
            self.event(old["created_at"], self.operator_id, "call.created", "call", old["id"], {"slug": old["slug"]})
        self.insert(t.calls, rows)
        self.new_calls_since = min(c["opens_on"] for c in current)

    def proposals(self, n: int) -> None:
        from aifactory.domain.calendar import add_months
        from api_load import ADJECTIVES, FIRST, LAST, ROLES, TOPICS

        t, rng, now = self.t, self.rng, self.now
        orgs = list(self.org_users)
        rows, partners, assigns, reviews = [], [], [], []
        self.accepted: list[dict] = []
        for _ in range(n):
            pid = self.ids.take("proposals")
            org = rng.choice(orgs)
            author = rng.choice(self.org_users[org])
            mode = _pick(rng, MODE_WEIGHTS)
            created = self.moment(HISTORY_DAYS)
            era = "new" if created.date() >= self.new_calls_since else "old"
            call = self.calls_by_mode[era][mode]
            age = (now - created).days
            status = _pick(rng, STATUS_RECENT if age < 30 else STATUS_OLD)
            if mode == "playground" and status in ("submitted", "under_review"):
                status = "accepted"  # auto-approved on submission (up to its threshold)
            if mode != "large_scale" and status == "under_review" and rng.random() < 0.5:
                status = "submitted"
            requested = rng.choice(REQUESTED[mode])
            field_, topic, data = rng.choice(TOPICS)
            submitted_at = decided_at = deadline = decided_by = awarded = None
            updated, reason = created, ""
            if status not in ("draft",) and not (status == "withdrawn" and rng.random() < 0.4):
                submitted_at = min(now, created + timedelta(days=rng.uniform(0.05, 8)))
                updated = submitted_at
                days = call["decision_working_days"] * 7 // 5 + 1
                deadline = submitted_at.date() + timedelta(days=days)
            if status in ("submitted", "under_review"):
                submitted_at = now - timedelta(days=rng.uniform(0, 16))
                created = min(created, submitted_at - timedelta(hours=2))
                updated = submitted_at
                deadline = self.today + timedelta(days=rng.randint(-6, 14))
            if status in ("accepted", "rejected"):
                auto = mode == "playground" and status == "accepted"
                lag = 0 if auto else rng.uniform(1, 6) if mode == "fast_lane" else rng.uniform(8, 25)
                decided_at = min(now, submitted_at + timedelta(days=lag))  # type: ignore[operator]
                decided_by = None if auto else self.operator_id
                updated = decided_at
                if status == "accepted":
                    awarded = requested if rng.random() < 0.7 else max(1, requested * 3 // 4)
                    reason = (
                        f"auto-approved: {requested} ≤ {call['auto_approve_gpu_hours']} GPU-hours"
                        if auto
                        else "Feasible and impactful."
                    )
                else:
                    reason = rng.choice(
                        [
                            "Out of scope of the call.",
                            "Insufficient technical readiness.",
                            "Data access not demonstrated.",
                        ]
                    )
            elif status == "withdrawn":
                updated = (submitted_at or created) + timedelta(days=rng.uniform(0, 5))
            team = [
                {
                    "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "email": f"member{pid}.{k}@example.org",
                    "role": rng.choice(ROLES),
                }
                for k in range(rng.randint(0, 3))
            ]
            personal = field_ == "health" or rng.random() < 0.15
            row = dict(
                id=pid,
                call_id=call["id"],
                lead_organization_id=org,
                author_id=author,
                title=f"{rng.choice(ADJECTIVES)} {topic} ({pid})",
                abstract=f"We propose {topic} using {data}.",
                application_field=field_,
                requested_gpu_hours=requested,
                resource_id=self.resources["develop" if mode == "playground" and rng.random() < 0.15 else "booster"].id,
                duration_months=rng.choice(call["durations_months"]),
                team=team,
                risk_category=rng.choices(["minimal", "limited", "high"], [60, 25, 15])[0],
                personal_data=personal,
                health_data=field_ == "health" and rng.random() < 0.7,
                dual_use=rng.random() < 0.03,
                ethics_notes="DPIA done." if personal else "",
                status=status,
                submitted_at=submitted_at,
                decision_deadline=deadline,
                decided_at=decided_at,
                decided_by=decided_by,
                decision_reason=reason,
                awarded_gpu_hours=awarded,
                created_at=created,
                updated_at=max(updated, created),
                version=1,
            )
            rows.append(row)
            self.event(created, author, "proposal.created", "proposal", pid, {"title": row["title"]})
            if submitted_at is not None:
                self.event(
                    submitted_at,
                    author,
                    "proposal.submitted",
                    "proposal",
                    pid,
                    {"status": "submitted"},
                    {"status": "draft"},
                )
            if decided_at is not None:
                action = (
                    ("proposal.auto_accepted" if decided_by is None else "proposal.accepted")
                    if status == "accepted"
                    else "proposal.rejected"
                )
                self.event(decided_at, decided_by, action, "proposal", pid, {"status": status}, {"status": "submitted"})
            elif status == "withdrawn":
                self.event(updated, author, "proposal.withdrawn", "proposal", pid, {"status": "withdrawn"})
            org_ids = [org]
            if rng.random() < 0.2:
                for partner in rng.sample([o for o in orgs if o != org], k=min(len(orgs) - 1, rng.randint(1, 2))):
                    partners.append({"proposal_id": pid, "organization_id": partner})
                    org_ids.append(partner)
            needed = call["required_reviews"]
            if needed and status in ("under_review", "accepted", "rejected"):
                assigned_at = submitted_at + timedelta(hours=rng.uniform(2, 48))  # type: ignore[operator]
                for rev in rng.sample(self.reviewers, needed):
                    assigns.append(
                        dict(
                            id=self.ids.take("review_assignments"),
                            proposal_id=pid,
                            reviewer_id=rev,
                            assigned_by=self.operator_id,
                            assigned_at=assigned_at,
                        )
                    )
                    if status != "under_review" or rng.random() < 0.4:
                        at = min(now, assigned_at + timedelta(days=rng.uniform(0.5, 5)))
                        reviews.append(
                            dict(
                                id=self.ids.take("reviews"),
                                proposal_id=pid,
                                reviewer_id=rev,
                                score_excellence=rng.randint(2, 5),
                                score_impact=rng.randint(2, 5),
                                score_feasibility=rng.randint(2, 5),
                                comment_excellence="Clear objectives.",
                                comment_impact="Relevant for the sector.",
                                comment_feasibility="Plan is realistic.",
                                summary="Solid proposal." if status != "rejected" else "Not ready yet.",
                                submitted_at=at,
                            )
                        )
            if status == "accepted":
                start = decided_at.date()  # type: ignore[union-attr]
                end = add_months(start, row["duration_months"]) - timedelta(days=1)
                self.accepted.append(
                    dict(proposal=row, mode=str(call["access_mode"]), org_ids=sorted(org_ids), start=start, end=end)
                )
        self.insert(t.proposals, rows)
        self.insert(t.proposal_partners, partners)
        self.insert(t.review_assignments, assigns)
        self.insert(t.reviews, reviews)

    def projects(self) -> None:
        from aifactory.domain.ledger import month_key
        from aifactory.domain.projects import slurm_account_name

        t, rng = self.t, self.rng
        projects, members, allocs, grants = [], [], [], []
        self.alloc_info: dict[int, dict] = {}  # allocation id -> mode, window, sums, members, project
        for acc in self.accepted:
            p = acc["proposal"]
            prj = self.ids.take("projects")
            at = p["decided_at"]
            projects.append(
                dict(
                    id=prj,
                    proposal_id=p["id"],
                    name=p["title"],
                    slurm_account=slurm_account_name(prj, p["title"]),
                    lead_organization_id=p["lead_organization_id"],
                    organization_ids=acc["org_ids"],
                    created_at=at,
                )
            )
            team = [p["author_id"]]
            members.append(dict(project_id=prj, user_id=p["author_id"], role="pi", added_at=at))
            others = [u for u in self.org_users[p["lead_organization_id"]] if u != p["author_id"]]
            for u in rng.sample(others, k=min(len(others), rng.randint(0, 3))):
                members.append(
                    dict(project_id=prj, user_id=u, role="member", added_at=at + timedelta(days=rng.uniform(0, 10)))
                )
                team.append(u)
            aid = self.ids.take("allocations")
            granted = p["awarded_gpu_hours"] * 3600
            allocs.append(
                dict(
                    id=aid,
                    project_id=prj,
                    resource_id=p["resource_id"],
                    gpu_hours=p["awarded_gpu_hours"],
                    start_date=acc["start"],
                    end_date=acc["end"],
                    status="active" if acc["end"] >= self.today else "expired",
                    created_at=at,
                    granted_seconds=granted,
                    charged_seconds=0,
                    reserved_seconds=0,
                    status_reason="",
                    low_priority=False,
                )
            )
            grants.append(
                dict(
                    id=self.ids.take("ledger_entries"),
                    allocation_id=aid,
                    project_id=prj,
                    resource_id=p["resource_id"],
                    kind="grant",
                    amount=granted,
                    gpu_seconds=0,
                    job_id=None,
                    source="decision",
                    external_id=None,
                    scenario=None,
                    usage_start=None,
                    usage_end=None,
                    period=month_key(at),
                    at=at,
                    actor_id=p["decided_by"],
                    reason="granted by the proposal decision",
                    key=f"grant:allocation:{aid}",
                )
            )
            self.event(at, p["decided_by"], "project.created", "project", prj, {"name": p["title"]})
            self.event(
                at,
                p["decided_by"],
                "allocation.created",
                "allocation",
                aid,
                {"project_id": prj, "gpu_hours": p["awarded_gpu_hours"]},
            )
            self.alloc_info[aid] = dict(
                project=prj,
                mode=acc["mode"],
                start=acc["start"],
                end=acc["end"],
                resource=p["resource_id"],
                granted=granted,
                team=team,
                new=True,
            )
        self.insert(t.projects, projects)
        self.insert(t.project_members, members)
        self.insert(t.allocations, allocs)
        self.insert(t.ledger_entries, grants)

    def jobs(self, n_jobs: int, busy: int, busy_share: float) -> None:
        """Jobs, their events, reserve/charge/release entries and ``job.created`` audit events, in creation
        order, a batch at a time; then the allocations' running sums."""
        from sqlalchemy import select, update

        from aifactory.domain.jobs.admission import worst_case_billing
        from aifactory.domain.jobs.spec import parse_spec
        from aifactory.domain.ledger import billing_rate, month_key, settle

        t, rng, now = self.t, self.rng, self.now
        # the demo's allocations (the busy project's among them) join the bulk ones
        for a in self.conn.execute(
            select(t.allocations, t.calls.c.access_mode)
            .join(t.projects, t.projects.c.id == t.allocations.c.project_id)
            .join(t.proposals, t.proposals.c.id == t.projects.c.proposal_id)
            .join(t.calls, t.calls.c.id == t.proposals.c.call_id)
            .where(t.allocations.c.id.not_in(list(self.alloc_info) or [0]))
        ):
            team = list(
                self.conn.scalars(
                    select(t.project_members.c.user_id).where(t.project_members.c.project_id == a.project_id)
                )
            )
            self.alloc_info[a.id] = dict(
                project=a.project_id,
                mode=str(a.access_mode),
                start=a.start_date,
                end=a.end_date,
                resource=a.resource_id,
                granted=a.granted_seconds,
                team=team,
                new=False,
            )
        busy_alloc = min(a for a, i in self.alloc_info.items() if i["project"] == busy)
        n_busy = min(n_jobs, round(n_jobs * busy_share))
        others = [a for a in self.alloc_info if a != busy_alloc]
        weights = [JOB_MODE_WEIGHT[self.alloc_info[a]["mode"]] * rng.lognormvariate(0, 1) for a in others]
        picks = [busy_alloc] * n_busy + (rng.choices(others, weights, k=n_jobs - n_busy) if others else [])
        per_alloc: dict[int, int] = {}
        for a in picks:
            per_alloc[a] = per_alloc.get(a, 0) + 1
        self.busy_jobs = n_busy
        # skeletons: (created_at, allocation), in creation order
        skeletons = []
        for a in picks:
            info = self.alloc_info[a]
            lo = datetime.combine(info["start"], datetime.min.time(), UTC) + timedelta(hours=8)
            hi = min(now, datetime.combine(info["end"], datetime.max.time(), UTC))
            span = max(60.0, (hi - lo).total_seconds())
            skeletons.append((lo + timedelta(seconds=span * rng.random()), a))
        skeletons.sort(key=lambda s: s[0])
        for a, info in self.alloc_info.items():  # usage target: a share of the grant spread over its jobs
            n = per_alloc.get(a, 0)
            total_days = max(1, (info["end"] - info["start"]).days)
            elapsed = min(1.0, max(0.05, (self.today - info["start"]).days / total_days))
            u = rng.uniform(0.45, 0.98) * (1.0 if info["end"] < self.today else elapsed)
            if a == busy_alloc:
                u = 0.6
            info["budget"] = u * info["granted"] / n if n else 0
            info["charged"] = info["reserved"] = 0
        specs: dict[tuple, tuple] = {}  # (template, tasks, resource) -> (rate, reserve, Resources)
        res_by_id = {r.id: r for r in self.resources.values()}

        def spec_for(tpl: tuple, tasks: int, resource_id: int) -> tuple[float, int, Any, dict]:
            key = (tpl, tasks, resource_id)
            if key not in specs:
                g, nodes, minutes, cpus = tpl
                doc = {
                    "name": "x",
                    "project": 1,
                    "resource": res_by_id[resource_id].name,
                    "resources": {"nodes": nodes, "gpus_per_node": g, "cpus_per_task": cpus, "time": minutes},
                    "command": ["python", "train.py"],
                }
                if tasks > 1:
                    doc["array"] = {"range": f"0-{tasks - 1}"}
                spec = parse_spec(doc)  # the documents the pages will read are valid specs
                res = res_by_id[resource_id]
                r = spec.resources
                specs[key] = (
                    billing_rate(res, gpus=r.gpus_per_node, cpus=r.cpus_per_task, memory_mb=r.memory_mb),
                    worst_case_billing(spec, res),
                    r,
                    doc["resources"],
                )
            return specs[key]

        backend_id = 4_000_000
        jobs, events, entries = [], [], []
        for created, a in skeletons:
            info = self.alloc_info[a]
            jid = self.ids.take("jobs")
            templates = TEMPLATES[info["mode"]] if a != busy_alloc else TEMPLATES["playground"][:2]
            budget = info["budget"]
            tpl = templates[-1]
            for cand in templates:  # the smallest template whose reservation covers 1.5 x the job's share
                rate0, reserve0, _r, _d = spec_for(cand, 1, info["resource"])
                if reserve0 >= 1.5 * budget:
                    tpl = cand
                    break
            tasks = 10 if tpl[1] == 1 and rng.random() < 0.06 else 1
            rate, reserve, r, res_doc = spec_for(tpl, tasks, info["resource"])
            limit_s = r.time_minutes * 60
            outcome = _pick(rng, OUTCOME_WEIGHTS)
            per_task = budget / max(1e-9, rate * r.nodes) / tasks * rng.uniform(0.2, 1.8)
            per_task = min(limit_s, max(20.0, per_task))
            started = True
            if outcome == "timeout":
                per_task = limit_s
            elif outcome == "failed":
                per_task *= rng.uniform(0.01, 0.5)
            elif outcome == "cancelled":
                started = rng.random() < 0.5
                per_task *= rng.uniform(0.05, 0.8)
            submitted_at = created + timedelta(seconds=rng.uniform(0.2, 2.0))
            wait = min(36_000.0, rng.lognormvariate(5.5, 1.6))  # median ~4 min, long tail
            started_at = submitted_at + timedelta(seconds=wait) if started else None
            wall = per_task * (tasks if tasks == 1 else math.ceil(tasks / 4))  # array: 4 tasks at a time
            finished_at = (
                (started_at + timedelta(seconds=wall))
                if started_at
                else submitted_at + timedelta(seconds=rng.uniform(30, wait + 60))
            )
            state = outcome
            if started_at is not None and started_at > now:
                state, started_at, finished_at = "queued", None, None
            elif finished_at > now:
                state, finished_at = ("running" if started_at else "queued"), None
            name = f"{rng.choice(JOB_WORDS)}-{rng.choice(MODELS)}-{jid % 1000:03d}"
            doc = {
                "name": name,
                "project": info["project"],
                "resource": res_by_id[info["resource"]].name,
                "resources": res_doc,
                "command": ["python", "train.py", "--config", f"configs/{name.split('-')[1]}.yaml"],
            }
            if tasks > 1:
                doc["array"] = {"range": f"0-{tasks - 1}"}
            submitter = rng.choice(info["team"])
            terminal = finished_at is not None
            settled_at = finished_at + timedelta(seconds=rng.uniform(1, 30)) if terminal else None
            backend_id += 1
            jobs.append(
                dict(
                    id=jid,
                    project_id=info["project"],
                    allocation_id=a,
                    resource_id=info["resource"],
                    submitted_by=submitter,
                    name=name,
                    spec=doc,
                    backend="slurm",
                    tasks=tasks,
                    reserved_gpu_seconds=reserve,
                    state=state,
                    backend_id=str(backend_id),
                    exit_code=0 if state == "completed" else rng.choice([1, 1, 2, 137]) if state == "failed" else None,
                    reason={
                        "failed": "NonZeroExitCode",
                        "timeout": "TimeLimit",
                        "cancelled": "cancelled by the user",
                    }.get(state, ""),
                    idempotency_key=None,
                    comment=f"aif:bench:{jid}:{secrets.token_hex(6)}",
                    created_at=created,
                    updated_at=settled_at or started_at or submitted_at,
                    submitted_at=submitted_at,
                    started_at=started_at,
                    finished_at=finished_at,
                    settled_at=settled_at,
                )
            )
            for st, at in (("submitted", submitted_at), ("running", started_at), (state, finished_at)):
                if at is not None:
                    events.append(dict(id=self.ids.take("job_events"), job_id=jid, at=at, state=st, detail=""))
            base = dict(
                allocation_id=a,
                project_id=info["project"],
                resource_id=info["resource"],
                job_id=jid,
                source="gateway",
                external_id=None,
                scenario=None,
                actor_id=None,
            )
            entries.append(
                dict(
                    base,
                    id=self.ids.take("ledger_entries"),
                    kind="reserve",
                    amount=reserve,
                    gpu_seconds=0,
                    usage_start=None,
                    usage_end=None,
                    period=month_key(created),
                    at=created,
                    reason="worst case of the job",
                    key=f"reserve:job:{jid}",
                )
            )
            info["reserved"] += reserve
            if terminal:
                s = settle(
                    reserved=reserve,
                    rate=rate,
                    nodes=r.nodes,
                    gpus_per_node=r.gpus_per_node,
                    tasks_elapsed=per_task * tasks,
                    started=started_at is not None,
                    timed_out=state == "timeout",
                    time_limit_seconds=limit_s,
                    tasks=tasks,
                )
                if s.charge > 0:
                    entries.append(
                        dict(
                            base,
                            id=self.ids.take("ledger_entries"),
                            kind="charge",
                            amount=s.charge,
                            gpu_seconds=s.gpu_seconds,
                            usage_start=started_at,
                            usage_end=finished_at,
                            period=month_key(finished_at),
                            at=settled_at,
                            reason=f"{s.elapsed_seconds} s used ({state})",
                            key=f"charge:job:{jid}",
                        )
                    )
                    info["charged"] += s.charge
                entries.append(
                    dict(
                        base,
                        id=self.ids.take("ledger_entries"),
                        kind="release",
                        amount=s.release,
                        gpu_seconds=0,
                        usage_start=None,
                        usage_end=None,
                        period=month_key(settled_at),
                        at=settled_at,
                        reason="reservation released at settlement",
                        key=f"release:job:{jid}",
                    )
                )
                info["reserved"] -= s.release
            self.event(created, submitter, "job.created", "job", jid, {"name": name, "project_id": info["project"]})
            if len(jobs) >= BATCH:
                self._flush_jobs(jobs, events, entries)
                jobs, events, entries = [], [], []
        self._flush_jobs(jobs, events, entries)
        a = t.allocations
        for aid, info in self.alloc_info.items():  # the running sums: equal to the entries' sums
            if not (info["charged"] or info["reserved"]):
                continue
            values: dict[str, Any] = {
                "charged_seconds": a.c.charged_seconds + info["charged"],
                "reserved_seconds": a.c.reserved_seconds + info["reserved"],
            }
            if info["new"] and info["end"] >= self.today and info["charged"] >= info["granted"]:
                values["status"] = "exhausted"
            self.conn.execute(update(a).where(a.c.id == aid).values(**values))

    def _flush_jobs(self, jobs: list[dict], events: list[dict], entries: list[dict]) -> None:
        t = self.t
        if not jobs:
            return
        self.insert(t.jobs, jobs)
        self.insert(t.job_events, events)
        self.insert(t.ledger_entries, entries)
        for r in self.audit:
            r["id"] = self.ids.take("audit_events")
        self.insert(t.audit_events, self.audit)
        self.audit = []
        if self.counts["jobs"] % 20_000 < BATCH:
            self.log(f"  {self.counts['jobs']:,} jobs inserted")


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


if __name__ == "__main__":  # a quick look: python bench/_portal_seed.py /tmp/x.db 1000 5000
    import sys

    sys.path.insert(0, os.path.dirname(__file__))
    path = sys.argv[1]
    info = seed(f"sqlite:///{path}", int(sys.argv[2]), int(sys.argv[3]))
    print(info)
    n, problems = check_ledger(info.url)
    print(f"check_ledger: {n} allocations, {len(problems)} problems", problems[:5])
