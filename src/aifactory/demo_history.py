"""A year of history for the demo factory: twelve months of proposals, decisions, projects, jobs and ledger
entries, so that the KPI dashboard, the burn-downs and the operator's queue look like a factory in use.

Generated from a fixed seed (the same seed and clock give the same rows), relative to the clock: the months are
the last twelve, this one included. Decided proposals went to an earlier round of each call (closed when the
current calls opened); the last month's are in the current fast-lane and large-scale calls, and the most
recent still wait for reviews or a decision. The current playground call gets none, so the demo's own
self-service limits are as the tour expects them.

The rows are those the services would write (see demo_history_plan and demo_history_jobs): every accepted
proposal has a project, its PI, an allocation and its grant; every job is terminal and settled, its
reservation released and its use charged; an allocation's running sums are its entries' sums; each step is in
the audit log. They are inserted in bulk (``store.bulk``), one statement per table, so the demo still starts in
seconds. Only ``aifactory demo`` asks for them (``seed_demo(..., history=True)``); the tests' demo has none.
Notifications (e-mails of past decisions and thresholds) are not written: the demo would send them all now."""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from .demo import OPERATOR_EMAIL, ORGS, REVIEWERS, DemoInfo
from .demo_history_jobs import Allotment, Ids, allocation_usage, ledger_row
from .demo_history_plan import Context, Org, Plan, Row, allocation_end, proposal
from .domain.enums import AllocationStatus, ProjectRole
from .domain.ledger import EntryKind, entry_effect, hours_to_seconds, month_key
from .domain.projects import slurm_account_name
from .services.context import found
from .services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from .store import bulk

HISTORY_SEED = 20_261_203
MONTHS = 12
PER_MONTH = (4, 7)  # proposals submitted in a month, at least and at most
RECENT = 6  # more in the last week, all still waiting for reviews or a decision
# the history's proposals are each organization's other projects, led by a colleague of the demo's applicant (so
# that the demo's people keep the one project the README's tour expects); they sign in with the demo's password
COLLEAGUES = {
    "Backhaus Kiel GmbH": ("jonas@backhaus-kiel.example", "Jonas Petersen"),
    "Forschungszentrum Nord": ("ingrid@fz-nord.example", "Ingrid Hansen"),
    "MedVision AI": ("julien@medvision.example", "Julien Bernard"),
    "Autonomia Mobility S.p.A.": ("giulia@autonomia.example", "Giulia Bianchi"),
    "Stadt Jülich": ("tobias@juelich.example", "Tobias Wagner"),
    "GridWise Analytics": ("sanne@gridwise.example", "Sanne Bakker"),
}
TABLES = (
    "users",
    "calls",
    "proposals",
    "review_assignments",
    "reviews",
    "projects",
    "project_members",
    "allocations",
    "audit_events",
    "jobs",
    "job_events",
    "ledger_entries",
)


@dataclass(frozen=True)
class Base:
    """What the history is built on: the seeded demo's ids, the clock, and the first free id of each table."""

    now: datetime
    site: str
    operator_id: int
    reviewer_ids: tuple[int, ...]
    orgs: tuple[Org, ...]
    resources: dict[str, int]
    calls: dict[str, Row]  # access mode -> the current call's row
    first_ids: dict[str, int]
    password_hash: str | None  # the demo people's (shared) password hash


def first_month(now: datetime) -> date:
    """The first day of the history: the month eleven months before this one."""
    total = now.year * 12 + now.month - 1 - (MONTHS - 1)
    return date(total // 12, total % 12 + 1, 1)


def plan_history(base: Base, seed: int = HISTORY_SEED) -> dict[str, list[Row]]:
    """Every row of the history, table by table (pure: the same base and seed give the same rows)."""
    ctx = Context(random.Random(seed), base.now, dict(base.first_ids), base.operator_id, base.reviewer_ids, {}, Plan())
    base = replace(base, orgs=tuple(_colleague(ctx, base, org) for org in base.orgs))
    archive = _archive_calls(ctx, base)
    ctx.calls = {c["id"]: c for c in (*archive.values(), *base.calls.values())}
    _proposals(ctx, base, archive)
    _projects(ctx, base)
    return ctx.plan.rows


def _colleague(ctx: Context, base: Base, org: Org) -> Org:
    """The organization's colleague who leads its past projects (signed up before the history began)."""
    email, name = COLLEAGUES[org.name]
    uid = ctx.next_id("users")
    at = datetime.combine(first_month(base.now) - timedelta(days=30), time(10), tzinfo=UTC)
    row = {
        "id": uid,
        "email": email,
        "name": name,
        "organization_id": org.id,
        "is_operator": False,
        "is_reviewer": False,
        "is_org_admin": False,
        "active": True,
        "created_at": at,
        "password_hash": base.password_hash,
        "password_token_id": None,
        "language": "en",
        "email_verified_at": at,
    }
    ctx.plan.add("users", row)
    ctx.audit(at, uid, "user.created", "user", uid, email=email, name=name, organization_id=org.id)
    return replace(org, author_id=uid)


def _archive_calls(ctx: Context, base: Base) -> dict[str, Row]:
    """The earlier round of each call: open from before the history's first month until the current one opened."""
    opens = first_month(base.now) - timedelta(days=14)
    out = {}
    for mode, current in base.calls.items():
        row = dict(current)
        row.update(
            id=ctx.next_id("calls"),
            slug=f"{mode.replace('_', '-')}-{opens:%Y-%m}",
            title=f"{current['title']} ({opens:%B %Y} round)",
            opens_on=opens,
            closes_on=current["opens_on"] - timedelta(days=1),
            closed=True,
            created_at=datetime.combine(opens, time(9), tzinfo=UTC),
        )
        ctx.plan.add("calls", row)
        out[mode] = row
    return out


def _submissions(ctx: Context, month: date) -> list[datetime]:
    """When the month's proposals were submitted (working hours, none in the future), in order."""
    days = calendar.monthrange(month.year, month.month)[1]
    out = []
    for _ in range(ctx.rng.randint(*PER_MONTH)):
        day = month + timedelta(days=ctx.rng.randrange(days))
        at = datetime.combine(day, time(ctx.rng.randint(8, 17), ctx.rng.randint(0, 59)), tzinfo=UTC)
        if at < ctx.now - timedelta(hours=2):
            out.append(at)
    return sorted(out)


def _proposals(ctx: Context, base: Base, archive: dict[str, Row]) -> None:
    """The months' proposals in submission order, and a busier last week (the queue the operator sees)."""
    rng, start = ctx.rng, first_month(base.now)
    modes = ["playground", "fast_lane", "large_scale"]
    times = []
    for k in range(MONTHS):
        total = start.year * 12 + start.month - 1 + k
        times += _submissions(ctx, date(total // 12, total % 12 + 1, 1))
    times += [base.now - timedelta(days=rng.uniform(0.1, 6.5)) for _ in range(RECENT)]
    for at in sorted(times):
        mode = rng.choices(modes, weights=(45, 37, 18))[0]
        current = at.date() >= base.calls[mode]["opens_on"]
        if current and mode == "playground":
            mode = "fast_lane"  # the current playground call keeps the demo's own self-service state
        call = base.calls[mode] if current else archive[mode]
        resource = "develop" if mode == "playground" and rng.random() < 0.3 else "booster"
        proposal(ctx, call, rng.choice(base.orgs), base.resources[resource], at)


def _projects(ctx: Context, base: Base) -> None:
    """A project, its PI, its allocation and grant for each accepted proposal; then each allocation's jobs."""
    allotments: list[tuple[Row, Allotment]] = []
    names = {v: k for k, v in base.resources.items()}
    for d in ctx.plan.accepted:
        pid, aid = ctx.next_id("projects"), ctx.next_id("allocations")
        account = slurm_account_name(pid, d.title)
        ctx.plan.add(
            "projects",
            {
                "id": pid,
                "proposal_id": d.proposal_id,
                "name": d.title,
                "slurm_account": account,
                "lead_organization_id": d.org.id,
                "organization_ids": [d.org.id],
                "created_at": d.at,
            },
        )
        ctx.plan.add(
            "project_members", {"project_id": pid, "user_id": d.org.author_id, "role": ProjectRole.PI, "added_at": d.at}
        )
        ctx.audit(d.at, d.by, "project.created", "project", pid, name=d.title, slurm_account=account)
        start = d.at.date()
        end = allocation_end(start, d.months)
        granted = hours_to_seconds(d.awarded)
        alloc = {
            "id": aid,
            "project_id": pid,
            "resource_id": d.resource_id,
            "gpu_hours": d.awarded,
            "start_date": start,
            "end_date": end,
            "status": AllocationStatus.EXPIRED if end < base.now.date() else AllocationStatus.ACTIVE,
            "created_at": d.at,
            "granted_seconds": granted,
            "charged_seconds": 0,
            "reserved_seconds": 0,
            "status_reason": "",
            "low_priority": False,
        }
        ctx.plan.add("allocations", alloc)
        ctx.audit(d.at, d.by, "allocation.created", "allocation", aid, gpu_hours=d.awarded, end_date=end.isoformat())
        ctx.plan.add("ledger_entries", _grant(ctx, alloc, d.at, d.by))
        allotments.append((alloc, _allotment(ctx, base, alloc, d.mode, account, d.org.author_id, names)))
    _usage(ctx, base, allotments)


def _grant(ctx: Context, alloc: Row, at: datetime, by: int | None) -> Row:
    owner = (alloc["id"], alloc["project_id"], alloc["resource_id"])
    return ledger_row(
        ctx.next_id("ledger_entries"),
        owner,
        EntryKind.GRANT,
        alloc["granted_seconds"],
        at,
        f"grant:allocation:{alloc['id']}",
        period=month_key(at),
        source="decision",
        actor_id=by,
        reason="granted by the proposal decision",
    )


def _allotment(
    ctx: Context, base: Base, alloc: Row, mode: str, account: str, submitter: int, names: dict[int, str]
) -> Allotment:
    """How much of its grant an allocation has used by now: most of it once it has ended, a share so far."""
    start: datetime = alloc["created_at"]
    end_of = datetime.combine(alloc["end_date"] + timedelta(days=1), time(0), tzinfo=UTC)
    end = min(end_of, base.now - timedelta(hours=1))
    elapsed = max(0.0, (end - start).total_seconds() / max(1.0, (end_of - start).total_seconds()))
    share = ctx.rng.uniform(0.45, 0.97) * min(1.0, elapsed * ctx.rng.uniform(0.9, 1.2))
    return Allotment(
        allocation_id=alloc["id"],
        project_id=alloc["project_id"],
        resource_id=alloc["resource_id"],
        resource=names[alloc["resource_id"]],
        slurm_account=account,
        submitter_id=submitter,
        mode=mode,
        granted_seconds=alloc["granted_seconds"],
        start=start,
        end=end,
        target_seconds=round(alloc["granted_seconds"] * share),
        hard=mode != "large_scale",
    )


def _usage(ctx: Context, base: Base, allotments: list[tuple[Row, Allotment]]) -> None:
    """Each allocation's jobs and entries; its running sums are the sums of its entries."""
    ids = Ids(ctx.ids["jobs"], ctx.ids["job_events"], ctx.ids["ledger_entries"], ctx.ids["audit_events"])
    for alloc, allotment in allotments:
        used = allocation_usage(ctx.rng, allotment, ids, base.site)
        for table, rows in (
            ("jobs", used.jobs),
            ("job_events", used.job_events),
            ("ledger_entries", used.ledger),
            ("audit_events", used.audit),
        ):
            ctx.plan.rows.setdefault(table, []).extend(rows)
        for entry in used.ledger:
            effect = entry_effect(entry["kind"], entry["amount"])
            alloc["charged_seconds"] += effect.charged
            alloc["reserved_seconds"] += effect.reserved
        if allotment.hard and alloc["charged_seconds"] >= alloc["granted_seconds"]:
            alloc["status"] = AllocationStatus.EXHAUSTED
    ctx.ids.update(jobs=ids.job, job_events=ids.job_event, ledger_entries=ids.ledger, audit_events=ids.audit)


# ------------------------------------------------------------------ the database


def read_base(uow: UnitOfWork, clock: Clock, info: DemoInfo) -> Base:
    """The seeded demo's people, organizations, resources and calls, and the first free ids."""

    def user_id(email: str) -> int:
        user = found(uow.users.by_email(email), "user", email)
        assert user.id is not None
        return user.id

    orgs = []
    for name, _kind, _country, _sectors, email, _person in ORGS:
        org = found(uow.organizations.get(info.org_ids[name]), "organization", name)
        orgs.append(Org(info.org_ids[name], name, org.kind.value, user_id(email), tuple(org.sectors)))
    calls = bulk.rows_of(uow, "calls", info.call_ids.values())
    by_mode = {mode: calls[cid] for mode, cid in info.call_ids.items()}
    site = found(uow.sites.get(by_mode["playground"]["site_id"]), "site", by_mode["playground"]["site_id"])
    return Base(
        now=clock.now(),
        site=site.slug,
        operator_id=user_id(OPERATOR_EMAIL),
        reviewer_ids=tuple(user_id(e) for e, _ in REVIEWERS),
        orgs=tuple(orgs),
        resources=dict(info.resource_ids),
        calls=by_mode,
        first_ids=bulk.next_ids(uow, [t for t in TABLES if t != "project_members"]),
        password_hash=found(uow.users.by_email(OPERATOR_EMAIL), "user", OPERATOR_EMAIL).password_hash,
    )


def seed_history(
    uow_factory: UnitOfWorkFactory, clock: Clock, info: DemoInfo, seed: int = HISTORY_SEED
) -> dict[str, int]:
    """Add the year of history to a freshly seeded demo, in one transaction; the rows written per table."""
    with uow_factory() as uow:
        rows = plan_history(read_base(uow, clock, info), seed)
        written = bulk.insert_rows(uow, rows)
        uow.commit()
    return written
