"""The ``local`` backend: the embedded default executor (subprocesses on this machine).

Every fact lives in files, never only in memory, so a server killed at any moment and restarted loses and
duplicates nothing (a new ``LocalBackend`` on the same root carries on where the old one stopped):

``root/jobs/<id>``        the job's folder (the commit point of ``submit``)
``root/active/<id>``      jobs not yet final (what ``poll`` scans)
``root/by-comment/<h>``   sha256(comment) -> id, for ``find_by_comment`` after a crash
``root/low-priority/<h>`` sha256(account) -> account: its queued GPU tasks start last, all its tasks under nice 19
``root/.lock``            flock: one poll/submit/cancel at a time, across threads and processes

and in each job folder: ``job.json`` (what was asked), ``launch.sh`` (rendered like the sbatch script, every
user word quoted), ``user-script.sh`` (script jobs), ``state.json`` (the aggregate, a convenience copy), and
per task index ``i``: ``started-i`` (time and GPU slots, created exclusively before the process starts),
``pid-i`` (process-group leader), ``exit-i`` (exit code, written by the wrapper when the command ends),
``kill-i`` (why it was signalled: timeout or cancelled), ``final-i.json`` (the settled state),
``stdout-i.log`` / ``stderr-i.log``; a job-wide ``cancel`` marker stops queued tasks from starting.

The files are typed records in ``local_files.py``; one task's life (start, settle, time limit, requeue) is
``local_tasks.py``; processes are ``local_proc.py``. Tasks run detached (own session and process group)
through a bash wrapper that writes the exit code, so a restarted server re-adopts running tasks and sees
finished ones. GPU slots are handed out through ``CUDA_VISIBLE_DEVICES``; busy slots are derived from the
``started-i`` files of unsettled tasks. Time limits:
SIGTERM to the process group, SIGKILL after ``kill_grace_seconds``. ``minute_seconds`` is how long a spec
"minute" lasts (60; tests use ~1 so a 1-minute limit fires in a second). Tasks get a minimal environment
(PATH, HOME, LANG, USER, ... plus the job's own), never the server's secrets. Memory and CPU counts are not
enforced; GPU-less tasks are not throttled except by an array's ``max_parallel``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..domain.errors import Conflict, InvalidInput
from ..domain.jobs.execution import BackendJob, BackendStatus, LogChunk, ProjectAccount, Stream, Usage
from ..domain.jobs.spec import JobSpec
from ..domain.jobs.states import TERMINAL, JobState, aggregate, aggregate_exit_code
from ..services.ports import BackendUnavailable
from . import launchers, local_tasks
from .local_files import Final, JobMeta, LocalJob, TaskFiles
from .local_proc import write
from .local_usage import job_usage
from .logfiles import check_stream, read_chunk
from .script import USER_SCRIPT, BatchContext, cd_line, command_line, environment

if TYPE_CHECKING:
    from ..config import Settings

_ID_RE = re.compile(r"^local-[0-9]+$")
LOW_NICE = 19  # niceness of a low-priority account's tasks
_PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "USER", "LOGNAME", "SHELL", "TMPDIR", "TZ")


class LocalBackend:
    name: ClassVar[str] = "local"

    def __init__(
        self,
        root: Path | str,
        gpu_slots: int = 0,
        *,
        clock: Callable[[], float] = time.time,
        minute_seconds: float = 60.0,
        kill_grace_seconds: float = 30.0,
        start_grace_seconds: float = 10.0,
    ) -> None:
        self.root = Path(root)
        self.gpu_slots = gpu_slots
        self.clock = clock
        self.timing = local_tasks.Timing(minute_seconds, kill_grace_seconds, start_grace_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalBackend:
        return cls(settings.data_dir / "local-executor", gpu_slots=settings.gpu_slots)

    # ------------------------------------------------------------ files and locking

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One poll/submit/cancel at a time; the executor's files that cannot be used make it unavailable."""
        try:
            for sub in ("jobs", "active", "by-comment"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            with open(self.root / ".lock", "a") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)
        except OSError as exc:
            raise BackendUnavailable(f"the local executor's files cannot be used: {exc}") from exc

    def _job(self, backend_id: str) -> LocalJob | None:
        if not _ID_RE.match(backend_id):
            return None
        try:
            job_dir = Path((self.root / "jobs" / backend_id).read_text().strip())
        except FileNotFoundError:
            return None
        meta = JobMeta.read(job_dir / "job.json")
        return LocalJob(backend_id, job_dir, meta) if meta else None

    # ------------------------------------------------------------ submit

    def _check(self, spec: JobSpec) -> None:
        r = spec.resources
        if r.nodes > 1:
            raise InvalidInput.on(
                "resources.nodes",
                f"the local executor has one node; {r.nodes} were asked (use nodes: 1, or a site that runs Slurm)",
            )
        if r.gpus_per_node > self.gpu_slots:
            raise InvalidInput.on(
                "resources.gpus_per_node",
                f"the local executor has {self.gpu_slots} GPU slot(s); {r.gpus_per_node} were asked",
            )
        if spec.container_image and shutil.which(launchers.APPTAINER, path=self._env()["PATH"]) is None:
            raise InvalidInput.on(
                "container.image",
                "containers need Apptainer, and `apptainer` is not installed "
                "on this site's local executor; drop 'container' or use a site with Apptainer",
            )

    def _launch_script(self, job: BackendJob) -> str:
        spec = job.spec
        ctx = BatchContext(job.job_id, job.account, job.partition, job.job_dir, job.comment)
        if spec.launcher == "torchrun":  # one node: torchrun's standalone rendezvous
            prefix = launchers.container_prefix(
                spec.container_image, spec.container_binds, spec.resources.gpus_per_node > 0
            )
            nproc = f"--nproc-per-node={max(spec.resources.gpus_per_node, 1)}"
            run = shlex.join([*prefix, "torchrun", "--standalone", nproc, *(spec.command or ())])
        else:
            run = command_line(spec, job.job_dir, multi_node_wrapper=False)
        body = [
            "#!/bin/bash",
            f"# aifactory local backend, job {job.job_id}",
            "set -euo pipefail",
            *environment(spec, ctx, task_index='"${AIF_TASK_INDEX:-0}"'),
            cd_line(spec.workdir, job.job_dir),
            run,
        ]
        return "\n".join(body) + "\n"

    def submit(self, job: BackendJob) -> str:
        self._check(job.spec)
        backend_id = f"local-{job.job_id}"
        with self._locked():
            existing = self._job(backend_id)
            if existing is not None and existing.meta.comment == job.comment:
                return backend_id  # submitted before (a retry after a crash): never twice
            if existing is not None:
                raise Conflict(f"{backend_id} already exists with another comment")
            new = self._write_job(backend_id, job)
            if job.spec.resources.gpus_per_node == 0:
                self._start_gpuless(new)  # nothing to wait for: no scan of the other jobs
            else:
                self._poll_locked()  # GPUs: first come, first served, decided over all queued jobs
        return backend_id

    def _write_job(self, backend_id: str, job: BackendJob) -> LocalJob:
        """The job's folder, then its entries in the executor's indexes; the last write is the commit point."""
        d, spec = Path(job.job_dir), job.spec
        d.mkdir(parents=True, exist_ok=True)
        if spec.script is not None:
            write(d / USER_SCRIPT, spec.script)
        write(d / "launch.sh", self._launch_script(job))
        meta = JobMeta(
            backend_id=backend_id,
            job_id=job.job_id,
            comment=job.comment,
            job_dir=job.job_dir,
            name=spec.name,
            indices=tuple(spec.array.indices) if spec.array else (0,),
            max_parallel=spec.array.max_parallel if spec.array else None,
            gpus=spec.resources.gpus_per_node,
            time_minutes=spec.resources.time_minutes,
            account=job.account,
            submitted_at=self.clock(),
        )
        write(d / "job.json", meta.to_json())
        new = LocalJob(backend_id, d, meta)
        new.write_state(JobState.QUEUED)
        write(self.root / "active" / backend_id, "")
        write(self.root / "by-comment" / _digest(job.comment), backend_id)
        write(self.root / "jobs" / backend_id, job.job_dir)  # the commit point
        return new

    def _start_gpuless(self, job: LocalJob) -> None:
        now, low = self.clock(), self._low_accounts()
        for task in job.tasks[: job.meta.max_parallel or len(job.meta.indices)]:
            self._start(job, task, [], now, low)

    def _start(self, job: LocalJob, task: TaskFiles, slots: list[int], now: float, low: set[str]) -> bool:
        nice = LOW_NICE if job.meta.account in low else 0
        return local_tasks.start(job, task, slots, now, self._env(), nice)

    def _env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
        env.setdefault("PATH", os.defpath)
        return env

    # ------------------------------------------------------------ the reconciler's tick

    def poll(self) -> None:
        """Settle finished tasks, enforce time limits, and start queued tasks while GPU slots are free."""
        with self._locked():
            self._poll_locked()

    def _poll_locked(self) -> None:
        now = self.clock()
        jobs = self._active_jobs()
        busy = self._settle(jobs, now)
        self._schedule(jobs, busy, now)
        self._write_aggregates(jobs)

    def _active_jobs(self) -> list[LocalJob]:
        """The jobs not yet final, oldest first."""
        jobs = [j for j in (self._job(p.name) for p in (self.root / "active").iterdir()) if j is not None]
        return sorted(jobs, key=lambda j: (j.meta.submitted_at, j.meta.job_id))

    def _settle(self, jobs: list[LocalJob], now: float) -> set[int]:
        """Phase 1: settle every started task; a cancelled job's queued tasks are final. Returns the GPU slots
        the running tasks hold."""
        busy: set[int] = set()
        for job in jobs:
            cancelled = job.cancelled
            for task in job.tasks:
                state = local_tasks.settle(job, task, now, self.timing)
                if state is JobState.RUNNING:
                    busy.update(started.slots if (started := task.started()) else ())
                elif state is JobState.QUEUED and cancelled:
                    task.write_final(Final(JobState.CANCELLED))
        return busy

    def _schedule(self, jobs: list[LocalJob], busy: set[int], now: float) -> None:
        """Phase 2: start queued tasks, low-priority accounts' last. GPUs go first come, first served: once a
        task waits for GPUs, no later task takes them (a big task is not starved by small ones)."""
        gpu_blocked = False
        low = self._low_accounts()
        for job in sorted(jobs, key=lambda j: j.meta.account in low):  # stable: low-priority ones last
            if not job.cancelled:
                gpu_blocked = self._start_queued(job, busy, now, gpu_blocked, low)

    def _start_queued(self, job: LocalJob, busy: set[int], now: float, gpu_blocked: bool, low: set[str]) -> bool:
        """Start the job's queued tasks within its ``max_parallel`` and the free slots; whether GPUs are
        blocked for the jobs after it."""
        states = job.states()
        running = sum(1 for s in states.values() if s is JobState.RUNNING)
        for task in job.tasks:
            if states[task.index] is not JobState.QUEUED:
                continue
            if job.meta.max_parallel and running >= job.meta.max_parallel:
                break
            slots = self._free_slots(job.meta.gpus, busy, gpu_blocked)
            if slots is None:
                return True
            if self._start(job, task, slots, now, low):
                busy.update(slots)
                running += 1
        return gpu_blocked

    def _free_slots(self, need: int, busy: set[int], gpu_blocked: bool) -> list[int] | None:
        """The slots a task needing ``need`` GPUs gets now; None when it must wait."""
        if not need:
            return []
        free = [s for s in range(self.gpu_slots) if s not in busy]
        return None if gpu_blocked or len(free) < need else free[:need]

    def _write_aggregates(self, jobs: list[LocalJob]) -> None:
        """Phase 3: each job's state from its tasks'; a final job leaves the active list."""
        for job in jobs:
            state = aggregate(job.states().values())
            job.write_state(state)
            if state in TERMINAL:
                (self.root / "active" / job.id).unlink(missing_ok=True)

    # ------------------------------------------------------------ the protocol's reads and cancel

    def status(self, ids: Sequence[str]) -> dict[str, BackendStatus]:
        """States of the given jobs (ids this backend never saw are left out)."""
        self.poll()
        out: dict[str, BackendStatus] = {}
        for backend_id in ids:
            job = self._job(backend_id)
            if job is None:
                continue
            tasks = job.states()
            finals = [final for task in job.tasks if (final := task.final()) is not None]
            state = aggregate(tasks.values())
            exit_code = aggregate_exit_code(state, (final.exit_code for final in finals))
            reason = next((final.reason for final in finals if final.reason), "")
            out[backend_id] = BackendStatus(state=state, exit_code=exit_code, reason=reason, tasks=tasks)
        return out

    def cancel(self, ids: Sequence[str]) -> None:
        with self._locked():
            now = self.clock()
            for backend_id in ids:
                job = self._job(backend_id)
                if job is None:
                    continue
                job.mark_cancelled(now)
                for task in job.tasks:
                    if task.state() is JobState.RUNNING:
                        local_tasks.signal_task(job, task, JobState.CANCELLED, now)
            self._poll_locked()

    def logs(
        self, backend_id: str, job_dir: str, stream: Stream, offset: int = 0, *, task: int = 0, limit: int = 1 << 20
    ) -> LogChunk:
        check_stream(stream)
        job = self._job(backend_id)
        files = TaskFiles(job.dir if job is not None else Path(job_dir), task)
        known = job is not None and task in job.meta.indices
        return read_chunk(files.log(stream), offset, limit, lambda: known and files.over())

    def usage(self, ids: Sequence[str]) -> dict[str, Usage]:
        """Measured wall time (summed over tasks) and the GPUs each task held; nodes is always 1."""
        jobs = {backend_id: self._job(backend_id) for backend_id in ids}
        return {backend_id: job_usage(job, self.clock()) for backend_id, job in jobs.items() if job}

    def find_by_comment(self, comment: str) -> str | None:
        try:
            backend_id = (self.root / "by-comment" / _digest(comment)).read_text().strip()
        except FileNotFoundError:
            return None
        job = self._job(backend_id)
        return backend_id if job is not None and job.meta.comment == comment else None

    def ensure_project(self, account: ProjectAccount) -> None:
        """Nothing to provision: the local executor has no accounts."""

    def set_low_priority(self, account: str, low: bool) -> None:
        """A marker per account: its queued tasks start after all others, under nice 19 (running ones stay)."""
        marker = self.root / "low-priority" / _digest(account)
        marker.parent.mkdir(parents=True, exist_ok=True)
        if low:
            write(marker, account)
        else:
            marker.unlink(missing_ok=True)

    def _low_accounts(self) -> set[str]:
        folder = self.root / "low-priority"
        return {p.read_text() for p in folder.iterdir() if not p.name.startswith(".")} if folder.is_dir() else set()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
