"""Slurm's job states, translated into the normalized JobState: one table, shared by squeue and sacct.

Both ``squeue --json`` (``job_state``) and ``sacct --json`` (``state.current``) use the same base names;
a state may carry a flag suffix (``"CANCELLED by 0"`` in plain sacct, ``"RUNNING+..."``), which
:func:`translate` strips.
"""

from __future__ import annotations

import logging

from ...domain.jobs.states import JobState

log = logging.getLogger(__name__)

SLURM_STATES: dict[str, JobState] = {
    "PENDING": JobState.QUEUED,
    "REQUEUED": JobState.QUEUED,
    "REQUEUE_HOLD": JobState.QUEUED,
    "REQUEUE_FED": JobState.QUEUED,
    "RESIZING": JobState.RUNNING,
    "SUSPENDED": JobState.RUNNING,
    "STOPPED": JobState.RUNNING,
    "SIGNALING": JobState.RUNNING,
    "STAGE_OUT": JobState.RUNNING,
    "RUNNING": JobState.RUNNING,
    "COMPLETING": JobState.RUNNING,
    "CONFIGURING": JobState.RUNNING,
    "COMPLETED": JobState.COMPLETED,
    "FAILED": JobState.FAILED,
    "NODE_FAIL": JobState.FAILED,
    "OUT_OF_MEMORY": JobState.FAILED,
    "BOOT_FAIL": JobState.FAILED,
    "DEADLINE": JobState.FAILED,
    "SPECIAL_EXIT": JobState.FAILED,
    "REVOKED": JobState.CANCELLED,
    "CANCELLED": JobState.CANCELLED,
    "TIMEOUT": JobState.TIMEOUT,
    "PREEMPTED": JobState.TIMEOUT,
}


def translate(native: str, previous: JobState = JobState.QUEUED) -> JobState:
    """The JobState for a Slurm state name; an unknown name is logged and ``previous`` kept."""
    base = native.strip().upper().split()[0].split("+")[0] if native.strip() else ""
    state = SLURM_STATES.get(base)
    if state is None:
        log.warning("unknown Slurm job state %r; keeping %s", native, previous.value)
        return previous
    return state
