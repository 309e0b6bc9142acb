"""The jobs' latest scheduler status, shared in this process by the reconciler and every log follower.

A backend whose status call is costly (Slurm: ``squeue`` + ``sacct``) keeps one board: each of its status
calls publishes what it saw, and the reconciler makes one batched call for every open job each cycle. A log
follower asks the board whether its task is over instead of polling the scheduler itself; only when the board
has nothing fresh for a job (the reconciler is off, slow, or no longer polls a finished job) does it poll,
once for every follower that waits, with one batched call for all the jobs being followed. So N followers
cost about one status call per ``max_age`` seconds, not 2·N commands per half second. A finished state is
final and never goes stale."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..domain.jobs.execution import BackendStatus
from ..domain.jobs.states import TERMINAL
from .ports import Backend, BackendUnavailable

MAX_AGE_SECONDS = 5.0  # a status older than this is polled again (the reconciler refreshes every 2 s)
FOLLOWED = 3  # a job asked about within 3 x max_age is still followed: a poll includes it
FORGET_SECONDS = 3600.0  # statuses nobody asked for this long are dropped


@dataclass(frozen=True)
class _Seen:
    status: BackendStatus | None  # None: the scheduler did not know the job (or could not be asked)
    at: float


def task_over(status: BackendStatus | None, task: int) -> bool:
    """Whether the task (an array's index, or the job itself) has finished, by this status."""
    if status is None:
        return False
    return (status.tasks.get(task, status.state) if status.tasks else status.state) in TERMINAL


def _final(seen: _Seen | None) -> bool:
    return seen is not None and seen.status is not None and seen.status.state in TERMINAL


class StatusBoard:
    """Thread-safe: the backend's status calls publish (the reconciler's thread), followers (thread-pool
    workers) read."""

    def __init__(self, max_age: float = MAX_AGE_SECONDS, now: Callable[[], float] = time.monotonic) -> None:
        self.max_age, self._now = max_age, now
        self._seen: dict[str, _Seen] = {}
        self._asked: dict[str, float] = {}  # job -> when a follower last asked about it
        self._lock = threading.Lock()
        self._polling = threading.Lock()  # one poll at a time; the others wait for its result
        self.polls = 0  # the board's own scheduler calls (the reconciler's are not counted here)

    def publish(self, reports: Mapping[str, BackendStatus], asked: tuple[str, ...] = ()) -> None:
        """What one status call answered; ``asked``: ids it was asked about (those it left out are unknown)."""
        at = self._now()
        with self._lock:
            for backend_id in asked:
                if not _final(self._seen.get(backend_id)):  # a finished job stays finished
                    self._seen[backend_id] = _Seen(None, at)
            for backend_id, status in reports.items():
                self._seen[backend_id] = _Seen(status, at)
            self._forget(at)

    def over(self, backend: Backend, backend_id: str, task: int = 0) -> bool:
        """Whether the job's task has finished: from the board, or from one shared poll when it is stale."""
        return task_over(self.status(backend, backend_id), task)

    def status(self, backend: Backend, backend_id: str) -> BackendStatus | None:
        fresh, seen = self._lookup(backend_id)
        if fresh:
            return seen.status if seen is not None else None
        with self._polling:
            fresh, seen = self._lookup(backend_id)  # another follower may have polled while this one waited
            if not fresh:
                self._poll(backend)
                _, seen = self._lookup(backend_id)
        return seen.status if seen is not None else None

    def _lookup(self, backend_id: str) -> tuple[bool, _Seen | None]:
        now = self._now()
        with self._lock:
            self._asked[backend_id] = now
            seen = self._seen.get(backend_id)
        return self._fresh(seen, now), seen

    def _poll(self, backend: Backend) -> None:
        """One batched status call for every followed job whose status is stale."""
        now = self._now()
        with self._lock:
            stale = tuple(
                backend_id
                for backend_id, asked in self._asked.items()
                if now - asked < FOLLOWED * self.max_age and not self._fresh(self._seen.get(backend_id), now)
            )
        self.polls += 1
        try:
            reports = backend.status(list(stale))
        except BackendUnavailable:
            reports = {}  # not over, as far as anyone can tell; asked again after max_age
        self.publish(reports, asked=stale)

    def _fresh(self, seen: _Seen | None, now: float) -> bool:
        return seen is not None and (_final(seen) or now - seen.at < self.max_age)

    def _forget(self, now: float) -> None:
        for backend_id in [b for b, asked in self._asked.items() if now - asked > FORGET_SECONDS]:
            del self._asked[backend_id]
        for backend_id in [b for b, seen in self._seen.items() if now - seen.at > FORGET_SECONDS]:
            if backend_id not in self._asked:
                del self._seen[backend_id]
