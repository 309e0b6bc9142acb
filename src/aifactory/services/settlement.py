"""The reconciler's ledger pass: charge every finished job once, with the usage its backend measured."""

from __future__ import annotations

from datetime import timedelta

from ..domain.jobs.execution import Usage
from ..domain.jobs.model import Job
from .context import found
from .gateway import Gateway
from .ledger import Settled, settle_job
from .notifications import job_ended
from .ports import Clock, UnitOfWorkFactory

USAGE_GRACE = timedelta(minutes=5)  # slurmdbd records a finished job with a lag; then our own timestamps count


def settle_finished(uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, limit: int = 500) -> list[Settled]:
    """Settle finished, unsettled jobs: backend usage is read outside the transaction, in one batched call."""
    with uow_factory(write=False) as uow:
        pending = [(j.stored_id, j.backend_id) for j in uow.jobs.unsettled(gw.backend_name, limit)]
    if not pending:
        return []
    ids = [b for _, b in pending if b is not None]
    usage = gw.backend.usage(ids) if ids else {}
    done: list[Settled] = []
    with uow_factory() as uow:
        for job_id, backend_id in pending:
            job = found(uow.jobs.get(job_id), "job", job_id)
            measured = usage.get(backend_id) if backend_id is not None else None
            if backend_id is not None and measured is None:
                if clock.now() - (job.finished_at or clock.now()) < USAGE_GRACE:
                    continue  # not accounted yet: the next pass tries again
                measured = _from_timestamps(job)
            if (s := settle_job(uow, clock, job, measured)) is not None:
                done.append(s)
                job_ended(uow, clock, job)  # to whoever submitted it, if they asked for it
        uow.commit()
    return done


def _from_timestamps(job: Job) -> Usage | None:
    """The job's own record of when it ran, when the backend no longer knows it."""
    if job.started_at is None or job.finished_at is None:
        return None
    elapsed = max(0, round((job.finished_at - job.started_at).total_seconds())) * job.tasks
    return Usage(
        elapsed_seconds=elapsed,
        gpus=0,
        nodes=1,
        started_at=job.started_at.timestamp(),
        ended_at=job.finished_at.timestamp(),
    )
