"""The job gateway's use cases: submit (crash-safe, idempotent), cancel, and the reconciler's sync.

Submission is two transactions around the backend call: the job is stored as ``pending`` with a unique
comment first, then handed to the backend, then its backend id is stored. If the process dies in
between, ``reconcile`` finds the backend job by its comment (or submits it, if it never got there), so a
crash loses no job and duplicates none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..backends.base import Backend, BackendJob
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.jobs.admission import check_admission, worst_case_gpu_hours
from ..domain.jobs.model import Job, job_comment
from ..domain.jobs.spec import JobSpec, parse_spec
from ..domain.jobs.states import JobState, can_move
from ..domain.projects import Allocation, Project
from .audit import record
from .context import Actor
from .ports import Clock, UnitOfWork

ORPHAN_AFTER = timedelta(seconds=60)  # a pending job without backend id this old was interrupted


@dataclass(frozen=True)
class Gateway:
    """The collaborators of the job use cases for one site."""

    backend: Backend
    backend_name: str
    site: str
    jobs_root: Path

    def job_dir(self, job_id: int) -> Path:
        return self.jobs_root / str(job_id)


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
        raise InvalidInput.on("resource", f"the project has no allocation on {spec.resource!r} "
                                          f"(it has: {', '.join(sorted(by_name))})")
    return by_name[spec.resource]


def _admit(uow: UnitOfWork, clock: Clock, project: Project, spec: JobSpec) -> Allocation:
    alloc = _allocation(uow, project, spec)
    call = uow.calls.get(uow.proposals.get(project.proposal_id).call_id)
    reserved = sum(worst_case_gpu_hours(parse_spec(j.spec)) for j in uow.jobs.open_jobs()
                   if j.allocation_id == alloc.id)
    check_admission(spec, resource=uow.resources.get(alloc.resource_id), max_wall_hours=call.max_wall_hours,
                    allocation=alloc, used_gpu_hours=reserved, today=clock.now().date())
    return alloc


def submit_job(uow_factory: Any, clock: Clock, actor: Actor, gw: Gateway, document: dict[str, Any]) -> Job:
    spec = parse_spec(document)
    with uow_factory() as uow:
        project = _project(uow, actor, spec.project)
        if spec.idempotency_key and (same := uow.jobs.by_idempotency_key(project.id, spec.idempotency_key)):
            return same
        alloc = _admit(uow, clock, project, spec)
        now = clock.now()
        job = uow.jobs.add(Job(project_id=project.id, allocation_id=alloc.id, resource_id=alloc.resource_id,
                               submitted_by=actor.id, name=spec.name, spec=document, backend=gw.backend_name,
                               tasks=spec.tasks, idempotency_key=spec.idempotency_key, created_at=now,
                               updated_at=now))
        job.comment = job_comment(gw.site, job.id)
        record(uow, clock, actor, "job.created", job, None, {"name": job.name, "project_id": project.id})
        uow.commit()
        handoff = _handoff(uow, gw, job, project, spec)
    return _send(uow_factory, clock, gw, job.id, handoff)


def _handoff(uow: UnitOfWork, gw: Gateway, job: Job, project: Project, spec: JobSpec) -> BackendJob:
    job_dir = gw.job_dir(job.id)
    job_dir.mkdir(parents=True, exist_ok=True)
    return BackendJob(job_id=job.id, spec=spec, account=project.slurm_account,
                      partition=uow.resources.get(job.resource_id).name, job_dir=str(job_dir), comment=job.comment)


def _send(uow_factory: Any, clock: Clock, gw: Gateway, job_id: int, handoff: BackendJob) -> Job:
    """Hand the job to the backend; store its id (or why it was refused) in a second transaction."""
    try:
        backend_id, error = gw.backend.submit(handoff), None
    except InvalidInput as exc:
        backend_id, error = None, exc
    with uow_factory() as uow:
        job = uow.jobs.get(job_id)
        if error is None:
            job.backend_id = backend_id
            job.move(JobState.SUBMITTED, clock.now(), f"{gw.backend_name} id {backend_id}")
        else:
            job.move(JobState.FAILED, clock.now(), f"refused by the {gw.backend_name} backend: {error}")
        uow.commit()
    if error is not None:
        raise error
    return job


def cancel_job(uow_factory: Any, clock: Clock, actor: Actor, gw: Gateway, job_id: int) -> Job:
    with uow_factory() as uow:
        job = get_job(uow, actor, job_id)
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
    project = uow.projects.get(job.project_id)
    if not actor.is_operator and project.role_of(actor.id) is None:
        raise NotFound(f"job {job_id} not found")
    return job


def reconcile(uow_factory: Any, clock: Clock, gw: Gateway) -> int:
    """One pass of the reconciler: adopt or resubmit interrupted submissions, then sync every open job's
    state in one batched status call. Returns the number of transitions recorded."""
    with uow_factory() as uow:
        open_jobs = uow.jobs.open_jobs(gw.backend_name)
        orphans = [j for j in open_jobs if j.backend_id is None and clock.now() - j.created_at > ORPHAN_AFTER]
        tracked = {j.backend_id: j for j in open_jobs if j.backend_id is not None}
        moves = sum(_adopt(uow, clock, gw, j) for j in orphans)
        for backend_id, status in gw.backend.status(list(tracked)).items():
            job = tracked[backend_id]
            if can_move(job.state, status.state):  # stale or repeated reports change nothing
                job.move(status.state, clock.now(), status.reason, exit_code=status.exit_code)
                moves += 1
        uow.commit()
    return moves


def _adopt(uow: UnitOfWork, clock: Clock, gw: Gateway, job: Job) -> int:
    """A job stored but never confirmed: the backend has it (found by comment) or it never got there."""
    backend_id = gw.backend.find_by_comment(job.comment)
    if backend_id is None:
        spec = parse_spec(job.spec)
        backend_id = gw.backend.submit(_handoff(uow, gw, job, uow.projects.get(job.project_id), spec))
        detail = f"resubmitted after an interrupted submission ({gw.backend_name} id {backend_id})"
    else:
        detail = f"adopted after an interrupted submission ({gw.backend_name} id {backend_id})"
    job.backend_id = backend_id
    job.move(JobState.SUBMITTED, clock.now(), detail)
    return 1
