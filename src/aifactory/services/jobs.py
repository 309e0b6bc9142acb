"""The job gateway's use cases: submit (crash-safe, idempotent), cancel, and the reconciler's sync.

Submission is two transactions around the backend call: the job is stored as ``pending`` with a unique
comment first, then handed to the backend, then its backend id is stored. If the process dies in
between, ``reconcile`` finds the backend job by its comment (or submits it, if it never got there), so a
crash loses no job and duplicates none. Scheduler I/O never happens inside a transaction, and the one
scheduler error these use cases handle is ``BackendUnavailable`` (the work is left for a later pass).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ..domain.access import Page, PageRequest
from ..domain.enums import Enforcement, ProjectRole
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..domain.jobs.admission import check_admission, worst_case_billing
from ..domain.jobs.execution import BackendJob, StagedInput
from ..domain.jobs.model import Job, JobRow, job_comment
from ..domain.jobs.spec import JobSpec, check_spec, parse_spec
from ..domain.jobs.states import JobState, can_move
from ..domain.posix import RunAs
from ..domain.projects import Allocation, Project
from ..domain.sites import Resource
from . import identities, job_cancels, job_inputs, ledger, projects
from .audit import record
from .context import Actor, found
from .gateway import Gateway as Gateway  # re-exported: jobs.Gateway is what callers know
from .ports import BackendUnavailable, Clock, StoreUnavailable, UnitOfWork, UnitOfWorkFactory
from .settlement import settle_finished


@dataclass(frozen=True)
class Submission:
    """What a submission returns: the job, and whether this call created it (False: the idempotency key named
    a job submitted before, returned as it is)."""

    job: Job
    created: bool


class SubmitInterrupted(StoreUnavailable):
    """The database failed after the job was (or may have been) stored: the answer names the job, which the
    reconciler hands to the backend (or adopts) once the database is back."""

    def __init__(self, job_id: int, reason: str):
        super().__init__(f"job {job_id}: {reason}")
        self.job_id = job_id


def _project(uow: UnitOfWork, actor: Actor, ref: int | str) -> Project:
    project = uow.projects.get(ref) if isinstance(ref, int) else uow.projects.by_account(ref)
    if project is None or (project.role_of(actor.id) is None and not actor.is_operator):
        raise NotFound(f"project {ref} not found")
    if project.role_of(actor.id) is None:
        raise Forbidden("only the project's members can submit jobs to it")
    actor.check_project(project.stored_id)  # a project token's scope (services.scopes)
    return project


def _resource(uow: UnitOfWork, resource_id: int) -> Resource:
    return found(uow.resources.get(resource_id), "resource", resource_id)


def _allocation(uow: UnitOfWork, project: Project, spec: JobSpec) -> Allocation:
    by_name = {_resource(uow, a.resource_id).name: a for a in project.allocations}
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
    chosen = _allocation(uow, project, spec)
    alloc = found(uow.ledger.lock_allocation(chosen.stored_id), "allocation", chosen.id)
    proposal = found(uow.proposals.get(project.proposal_id), "proposal", project.proposal_id)
    call = found(uow.calls.get(proposal.call_id), "call", proposal.call_id)
    resource = _resource(uow, alloc.resource_id)
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


def submit_job(
    uow_factory: UnitOfWorkFactory, clock: Clock, actor: Actor, gw: Gateway, document: dict[str, Any]
) -> Job:
    return submit_job_or_existing(uow_factory, clock, actor, gw, document).job


def submit_job_or_existing(
    uow_factory: UnitOfWorkFactory, clock: Clock, actor: Actor, gw: Gateway, document: dict[str, Any]
) -> Submission:
    """Submit a job, or return the one its idempotency key named before (``created`` False). When the database
    fails once the job may be stored, ``SubmitInterrupted`` names it: no job is ever created silently."""
    check_spec(document)  # the schema and the sweep's size first: nothing is expanded before membership
    stored = _store(uow_factory, clock, actor, gw, document)
    if isinstance(stored, Submission):
        return stored
    job_id, handoff = stored
    try:
        return Submission(_send(uow_factory, clock, gw, job_id, handoff), created=True)
    except StoreUnavailable as exc:
        raise SubmitInterrupted(job_id, str(exc)) from exc


def _store(
    uow_factory: UnitOfWorkFactory, clock: Clock, actor: Actor, gw: Gateway, document: dict[str, Any]
) -> Submission | tuple[int, BackendJob]:
    """The first transaction: membership, idempotency, tenancy, admission, the job stored as pending."""
    job: Job | None = None
    apart = gw.keeps_tenants_apart()  # may probe the host (once): never inside the transaction
    try:
        with uow_factory() as uow:
            project = _project(uow, actor, document["project"])
            key = document.get("idempotency_key")
            if key and (same := uow.jobs.by_idempotency_key(project.stored_id, key)):
                return Submission(same, created=False)
            if not apart:
                _one_organization_only(uow, gw, project)
            spec = parse_spec(document)
            inputs = job_inputs.resolve(uow, actor, gw.storage, project, spec)  # before anything is stored
            alloc, need = _admit(uow, clock, project, spec)
            now = clock.now()
            job = uow.jobs.add(
                Job(
                    project_id=project.stored_id,
                    allocation_id=alloc.stored_id,
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
            job.comment = job_comment(gw.site, job.stored_id, secrets.token_hex(6))
            ledger.reserve_job(uow, job, alloc, now)
            record(uow, clock, actor, "job.created", job, None, {"name": job.name, "project_id": project.id})
            if gw.identities is not None:  # the owner's and the project's POSIX identities, stored with the job
                gw.identities.allocate(uow, clock, actor.id, project.stored_id)
            uow.commit()
            return job.stored_id, _handoff(uow, gw, job, project, spec, inputs)
    except StoreUnavailable as exc:
        if job is None:
            raise  # nothing was stored
        raise SubmitInterrupted(job.stored_id, str(exc)) from exc


def _one_organization_only(uow: UnitOfWork, gw: Gateway, project: Project) -> None:
    """A backend that cannot confine jobs (the local executor without its sandbox) runs the jobs of one
    organization only: another's could read them. The operator may declare a single tenant instead."""
    if uow.jobs.other_organization_ran(gw.backend_name, project.lead_organization_id):
        raise Conflict(
            f"this site's {gw.backend_name} executor cannot confine jobs (no sandbox), so it runs the jobs of one "
            "organization only, and another organization's jobs run here; ask the operator to install bubblewrap "
            "(or to declare a single-tenant site: AIFACTORY_LOCAL_SINGLE_TENANT=1)"
        )


def _handoff(
    uow: UnitOfWork,
    gw: Gateway,
    job: Job,
    project: Project,
    spec: JobSpec,
    inputs: tuple[StagedInput, ...] | None = None,
) -> BackendJob:
    """What the backend gets. ``inputs`` None (the reconciler's handover): resolved again for the submitter."""
    if inputs is None:
        inputs = _inputs_again(uow, gw, job, project, spec)
    job_dir = gw.job_dir(job.stored_id)
    job_dir.mkdir(parents=True, exist_ok=True)
    return BackendJob(
        job_id=job.stored_id,
        spec=spec,
        account=project.slurm_account,
        partition=_resource(uow, job.resource_id).name,
        job_dir=str(job_dir),
        comment=job.comment,
        run_as=_run_as(uow, gw, job, project),
        inputs=inputs,
    )


def _inputs_again(uow: UnitOfWork, gw: Gateway, job: Job, project: Project, spec: JobSpec) -> tuple[StagedInput, ...]:
    """A job's inputs resolved again for its submitter (after an interrupted submission); none that still
    resolves is staged (the backend then fails the job, with the reason, rather than run it without)."""
    if not spec.inputs:
        return ()
    submitter = found(uow.users.get(job.submitted_by), "user", job.submitted_by)
    try:
        return job_inputs.resolve(uow, Actor(submitter), gw.storage, project, spec)
    except InvalidInput:
        return tuple(StagedInput(ref.name, "") for ref in spec.inputs)


def _run_as(uow: UnitOfWork, gw: Gateway, job: Job, project: Project) -> RunAs | None:
    """The job's owner and the project's group (with identities on; the date of the job's last change decides
    which projects are over), else None: the server's own user."""
    if gw.identities is None:
        return None
    return identities.run_as(uow, job.submitted_by, project.stored_id, today=job.updated_at.date())


@dataclass(frozen=True)
class _Outcome:
    """How handing a job to the backend went: its backend id, its refusal, or no answer."""

    backend_id: str | None = None
    detail: str = ""
    refused: InvalidInput | None = None
    trouble: BackendUnavailable | None = None


def _hand_over(gw: Gateway, handoff: BackendJob, *, adopt: bool = False) -> _Outcome:
    """Give the job to the backend (provisioning its account first). ``adopt``: after an interrupted
    submission, the backend may have it already (found by its comment); then it is not submitted again."""
    name = gw.backend_name
    try:
        if adopt and (backend_id := gw.backend.find_by_comment(handoff.comment)) is not None:
            return _Outcome(backend_id, f"adopted after an interrupted submission ({name} id {backend_id})")
        gw.provision(handoff.account, handoff.run_as)
        backend_id = gw.backend.submit(handoff)
    except InvalidInput as exc:
        return _Outcome(refused=exc)
    except BackendUnavailable as exc:
        return _Outcome(trouble=exc)
    detail = f"{name} id {backend_id}"
    return _Outcome(backend_id, f"resubmitted after an interrupted submission ({detail})" if adopt else detail)


def _record_outcome(job: Job, outcome: _Outcome, clock: Clock, gw: Gateway) -> None:
    if outcome.backend_id is not None:
        job.handed_over(outcome.backend_id, clock.now(), outcome.detail)
    elif outcome.refused is not None:
        job.move(JobState.FAILED, clock.now(), f"refused by the {gw.backend_name} backend: {outcome.refused}")
    else:
        job.handover_failed(
            clock.now(), f"the {gw.backend_name} backend did not answer ({outcome.trouble}); retried with backoff"
        )


def _send(uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, job_id: int, handoff: BackendJob) -> Job:
    """Hand the job to the backend; store its id (or why it was refused) in a second transaction. A backend
    that does not answer leaves the job pending: the reconciler submits it once the backend is back."""
    outcome = _hand_over(gw, handoff)
    if gw.after_backend_submit is not None:
        gw.after_backend_submit()
    with uow_factory() as uow:
        job = found(uow.jobs.get(job_id), "job", job_id)
        _record_outcome(job, outcome, clock, gw)
        uow.commit()
    if outcome.refused is not None:
        raise outcome.refused
    if job.cancel_pending and job.backend_id is not None:  # cancelled while it was being handed over
        return job_cancels.cancel_now(uow_factory, clock, gw, job.stored_id, job.backend_id)
    return job


def may_cancel(actor: Actor, job: Job, project: Project) -> bool:
    """The job's submitter, the project's PI or an operator (whether or not the job is still open)."""
    return actor.is_operator or job.submitted_by == actor.id or project.role_of(actor.id) is ProjectRole.PI


def cancel_job(uow_factory: UnitOfWorkFactory, clock: Clock, actor: Actor, gw: Gateway, job_id: int) -> Job:
    """Cancel an open job. Who may is decided, and the intent stored, in a first transaction; a job the backend
    has is cancelled there after it, and the cancel recorded in a second one, so ``scancel`` never holds the
    database. When the backend cannot take the cancel now (it is down, or the job has no backend id yet: its
    hand-over failed or was interrupted), the job comes back open with ``cancel_pending``: the reconciler
    carries the cancel out until the backend confirms it (``services.job_cancels``); whatever ran is charged."""
    with uow_factory() as uow:
        job = get_job(uow, actor, job_id)
        if not may_cancel(actor, job, _job_project(uow, job)):
            raise Forbidden("only the job's submitter, the project's PI or an operator can cancel it")
        if job.request_cancel(clock.now(), actor.id):
            record(uow, clock, actor, "job.cancel_requested", job, None, {"state": job.state.value})
            uow.commit()
        if job.terminal or job.backend_id is None:
            return job
        backend_id = job.backend_id
    return job_cancels.cancel_now(uow_factory, clock, gw, job_id, backend_id)


def get_job(uow: UnitOfWork, actor: Actor, job_id: int) -> Job:
    job = uow.jobs.get(job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    if not actor.is_operator and _job_project(uow, job).role_of(actor.id) is None:
        raise NotFound(f"job {job_id} not found")  # not confirmed to outsiders
    return job


def list_jobs(
    uow: UnitOfWork,
    actor: Actor,
    page: PageRequest,
    *,
    project_id: int | None = None,
    state: JobState | None = None,
    mine: bool = False,
    with_events: bool = True,
) -> Page[Job]:
    """The jobs of the projects the actor is a member of (operators: all), newest first; ``mine``: only those
    the actor submitted."""
    return uow.jobs.list(
        page,
        actor.project_scope(),
        project_id=project_id,
        state=state.value if state is not None else None,
        submitted_by=actor.id if mine else None,
        with_events=with_events,
    )


def job_rows(uow: UnitOfWork, actor: Actor, project_id: int, page: PageRequest) -> Page[JobRow]:
    """A project's jobs as table rows, newest first; its members and operators only (else 404)."""
    projects.require_visible(uow, actor, project_id)
    return uow.jobs.rows(project_id, page)


def reconcile(uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway) -> int:
    """One pass of the reconciler: hand over again what the backend did not answer (retries whose backoff
    is over) and what a crash interrupted (adopted by its comment or resubmitted), sync every open job's state
    with one batched status call (which the log followers share: ``services.status_board``), carry out pending
    cancels, then charge the finished jobs in the ledger. Scheduler I/O happens outside transactions (a slow
    ``squeue`` never holds the database's write lock). Returns the number of transitions recorded."""
    now = clock.now()
    with uow_factory(write=False) as uow:
        open_jobs = uow.jobs.open_jobs(gw.backend_name)
        tracked = {j.backend_id: j.stored_id for j in open_jobs if j.backend_id is not None}
        due = [
            (j.stored_id, _handoff(uow, gw, j, _job_project(uow, j), parse_spec(j.spec)))
            for j in open_jobs
            if j.handover_due(now, gw.orphan_after)
        ]
        cancels = job_cancels.PendingCancels.of(open_jobs, now, gw.orphan_after)
    moves = _hand_over_due(uow_factory, clock, gw, due)
    reports = gw.backend.status(list(tracked)) if tracked else {}
    if reports:
        with uow_factory() as uow:
            for backend_id, status in reports.items():
                job = found(uow.jobs.get(tracked[backend_id]), "job", tracked[backend_id])
                if job.backend_id == backend_id and can_move(job.state, status.state):  # stale reports: no-op
                    job.move(status.state, clock.now(), status.reason, exit_code=status.exit_code)
                    moves += 1
            uow.commit()
    moves += job_cancels.carry_out(uow_factory, clock, gw, cancels)
    settle_finished(uow_factory, clock, gw)  # charge what finished (in this pass or before)
    return moves


def _job_project(uow: UnitOfWork, job: Job) -> Project:
    return found(uow.projects.get(job.project_id), "project", job.project_id)


def _hand_over_due(uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, due: list[tuple[int, BackendJob]]) -> int:
    """Hand the due jobs over, oldest first. The first one the backend does not answer ends the round: the
    others keep their turn (and their attempt count) for the next cycle."""
    moves = 0
    for job_id, handoff in due:
        outcome = _adopt(uow_factory, clock, gw, job_id, handoff)
        if outcome.trouble is not None:
            break
        moves += 1
    return moves


def _adopt(uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, job_id: int, handoff: BackendJob) -> _Outcome:
    """A job stored but never confirmed: the backend has it (found by comment) or it never got there."""
    outcome = _hand_over(gw, handoff, adopt=True)
    with uow_factory() as uow:
        job = found(uow.jobs.get(job_id), "job", job_id)
        if job.backend_id is not None or job.terminal:
            return outcome  # settled meanwhile
        _record_outcome(job, outcome, clock, gw)
        uow.commit()
    if job.cancel_pending and outcome.backend_id is not None:  # cancelled meanwhile: carry it out now
        job_cancels.cancel_now(uow_factory, clock, gw, job.stored_id, outcome.backend_id)
    return outcome
