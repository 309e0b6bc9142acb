"""The ``local`` backend: the embedded default executor (sandboxed processes on this machine).

Every fact lives in files, never only in memory, so a server killed at any moment and restarted loses and
duplicates nothing (a new ``LocalBackend`` on the same root carries on where the old one stopped):

``root/jobs/<id>``        the job's folder (the commit point of ``submit``)
``root/tasks/<id>/``      the job's private folder: what no job can see or write (below)
``root/active/<id>``      jobs not yet final (what ``poll`` scans)
``root/by-comment/<h>``   sha256(comment) -> id, for ``find_by_comment`` after a crash
``root/low-priority/<h>`` sha256(account) -> account: its queued tasks start last, all its tasks under nice 19
``root/.lock``            flock: one poll/submit/cancel at a time, across threads and processes

In the private folder: ``job.json`` (what was asked), ``launch.sh`` (rendered like the sbatch script, every
user word quoted), ``passwd``/``group`` (the task's ``/etc``), ``state.json`` (the aggregate, a convenience
copy), and per task index ``i``: ``started-i`` (time, CPU and GPU slots, created exclusively before the process
starts), ``pid-i`` (process-group leader), ``launched-i`` (written when the user's command starts), ``exit-i``
(exit code, written by the wrapper when the command ends), ``kill-i`` (why it was signalled: timeout or
cancelled), ``final-i.json`` (the settled state); a job-wide ``cancel`` marker stops queued tasks from starting.
The job's own folder holds ``user-script.sh`` (script jobs), ``stdout-i.log`` / ``stderr-i.log`` and its work.

The files are typed records in ``local_files.py``; one task's life (start, settle, time limit, requeue) is
``local_tasks.py``; processes are ``local_proc.py``; the launch (script, environment, limits, sandbox) is
``local_launch.py`` with the sandbox's argv in ``sandbox.py``. Tasks run detached (own session and process
group) through a bash wrapper that writes the exit code, so a restarted server re-adopts running tasks and sees
finished ones. Every task runs in a bubblewrap sandbox (``sandbox``), as its owner when the server is root and
the job has one, under process, open-file and (CPU jobs) memory limits, pinned to the CPU slots it holds. Tasks
queue for CPU slots (``cpu_slots``) and GPU slots (``CUDA_VISIBLE_DEVICES``): first come, first served; busy
slots are derived from the ``started-i`` files of unsettled tasks. Time limits: SIGTERM to the task's processes,
SIGKILL after ``kill_grace_seconds``. ``minute_seconds`` is how long a spec "minute" lasts (60; tests use ~1 so a
1-minute limit fires in a second). A launch that fails before the user's command starts (the sandbox, the
working directory, an environment too large) is a failed task with its reason, never an exit code of the job.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import re
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
from . import launchers, local_schedule, local_tasks
from .local_files import JobMeta, LocalJob, TaskFiles
from .local_launch import PASSED_ENV, Launcher, LimitsConfig, check_environment, launch_script
from .local_proc import write
from .local_sandbox import SandboxConfig, SandboxState, python_paths
from .local_schedule import Slots
from .local_tasks import Grant
from .local_usage import job_usage
from .logfiles import check_stream, read_chunk
from .script import USER_SCRIPT
from .staging import stage_inputs

if TYPE_CHECKING:
    from ..config import Settings

_ID_RE = re.compile(r"^local-[0-9]+$")


class LocalBackend:
    name: ClassVar[str] = "local"

    def __init__(
        self,
        root: Path | str,
        gpu_slots: int = 0,
        *,
        cpu_slots: int | None = None,
        sandbox: SandboxConfig | None = None,
        limits: LimitsConfig | None = None,
        clock: Callable[[], float] = time.time,
        minute_seconds: float = 60.0,
        kill_grace_seconds: float = 30.0,
        start_grace_seconds: float = 10.0,
    ) -> None:
        self.root = Path(root)
        self.gpu_slots = gpu_slots
        self.cpu_slots = cpu_slots or os.cpu_count() or 1
        self.clock = clock
        self.timing = local_tasks.Timing(minute_seconds, kill_grace_seconds, start_grace_seconds)
        config = sandbox or SandboxConfig(hidden=(str(self.root),))
        self.launcher = Launcher(config, limits or LimitsConfig())

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalBackend:
        root = settings.data_dir / "local-executor"
        database = settings.resolved_database_url
        hidden = [str(settings.data_dir), str(root)]
        if database.startswith("sqlite:///"):
            hidden.append(database.removeprefix("sqlite:///"))
        extra = tuple(p for p in settings.local_ro_paths.split(os.pathsep) if p)
        return cls(
            root,
            gpu_slots=settings.gpu_slots,
            cpu_slots=settings.cpu_slots,
            sandbox=SandboxConfig(settings.local_network, (*python_paths(), *extra), tuple(hidden)),
            limits=LimitsConfig(settings.local_max_processes, settings.local_max_open_files),
        )

    # ------------------------------------------------------------ the sandbox

    def sandbox(self) -> SandboxState:
        """What the probe found (it runs once, at first use): the sandbox, or why there is none."""
        return self.launcher.sandbox()

    def confines_tenants(self) -> bool:
        """Whether jobs run confined (in the sandbox), so that tenants may share this executor."""
        return self.sandbox().works

    # ------------------------------------------------------------ files and locking

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One poll/submit/cancel at a time; the executor's files that cannot be used make it unavailable."""
        try:
            for sub in ("jobs", "tasks", "active", "by-comment"):
                (self.root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
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
        state = self.root / "tasks" / backend_id
        meta = JobMeta.read(state / "job.json")
        return LocalJob(backend_id, job_dir, state, meta) if meta else None

    # ------------------------------------------------------------ submit

    def _check(self, job: BackendJob) -> None:
        spec, r = job.spec, job.spec.resources
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
        if r.cpus_per_task > self.cpu_slots:
            raise InvalidInput.on(
                "resources.cpus_per_task",
                f"the local executor has {self.cpu_slots} CPU slot(s); {r.cpus_per_task} were asked",
            )
        if spec.container_image and shutil.which(launchers.APPTAINER, path=self._env()["PATH"]) is None:
            raise InvalidInput.on(
                "container.image",
                "containers need Apptainer, and `apptainer` is not installed "
                "on this site's local executor; drop 'container' or use a site with Apptainer",
            )
        if job.run_as is not None and os.geteuid() != 0:
            raise InvalidInput.on(
                "project",
                f"this site's local executor cannot run jobs as their owner ({job.run_as.user.name}): "
                "its server does not run as root",
            )
        check_environment(spec)

    def submit(self, job: BackendJob) -> str:
        """Write the job (its tasks queued), then start what the free slots allow: never more."""
        self._check(job)
        backend_id = f"local-{job.job_id}"
        with self._locked():
            existing = self._job(backend_id)
            if existing is not None and existing.meta.comment == job.comment:
                return backend_id  # submitted before (a retry after a crash): never twice
            if existing is not None:
                raise Conflict(f"{backend_id} already exists with another comment")
            self._write_job(backend_id, job)
            self._poll_locked()  # first come, first served, decided over all queued jobs
        return backend_id

    def _write_job(self, backend_id: str, job: BackendJob) -> LocalJob:
        """The job's folders, then its entries in the executor's indexes; the last write is the commit point."""
        d, spec = Path(job.job_dir), job.spec
        state = self.root / "tasks" / backend_id
        d.mkdir(parents=True, exist_ok=True)
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        if spec.script is not None:
            write(d / USER_SCRIPT, spec.script)
        write(state / "launch.sh", launch_script(job))
        (state / "launch.sh").chmod(0o644)  # read through the descriptor the wrapper opens, by the job's user
        staged = stage_inputs(job, confined=self.launcher.sandbox().works)  # read-only (backends.staging)
        self.launcher.prepare(job, state)
        meta = dataclasses.replace(_meta(backend_id, job, self.clock()), inputs=tuple(staged))
        write(state / "job.json", meta.to_json())
        new = LocalJob(backend_id, d, state, meta)
        new.write_state(JobState.QUEUED)
        write(self.root / "active" / backend_id, "")
        write(self.root / "by-comment" / _digest(job.comment), backend_id)
        write(self.root / "jobs" / backend_id, job.job_dir)  # the commit point
        return new

    def _start(self, job: LocalJob, task: TaskFiles, grant: Grant) -> bool:
        spawn = self.launcher.command(job, task, grant, self._env())
        return local_tasks.start(job, task, grant, self.clock(), lambda token: dataclasses.replace(spawn, token=token))

    def _env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env.setdefault("PATH", os.defpath)
        return env

    # ------------------------------------------------------------ the reconciler's tick

    def poll(self) -> None:
        """Settle finished tasks, enforce time limits, and start queued tasks while CPU and GPU slots are free."""
        with self._locked():
            self._poll_locked()

    def _poll_locked(self) -> None:
        now = self.clock()
        jobs = self._active_jobs()
        busy = local_schedule.settle(jobs, now, self.timing)
        slots = Slots.free(self.cpu_slots, self.gpu_slots, busy, self._low_accounts())
        local_schedule.schedule(jobs, slots, self._start)
        self._write_aggregates(jobs)

    def _active_jobs(self) -> list[LocalJob]:
        """The jobs not yet final, oldest first."""
        jobs = [j for j in (self._job(p.name) for p in (self.root / "active").iterdir()) if j is not None]
        return sorted(jobs, key=lambda j: (j.meta.submitted_at, j.meta.job_id))

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
            finals = [final for i, s in tasks.items() if s in TERMINAL and (final := job.task(i).final()) is not None]
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
                for index, state in job.states().items():
                    if state is JobState.RUNNING:
                        local_tasks.signal_task(job, job.task(index), JobState.CANCELLED, now)
            self._poll_locked()

    def logs(
        self, backend_id: str, job_dir: str, stream: Stream, offset: int = 0, *, task: int = 0, limit: int = 1 << 20
    ) -> LogChunk:
        check_stream(stream)
        job = self._job(backend_id)
        if job is None:
            return read_chunk(Path(job_dir) / f"{stream}-{task}.log", offset, limit, lambda: False)
        files = job.task(task)
        known = task in job.meta.indices
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


def startup_notice(settings: Settings) -> str:
    """What ``serve`` and ``demo`` say at start-up about the local executor's sandbox (probed now)."""
    return LocalBackend.from_settings(settings).sandbox().notice(single_tenant=settings.local_single_tenant)


def _meta(backend_id: str, job: BackendJob, submitted_at: float) -> JobMeta:
    spec: JobSpec = job.spec
    return JobMeta(
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
        submitted_at=submitted_at,
        cpus=spec.resources.cpus_per_task,
        memory_mb=spec.resources.memory_mb,
        run_as=job.run_as,
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
