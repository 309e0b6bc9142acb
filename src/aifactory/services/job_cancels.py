"""Carrying out cancels: the intent is stored before the scheduler is asked, and a job stays open until the
scheduler confirms its cancel, so that nothing is answered "cancelled" that still runs, and whatever ran is
charged (the settlement reads the scheduler's usage of every job with a backend id).

- A job the backend has (a backend id) is cancelled there right away (``cancel_now``); when the backend cannot
  be reached, the cancel stays pending and the reconciler asks again each cycle until the backend takes it.
- A job without a backend id (its hand-over failed, or was interrupted by a crash) may still have reached the
  scheduler. The reconciler (and only it, so that it never races its own retries) looks it up by its comment
  first: found, it is adopted (its id stored, so it is charged) and cancelled; not found, it is cancelled
  before it ran. While its first hand-over may still be under way (``Job.in_flight``) it waits: that
  hand-over sees the intent when the backend answers and cancels what it got.

Scheduler I/O happens outside transactions; every step is idempotent and repeated until it succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.jobs.model import Job
from ..domain.jobs.states import JobState
from .audit import record
from .context import Actor, found
from .gateway import Gateway
from .ports import BackendUnavailable, Clock, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("aifactory.jobs")


@dataclass(frozen=True)
class PendingCancels:
    """The cancels the reconciler carries out in one cycle (read in its transaction, done after it)."""

    on_backend: Mapping[str, int]  # backend id -> job id
    unconfirmed: tuple[tuple[int, str], ...] = ()  # (job id, comment): no backend id, no hand-over under way

    @classmethod
    def of(cls, open_jobs: Iterable[Job], now: datetime, orphan_after: timedelta) -> PendingCancels:
        wanted = [j for j in open_jobs if j.cancel_pending]
        return cls(
            {j.backend_id: j.stored_id for j in wanted if j.backend_id is not None},
            tuple(
                (j.stored_id, j.comment) for j in wanted if j.backend_id is None and not j.in_flight(now, orphan_after)
            ),
        )


def cancel_now(uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, job_id: int, backend_id: str) -> Job:
    """Cancel a job the backend has; a backend that cannot be reached leaves the cancel pending (the
    reconciler retries it). The job as it is afterwards."""
    try:
        cancel_on_backend(uow_factory, clock, gw, {backend_id: job_id})
    except BackendUnavailable as exc:
        log.warning("job %s: the cancel waits for the %s backend (%s)", job_id, gw.backend_name, exc)
    with uow_factory(write=False) as uow:
        return found(uow.jobs.get(job_id), "job", job_id)


def carry_out(uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, pending: PendingCancels) -> int:
    """The reconciler's cancel pass; the number of jobs it cancelled. A backend that cannot be reached ends it
    (everything left is tried again next cycle)."""
    moves = 0
    targets = dict(pending.on_backend)
    try:
        for job_id, comment in pending.unconfirmed:
            backend_id = gw.backend.find_by_comment(comment)
            if backend_id is None:
                moves += _record(uow_factory, clock, [job_id], " before the backend had it")
            elif _adopt(uow_factory, clock, gw, job_id, backend_id):
                targets[backend_id] = job_id
        moves += cancel_on_backend(uow_factory, clock, gw, targets)
    except BackendUnavailable as exc:
        waiting = len(targets) + len(pending.unconfirmed)
        log.warning("%d cancel(s) wait for the %s backend (%s)", waiting, gw.backend_name, exc)
    return moves


def cancel_on_backend(uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, targets: Mapping[str, int]) -> int:
    """``scancel`` (one call for all), then the jobs recorded cancelled; raises ``BackendUnavailable``."""
    if not targets:
        return 0
    gw.backend.cancel(list(targets))
    return _record(uow_factory, clock, list(targets.values()))


def _adopt(uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, job_id: int, backend_id: str) -> bool:
    """The backend has the job after all: store its id (it is charged for what it ran) before cancelling it."""
    with uow_factory() as uow:
        job = found(uow.jobs.get(job_id), "job", job_id)
        if job.backend_id is None and not job.terminal:
            detail = f"adopted after an interrupted submission ({gw.backend_name} id {backend_id}), to be cancelled"
            job.handed_over(backend_id, clock.now(), detail)
            uow.commit()
        return job.backend_id == backend_id and not job.terminal


def _record(uow_factory: UnitOfWorkFactory, clock: Clock, job_ids: list[int], how: str = "") -> int:
    with uow_factory() as uow:
        done = sum(_record_one(uow, clock, found(uow.jobs.get(i), "job", i), how) for i in job_ids)
        uow.commit()
    return done


def _record_one(uow: UnitOfWork, clock: Clock, job: Job, how: str) -> bool:
    if job.terminal:
        return False  # it ended meanwhile: it keeps its end (the reconciler recorded how)
    by = job.cancel_requested_by
    user = uow.users.get(by) if by is not None else None
    job.move(JobState.CANCELLED, clock.now(), f"cancelled by user {by}{how}")
    record(uow, clock, Actor(user) if user is not None else None, "job.cancelled", job, None, {"state": "cancelled"})
    return True
