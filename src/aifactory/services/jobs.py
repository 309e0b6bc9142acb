"""The job gateway's use cases: submit (crash-safe, idempotent), cancel, and the reconciler's sync.

Submission is two transactions around the backend call: the job is stored as ``pending`` with a unique
comment first, then handed to the backend, then its backend id is stored. If the process dies in
between, ``reconcile`` finds the backend job by its comment (or submits it, if it never got there), so a
crash loses no job and duplicates none.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..backends.base import Backend, BackendJob, CommandError, ProjectAccount
from ..domain.access import Page, PageRequest
from ..domain.enums import Enforcement, ProjectRole
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.jobs.admission import check_admission, worst_case_billing
from ..domain.jobs.model import Job, JobRow, job_comment
from ..domain.jobs.spec import JobSpec, parse_spec
from ..domain.jobs.states import JobState, can_move
from ..domain.projects import Allocation, Project
from . import ledger, projects
from .audit import record
from .context import Actor
from .ports import Clock, UnitOfWork
from .settlement import settle_finished

ORPHAN_AFTER = timedelta(seconds=120)  # a job without backend id this old was interrupted (> a submit's timeout)


@dataclass(frozen=True)
class Gateway:
    """The collaborators of the job use cases for one site."""

    backend: Backend
    backend_name: str
    site: str
    jobs_root: Path
    submit_user: str | None = None  # the Unix user that submits (associated with every project's account)
    orphan_after: timedelta = ORPHAN_AFTER
    # a fault-injection point for the crash tests (set only when AIFACTORY_ENV=test)
    after_backend_submit: Callable[[], None] | None = None
    _provisioned: set[str] = field(default_factory=set, compare=False, repr=False)

    def job_dir(self, job_id: int) -> Path:
        return self.jobs_root / str(job_id)

    def provision(self, account: str) -> None:
        """The project's scheduler account (idempotent; once per account and process)."""
        if account not in self._provisioned:
            users = (self.submit_user,) if self.submit_user else ()
            self.backend.ensure_project(ProjectAccount(account, users))
            self._provisioned.add(account)


TRANSIENT = (CommandError, OSError, subprocess.TimeoutExpired)  # the backend may answer later


def _project(uow: UnitOfWork, actor: Actor, ref: int | str) -> Project:
    project = uow.projects.get(ref) if isinstance(ref, int) else uow.projects.by_account(ref)
    if project is None or (project.role_of(actor.id) is None and not actor.is_operator):
        raise NotFound(f"project {ref} not found")
    if project.role_of(actor.id) is None:
        raise Forbidden("only the project's members can submit jobs to it")
    return project


def _allocation(uow: UnitOfWork, project: Project, spec: JobSpec) -> Allocation:
    by_name = {uow.resources.get(a.resource_id).name: a for a in project.allocations}
    if spec.resource is None:
        return project.allocations[0]
    if spec.resource not in by_name:
        raise InvalidInput.on(
            "resource", f"the project has no allocation on {spec.resource!r} (it has: {', '.join(sorted(by_name))})"
        )
    return by_name[spec.resource]


def _admit(uow: UnitOfWork, clock: Clock, project: Project, spec: JobSpec) -> tuple[Allocation, int]:
    """The allocation the job is charged to (locked until the transaction ends, so parallel submissions
    never overspend it) and the job's worst case, after every admission rule."""
    alloc = uow.ledger.lock_allocation(_allocation(uow, project, spec).id)
    call = uow.calls.get(uow.proposals.get(project.proposal_id).call_id)
    resource = uow.resources.get(alloc.resource_id)
    need = worst_case_billing(spec, resource)
    check_admission(
        spec,
        resource=resource,
        max_wall_hours=call.max_wall_hours,
        allocation=alloc,
        today=clock.now().date(),
        need_seconds=need,
        enforce_budget=call.enforcement is Enforcement.HARD,
    )
    return alloc, need


def submit_job(uow_factory: Any, clock: Clock, actor: Actor, gw: Gateway, document: dict[str, Any]) -> Job:
    return submit_job_once(uow_factory, clock, actor, gw, document)[0]


def submit_job_once(
    uow_factory: Any, clock: Clock, actor: Actor, gw: Gateway, document: dict[str, Any]
) -> tuple[Job, bool]:
    """Submit; the second value is False when the idempotency key named an existing job (returned as is)."""
    spec = parse_spec(document)
    with uow_factory() as uow:
        project = _project(uow, actor, spec.project)
        if spec.idempotency_key and (same := uow.jobs.by_idempotency_key(project.id, spec.idempotency_key)):
            return same, False
        alloc, need = _admit(uow, clock, project, spec)
        now = clock.now()
        job = uow.jobs.add(
            Job(
                project_id=project.id,
                allocation_id=alloc.id,
                resource_id=alloc.resource_id,
                submitted_by=actor.id,
                name=spec.name,
                spec=document,
                backend=gw.backend_name,
                tasks=spec.tasks,
                reserved_gpu_seconds=need,
                idempotency_key=spec.idempotency_key,
                created_at=now,
                updated_at=now,
            )
        )
        job.comment = job_comment(gw.site, job.id, secrets.token_hex(6))
        ledger.reserve_job(uow, job, alloc, now)
        record(uow, clock, actor, "job.created", job, None, {"name": job.name, "project_id": project.id})
        uow.commit()
        handoff = _handoff(uow, gw, job, project, spec)
    return _send(uow_factory, clock, gw, job.id, handoff), True


def _handoff(uow: UnitOfWork, gw: Gateway, job: Job, project: Project, spec: JobSpec) -> BackendJob:
    job_dir = gw.job_dir(job.id)
    job_dir.mkdir(parents=True, exist_ok=True)
    return BackendJob(
        job_id=job.id,
        spec=spec,
        account=project.slurm_account,
        partition=uow.resources.get(job.resource_id).name,
        job_dir=str(job_dir),
        comment=job.comment,
    )


def _send(uow_factory: Any, clock: Clock, gw: Gateway, job_id: int, handoff: BackendJob) -> Job:
    """Hand the job to the backend; store its id (or why it was refused) in a second transaction. A backend
    that does not answer leaves the job pending: the reconciler submits it once the backend is back."""
    backend_id, refused, trouble = None, None, None
    try:
        gw.provision(handoff.account)
        backend_id = gw.backend.submit(handoff)
    except InvalidInput as exc:
        refused = exc
    except TRANSIENT as exc:
        trouble = exc
    if gw.after_backend_submit is not None:
        gw.after_backend_submit()
    with uow_factory() as uow:
        job = uow.jobs.get(job_id)
        if backend_id is not None:
            job.backend_id = backend_id
            job.move(JobState.SUBMITTED, clock.now(), f"{gw.backend_name} id {backend_id}")
        elif refused is not None:
            job.move(JobState.FAILED, clock.now(), f"refused by the {gw.backend_name} backend: {refused}")
        else:
            job.reason = f"the {gw.backend_name} backend did not answer ({trouble}); the reconciler retries"
        uow.commit()
    if refused is not None:
        raise refused
    return job


def may_cancel(actor: Actor, job: Job, project: Project) -> bool:
    """The job's submitter, the project's PI or an operator (whether or not the job is still open)."""
    return actor.is_operator or job.submitted_by == actor.id or project.role_of(actor.id) is ProjectRole.PI


def cancel_job(uow_factory: Any, clock: Clock, actor: Actor, gw: Gateway, job_id: int) -> Job:
    with uow_factory() as uow:
        job = get_job(uow, actor, job_id)
        project = uow.projects.get(job.project_id)
        if not may_cancel(actor, job, project):
            raise Forbidden("only the job's submitter, the project's PI or an operator can cancel it")
        if job.terminal:
            return job
        if job.backend_id is not None:
            gw.backend.cancel([job.backend_id])
        job.move(JobState.CANCELLED, clock.now(), f"cancelled by user {actor.id}")
        record(uow, clock, actor, "job.cancelled", job, None, {"state": "cancelled"})
        uow.commit()
        return job


def get_job(uow: UnitOfWork, actor: Actor, job_id: int) -> Job:
    job = uow.jobs.get(job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if not actor.is_operator and uow.projects.get(job.project_id).role_of(actor.id) is None:
        raise NotFound(f"job {job_id} not found")  # not confirmed to outsiders
    return job


def list_jobs(
    uow: UnitOfWork,
    actor: Actor,
    page: PageRequest,
    *,
    project_id: int | None = None,
    state: JobState | None = None,
    with_events: bool = True,
) -> Page[Job]:
    """The jobs of the projects the actor is a member of (operators: all), newest first."""
    return uow.jobs.list(
        page,
        actor.project_scope(),
        project_id=project_id,
        state=state.value if state is not None else None,
        with_events=with_events,
    )


def job_rows(uow: UnitOfWork, actor: Actor, project_id: int, page: PageRequest) -> Page[JobRow]:
    """A project's jobs as table rows, newest first; its members and operators only (else 404)."""
    projects.require_visible(uow, actor, project_id)
    return uow.jobs.rows(project_id, page)


def reconcile(uow_factory: Any, clock: Clock, gw: Gateway) -> int:
    """One pass of the reconciler: adopt or resubmit interrupted submissions, sync every open job's
    state with one batched status call, then charge the finished jobs in the ledger. Scheduler I/O happens
    outside transactions (a slow ``squeue``
    never holds the database's write lock). Returns the number of transitions recorded."""
    with uow_factory(write=False) as uow:
        open_jobs = uow.jobs.open_jobs(gw.backend_name)
        tracked = {j.backend_id: j.id for j in open_jobs if j.backend_id is not None}
        orphans = [
            (j.id, j.comment, _handoff(uow, gw, j, uow.projects.get(j.project_id), parse_spec(j.spec)))
            for j in open_jobs
            if j.backend_id is None and clock.now() - j.created_at > gw.orphan_after
        ]
    moves = sum(_adopt(uow_factory, clock, gw, *orphan) for orphan in orphans)
    reports = gw.backend.status(list(tracked)) if tracked else {}
    if reports:
        with uow_factory() as uow:
            for backend_id, status in reports.items():
                job = uow.jobs.get(tracked[backend_id])
                if job.backend_id == backend_id and can_move(job.state, status.state):  # stale reports: no-op
                    job.move(status.state, clock.now(), status.reason, exit_code=status.exit_code)
                    moves += 1
            uow.commit()
    settle_finished(uow_factory, clock, gw)  # charge what finished (in this pass or before)
    return moves


def _adopt(uow_factory: Any, clock: Clock, gw: Gateway, job_id: int, comment: str, handoff: BackendJob) -> int:
    """A job stored but never confirmed: the backend has it (found by comment) or it never got there."""
    backend_id, refused, trouble = None, None, None
    try:
        backend_id = gw.backend.find_by_comment(comment)
        if backend_id is None:
            gw.provision(handoff.account)
            backend_id = gw.backend.submit(handoff)
            detail = f"resubmitted after an interrupted submission ({gw.backend_name} id {backend_id})"
        else:
            detail = f"adopted after an interrupted submission ({gw.backend_name} id {backend_id})"
    except InvalidInput as exc:
        refused = exc
    except TRANSIENT as exc:
        trouble = exc
    with uow_factory() as uow:
        job = uow.jobs.get(job_id)
        if job.backend_id is not None or job.terminal:
            return 0  # settled meanwhile (e.g. cancelled)
        if backend_id is not None:
            job.backend_id = backend_id
            job.move(JobState.SUBMITTED, clock.now(), detail)
        elif refused is not None:
            job.move(JobState.FAILED, clock.now(), f"refused by the {gw.backend_name} backend: {refused}")
        else:
            job.reason = f"the {gw.backend_name} backend did not answer ({trouble}); the reconciler retries"
        uow.commit()
    return 0 if trouble is not None else 1
