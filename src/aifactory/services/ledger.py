"""The ledger's use cases: grant, reserve, settle, adjust, suspend/resume, balances, the consistency check.

Every entry goes through :func:`post`, which locks the allocation, refuses a key seen before (so a
settlement applied twice changes nothing) and updates the allocation's running sums in the same
transaction. The sums are a cache: :func:`check_ledger` proves them equal to the entries' sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.access import Page, PageRequest
from ..domain.enums import AllocationStatus, Enforcement
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..domain.jobs.execution import Usage
from ..domain.jobs.model import Job
from ..domain.jobs.spec import parse_spec
from ..domain.jobs.states import JobState
from ..domain.ledger import (
    Balance,
    EntryKind,
    JobCharge,
    LedgerEntry,
    QuotaState,
    billing_rate,
    check_amount,
    entry_effect,
    gpu_hours,
    hours_to_seconds,
    job_charge,
    month_key,
    monthly_quotas,
    months_between,
    quota_state,
    reached_thresholds,
    settle,
)
from ..domain.projects import Allocation, Project
from ..domain.stored import stored
from .audit import record
from .context import Actor, found
from .notifications import note
from .ports import Clock, UnitOfWork


def post(uow: UnitOfWork, entry: LedgerEntry) -> bool:
    """Append ``entry`` and apply it to its allocation's sums. False, writing nothing, if its key exists."""
    alloc = uow.ledger.lock_allocation(entry.allocation_id) if entry.allocation_id is not None else None
    if uow.ledger.by_key(entry.key) is not None:
        return False
    if alloc is not None:
        effect = entry_effect(entry.kind, entry.amount)
        alloc.granted_seconds += effect.granted
        alloc.charged_seconds += effect.charged
        alloc.reserved_seconds += effect.reserved
    uow.ledger.add(entry)
    return True


def _entry(
    alloc: Allocation,
    project_id: int | None,
    kind: EntryKind,
    amount: int,
    at: datetime,
    key: str,
    *,
    period: str = "",
    job_id: int | None = None,
    gpu_seconds: int = 0,
    source: str = "gateway",
    actor_id: int | None = None,
    reason: str = "",
    usage_start: datetime | None = None,
    usage_end: datetime | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        allocation_id=alloc.id,
        project_id=project_id,
        resource_id=alloc.resource_id,
        kind=kind,
        amount=amount,
        gpu_seconds=gpu_seconds,
        job_id=job_id,
        source=source,
        usage_start=usage_start,
        usage_end=usage_end,
        period=period or month_key(at),
        at=at,
        actor_id=actor_id,
        reason=reason,
        key=key,
    )


def grant(uow: UnitOfWork, clock: Clock, alloc: Allocation, project_id: int, actor_id: int | None) -> None:
    """The award of a new allocation, once (called by the decision that creates it)."""
    post(
        uow,
        _entry(
            alloc,
            project_id,
            EntryKind.GRANT,
            hours_to_seconds(alloc.gpu_hours),
            clock.now(),
            f"grant:allocation:{alloc.id}",
            source="decision",
            actor_id=actor_id,
            reason="granted by the proposal decision",
        ),
    )


# ------------------------------------------------------------------ jobs


def reserve_job(uow: UnitOfWork, job: Job, alloc: Allocation, at: datetime) -> None:
    if job.reserved_gpu_seconds > 0:
        post(
            uow,
            _entry(
                alloc,
                job.project_id,
                EntryKind.RESERVE,
                job.reserved_gpu_seconds,
                at,
                f"reserve:job:{job.id}",
                job_id=job.id,
                reason="worst case of the job",
            ),
        )


@dataclass(frozen=True)
class Settled:
    job_id: int
    allocation_id: int
    charge: int


def settle_job(uow: UnitOfWork, clock: Clock, job: Job, usage: Usage | None) -> Settled | None:
    """Charge a finished job's use and release its reservation, once. ``usage`` None: it never ran."""
    if job.settled_at is not None or not job.terminal:
        return None
    alloc = _allocation(uow, job.allocation_id)
    resource = found(uow.resources.get(job.resource_id), "resource", job.resource_id)
    spec = parse_spec(job.spec)
    r = spec.resources
    started = usage is not None and (usage.started_at is not None or usage.elapsed_seconds > 0)
    s = settle(
        reserved=job.reserved_gpu_seconds,
        rate=billing_rate(resource, gpus=r.gpus_per_node, cpus=r.cpus_per_task, memory_mb=r.memory_mb),
        nodes=r.nodes,
        gpus_per_node=r.gpus_per_node,
        tasks_elapsed=usage.elapsed_seconds if usage else 0,
        started=started,
        timed_out=job.state is JobState.TIMEOUT,
        time_limit_seconds=r.time_minutes * 60,
        tasks=spec.tasks,
    )
    now = clock.now()
    end = job.finished_at or now
    if s.charge > 0:
        post(
            uow,
            _entry(
                alloc,
                job.project_id,
                EntryKind.CHARGE,
                s.charge,
                now,
                f"charge:job:{job.id}",
                job_id=job.id,
                gpu_seconds=s.gpu_seconds,
                usage_start=job.started_at,
                usage_end=end,
                period=month_key(end),
                reason=f"{s.elapsed_seconds} s used ({job.state.value})",
            ),
        )
    if s.release > 0:
        post(
            uow,
            _entry(
                alloc,
                job.project_id,
                EntryKind.RELEASE,
                s.release,
                now,
                f"release:job:{job.id}",
                job_id=job.id,
                reason="reservation released at settlement",
            ),
        )
    job.settled_at = now
    after_charge(uow, clock, alloc)
    return Settled(job.stored_id, alloc.stored_id, s.charge)


def after_charge(uow: UnitOfWork, clock: Clock, alloc: Allocation) -> None:
    """Notifications for the use thresholds reached; soft policy: the month's quota overdrawn or not."""
    project = project_of(uow, alloc)
    for event in reached_thresholds(alloc.balance.used_fraction, uow.notifications.events(alloc.stored_id)):
        note(
            uow,
            clock,
            alloc,
            event,
            f"Project {project.name!r} has used {alloc.balance.used_fraction:.0%} of its "
            f"{gpu_hours(alloc.balance.granted):,.0f} GPU-hours",
        )
    if enforcement_of(uow, alloc) is Enforcement.SOFT:
        alloc.low_priority = soft_quota(uow, clock, alloc).overdrawn
    elif alloc.status is AllocationStatus.ACTIVE and alloc.charged_seconds >= alloc.granted_seconds > 0:
        alloc.status = AllocationStatus.EXHAUSTED  # hard: nothing left; a top-up makes it active again
        note(
            uow,
            clock,
            alloc,
            "exhausted",
            f"Project {project.name!r} has used all of its {gpu_hours(alloc.balance.granted):,.0f} GPU-hours",
        )


def project_of(uow: UnitOfWork, alloc: Allocation) -> Project:
    """The project an allocation belongs to."""
    project_id = stored(alloc.project_id, "the allocation's project")
    return found(uow.projects.get(project_id), "project", project_id)


def enforcement_of(uow: UnitOfWork, alloc: Allocation) -> Enforcement:
    proposal_id = project_of(uow, alloc).proposal_id
    proposal = found(uow.proposals.get(proposal_id), "proposal", proposal_id)
    return found(uow.calls.get(proposal.call_id), "call", proposal.call_id).enforcement


def soft_quota(uow: UnitOfWork, clock: Clock, alloc: Allocation) -> QuotaState:
    quotas = monthly_quotas(alloc.granted_seconds, months_between(alloc.start_date, alloc.end_date))
    return quota_state(quotas, uow.ledger.charged_by_month(alloc.stored_id), month_key(clock.now()))


# ------------------------------------------------------------------ operators


def _operator(actor: Actor) -> None:
    if not actor.is_operator:
        raise Forbidden("only operators can change allocations")


def _allocation(uow: UnitOfWork, allocation_id: int) -> Allocation:
    alloc = uow.ledger.lock_allocation(allocation_id)
    if alloc is None:
        raise NotFound(f"allocation {allocation_id} not found")
    return alloc


def adjust(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    allocation_id: int,
    gpu_hours_delta: float,
    reason: str,
    key: str | None = None,
) -> Allocation:
    """A top-up (+) or a correction (−), with its reason; a key makes a retried request a no-op."""
    _operator(actor)
    seconds = hours_to_seconds(gpu_hours_delta)
    check_amount("gpu_hours", seconds, allow_negative=True)
    if not reason.strip():
        raise InvalidInput.on("reason", "an adjustment needs a reason")
    alloc = _allocation(uow, allocation_id)
    if alloc.granted_seconds + seconds < 0:
        raise InvalidInput.on("gpu_hours", "would take the grant below zero")
    now = clock.now()
    posted = post(
        uow,
        _entry(
            alloc,
            alloc.project_id,
            EntryKind.ADJUST,
            seconds,
            now,
            key or f"adjust:allocation:{alloc.id}:{now.isoformat()}",
            source="operator",
            actor_id=actor.id,
            reason=reason.strip(),
        ),
    )
    if posted:
        if alloc.status is AllocationStatus.EXHAUSTED and alloc.balance.available > 0:
            alloc.status = AllocationStatus.ACTIVE
        record(
            uow,
            clock,
            actor,
            "allocation.adjusted",
            alloc,
            None,
            {"gpu_hours": gpu_hours_delta, "reason": reason.strip()},
        )
    uow.commit()
    return alloc


def set_suspended(
    uow: UnitOfWork, clock: Clock, actor: Actor, allocation_id: int, suspended: bool, reason: str
) -> Allocation:
    """Suspension stops new jobs (running ones finish and are charged); resuming lifts it."""
    _operator(actor)
    if suspended and not reason.strip():
        raise InvalidInput.on("reason", "a suspension needs a reason")
    alloc = _allocation(uow, allocation_id)
    if suspended == (alloc.status is AllocationStatus.SUSPENDED):
        raise Conflict(f"allocation {allocation_id} is {'already' if suspended else 'not'} suspended")
    before = alloc.status.value
    alloc.status = AllocationStatus.SUSPENDED if suspended else AllocationStatus.ACTIVE
    alloc.status_reason = reason.strip()
    if suspended:
        note(
            uow,
            clock,
            alloc,
            f"suspended-{clock.now():%Y%m%dT%H%M%S}",
            f"The allocation was suspended: {reason.strip()}",
        )
    record(
        uow,
        clock,
        actor,
        "allocation.suspended" if suspended else "allocation.resumed",
        alloc,
        {"status": before},
        {"status": alloc.status.value, "reason": alloc.status_reason},
    )
    uow.commit()
    return alloc


# ------------------------------------------------------------------ reads


def allocation_for(uow: UnitOfWork, actor: Actor, allocation_id: int) -> Allocation:
    alloc = uow.allocations.get(allocation_id)
    if alloc is None or (not actor.is_operator and project_of(uow, alloc).role_of(actor.id) is None):
        raise NotFound(f"allocation {allocation_id} not found")
    return alloc


def charge_of_job(uow: UnitOfWork, job: Job) -> JobCharge:
    """A job's reservation and charge from its ledger entries (the caller has checked the job is visible)."""
    return job_charge(uow.ledger.for_job(job.stored_id), settled=job.settled_at is not None)


def entries(
    uow: UnitOfWork, actor: Actor, allocation_id: int, page: PageRequest, *, kind: str | None = None
) -> Page[LedgerEntry]:
    allocation_for(uow, actor, allocation_id)
    return uow.ledger.list(page, allocation_id=allocation_id, kind=kind)


@dataclass(frozen=True)
class LedgerProblem:
    allocation_id: int | None
    job_id: int | None
    problem: str


def check_ledger(uow: UnitOfWork) -> tuple[int, list[LedgerProblem]]:
    """Prove the ledger reconciles: every allocation's stored sums equal its entries' sums; every grant
    is there; every settled job released exactly its reservation, once; no open job has a release; no
    balance of reservations is negative. Returns (allocations checked, problems)."""
    problems: list[LedgerProblem] = []
    derived = uow.ledger.derived_balances()
    allocs = uow.allocations.all()
    for a in allocs:
        d = derived.get(a.stored_id, Balance(0, 0, 0))
        if d != a.balance:
            problems.append(LedgerProblem(a.id, None, f"stored sums {a.balance} differ from the entries' {d}"))
        if d.granted <= 0 and a.gpu_hours > 0:
            problems.append(LedgerProblem(a.id, None, "no grant entry"))
        if d.reserved < 0:
            problems.append(LedgerProblem(a.id, None, f"reservations below zero ({d.reserved})"))
    per_job: dict[int, dict[str, tuple[int, int]]] = {}
    for job_id, kind, n, total in uow.ledger.job_entry_sums():
        per_job.setdefault(job_id, {})[kind] = (n, total)
    for job in uow.jobs.with_entries_or_settled():
        kinds = per_job.get(job.stored_id, {})
        n_res, reserved = kinds.get("reserve", (0, 0))
        n_rel, released = kinds.get("release", (0, 0))
        if max(n_res, n_rel, kinds.get("charge", (0, 0))[0]) > 1:
            problems.append(LedgerProblem(job.allocation_id, job.id, "an entry was applied twice"))
        if job.settled_at is not None and released != reserved:
            problems.append(
                LedgerProblem(
                    job.allocation_id, job.id, f"settled, but released {released} of a {reserved} reservation"
                )
            )
        if job.settled_at is None and n_rel:
            problems.append(LedgerProblem(job.allocation_id, job.id, "released before it was settled"))
    return len(allocs), problems
