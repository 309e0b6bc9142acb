"""The Slurm backend: render the batch script, then sbatch / squeue / sacct / scancel / sacctmgr.

Mostly data: the state table lives in ``states.py``, the command parsing in ``client.py``. Every status,
cancel and usage call handles a list of ids with one command each (squeue and sacct are one call each).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from ...domain.errors import InvalidInput
from ...domain.jobs.states import TERMINAL, JobState
from ..base import (
    BackendJob,
    BackendStatus,
    CommandError,
    CommandRunner,
    ExternalUsage,
    LogChunk,
    ProjectAccount,
    Stream,
    Usage,
    run_command,
)
from ..launchers import APPTAINER
from .accounting import SlurmAccounting
from .client import AccountingRecord, QueueRecord, SlurmClient
from .script import BatchContext, render_sbatch
from .states import translate

ACCOUNT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
USER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]{0,63}$")
# sbatch refusals that are about the job asked for (a 4xx), not about Slurm being unwell
_REFUSALS = (
    "Invalid account",
    "Invalid partition",
    "Invalid qos",
    "Requested node configuration is not available",
    "Requested time limit is invalid",
    "Job violates accounting/QOS policy",
    "More processors requested",
    "Memory specification can not be satisfied",
    "Invalid generic resource",
)


def _aggregate(states: list[JobState]) -> JobState:
    """An array's state from its tasks' states."""
    if not all(s in TERMINAL for s in states):
        started = any(s is JobState.RUNNING or s in TERMINAL for s in states)
        return JobState.RUNNING if started else JobState.QUEUED
    for state in (JobState.FAILED, JobState.TIMEOUT, JobState.CANCELLED):
        if state in states:
            return state
    return JobState.COMPLETED


class SlurmBackend:
    name: ClassVar[str] = "slurm"

    provision_wait_seconds: ClassVar[float] = 15.0

    def __init__(self, runner: CommandRunner = run_command, *, cluster: str | None = None):
        self.client = SlurmClient(runner, cluster=cluster)
        self.accounting = SlurmAccounting(runner, cluster=cluster)
        self.cluster = cluster

    @staticmethod
    def containers_available() -> bool:
        return shutil.which(APPTAINER) is not None

    # ------------------------------------------------------------ submit

    def submit(self, job: BackendJob) -> str:
        spec = job.spec
        if spec.container_image and not self.containers_available():
            raise InvalidInput.on(
                "container.image", f"containers need {APPTAINER}, which is not installed where jobs are submitted"
            )
        ctx = BatchContext(
            job_id=job.job_id, account=job.account, partition=job.partition, job_dir=job.job_dir, comment=job.comment
        )
        try:
            text = render_sbatch(spec, ctx)
        except ValueError as exc:
            raise InvalidInput.on("job", str(exc)) from exc
        job_dir = Path(job.job_dir)
        job_dir.mkdir(parents=True, exist_ok=True)
        if spec.script is not None:
            (job_dir / "user-script.sh").write_text(spec.script)
        script = job_dir / "job.sbatch"
        script.write_text(text)
        try:
            return self.client.sbatch(str(script))
        except CommandError as exc:
            said = exc.result.stderr + exc.result.stdout
            if any(refusal in said for refusal in _REFUSALS):
                raise InvalidInput.on("resources", f"Slurm refused the job: {str(exc).split(': ', 1)[-1]}") from exc
            raise

    # ------------------------------------------------------------ status

    def status(self, ids: Sequence[str]) -> dict[str, BackendStatus]:
        ids = [str(i) for i in ids]
        if not ids:
            return {}
        queued = self.client.squeue(ids)
        accounted = self.client.sacct(ids)
        # per gateway id: per record (task index, or own id for a pending array remainder) -> (state, exit, reason)
        tasks: dict[str, dict[object, tuple[JobState, int | None, str, str]]] = {}
        for rec in queued:
            key = rec.array_task_id if rec.array_task_id is not None else f"rest:{rec.job_id}"
            tasks.setdefault(rec.parent_id, {})[key] = (translate(rec.state), rec.exit_code, rec.reason, rec.job_id)
        for acc in accounted:
            if acc.parent_id not in ids:
                continue
            key = acc.array_task_id if acc.array_task_id is not None else f"rest:{acc.job_id}"
            mine = tasks.setdefault(acc.parent_id, {})
            state = translate(acc.state, mine.get(key, (JobState.QUEUED,))[0])
            if key not in mine or state in TERMINAL:  # sacct wins for finished jobs
                old = mine.get(key)
                exit_code = old[1] if old and old[1] else acc.exit_code  # squeue's code is right, sacct json's is not
                mine[key] = (state, exit_code, acc.reason or (old[2] if old else ""), acc.job_id)
        # an array's pending remainder disappears once every task has its own record
        for mine in tasks.values():
            if any(isinstance(k, int) for k in mine):
                for key in [k for k in mine if isinstance(k, str) and mine[k][0] in TERMINAL]:
                    del mine[key]
        self._fix_exit_codes(tasks)
        return {job_id: self._status_of(tasks[job_id]) for job_id in ids if job_id in tasks}

    def _fix_exit_codes(self, tasks: dict[str, dict[object, tuple[JobState, int | None, str, str]]]) -> None:
        """Failed records whose exit code reads 0: one parsable sacct call for them all."""
        suspects = [
            (mine, key)
            for mine in tasks.values()
            for key, (state, code, _, _) in mine.items()
            if state is JobState.FAILED and not code
        ]
        if not suspects:
            return
        codes = self.client.exit_codes([mine[key][3] for mine, key in suspects])
        for mine, key in suspects:
            state, code, reason, raw = mine[key]
            mine[key] = (state, codes.get(raw, code), reason, raw)

    @staticmethod
    def _status_of(mine: dict[object, tuple[JobState, int | None, str, str]]) -> BackendStatus:
        states = [v[0] for v in mine.values()]
        state = _aggregate(states)
        exit_code = None
        if state in TERMINAL:
            codes = [v[1] for v in mine.values() if v[1] is not None]
            exit_code = next((c for c in codes if c), codes[0] if codes else None)
        reason = next((v[2] for v in mine.values() if v[2]), "")
        indexed = {k: v[0] for k, v in mine.items() if isinstance(k, int)}
        return BackendStatus(state=state, exit_code=exit_code, reason=reason, tasks=indexed)

    # ------------------------------------------------------------ cancel, logs

    def cancel(self, ids: Sequence[str]) -> None:
        self.client.scancel([str(i) for i in ids])

    def logs(
        self, backend_id: str, job_dir: str, stream: Stream, offset: int = 0, *, task: int = 0, limit: int = 1 << 20
    ) -> LogChunk:
        if stream not in ("stdout", "stderr"):
            raise InvalidInput.on("stream", "must be stdout or stderr")
        if not str(backend_id).isdigit():
            raise InvalidInput.on("backend_id", "must be a Slurm job id")
        base = Path(job_dir)
        path = base / f"{stream}-{backend_id}_{int(task)}.log"  # arrays: %A_%a
        if not path.exists():
            path = base / f"{stream}-{backend_id}.log"  # single jobs: %j
        offset = max(0, int(offset))
        size = path.stat().st_size if path.exists() else 0
        final = False
        if size - offset <= limit:  # this read reaches the end: ask first, so nothing is written after "final"
            status = self.status([backend_id]).get(str(backend_id))
            if status is not None:
                final = status.tasks.get(task, status.state) in TERMINAL if status.tasks else status.state in TERMINAL
        data = b""
        if path.exists():
            with path.open("rb") as fh:
                fh.seek(offset)
                data = fh.read(limit)
        end = offset + len(data)
        complete = final and end >= (path.stat().st_size if path.exists() else 0)
        return LogChunk(data=data, offset=end, complete=complete)

    # ------------------------------------------------------------ usage, reconciliation, accounts

    def usage(self, ids: Sequence[str]) -> dict[str, Usage]:
        """From sacct; an array sums its tasks' elapsed time (GPU-hours = elapsed × gpus per task)."""
        ids = [str(i) for i in ids]
        groups: dict[str, list[AccountingRecord]] = {}
        for rec in self.client.sacct(ids):
            if rec.parent_id in ids:
                groups.setdefault(rec.parent_id, []).append(rec)
        out = {}
        for job_id, recs in groups.items():
            starts = [r.start for r in recs if r.start]
            ends = [r.end for r in recs if r.end]
            out[job_id] = Usage(
                elapsed_seconds=sum(r.elapsed_seconds for r in recs),
                gpus=max(r.gpus for r in recs),
                nodes=max(r.nodes for r in recs),
                cpus=max(r.cpus for r in recs),
                started_at=float(min(starts)) if starts else None,
                ended_at=float(max(ends)) if ends else None,
            )
        return out

    def find_by_comment(self, comment: str) -> str | None:
        """The job whose ``--comment`` matches: squeue has comments (jobs in memory, ``MinJobAge``);
        sacct has them only with ``AccountingStoreFlags=job_comment``, so it is asked second, for 2 days."""
        matches: list[QueueRecord | AccountingRecord] = [r for r in self.client.squeue() if r.comment == comment]
        if not matches:
            matches = [r for r in self.client.sacct_since("now-2days") if r.comment == comment]
        if not matches:
            return None
        return max((r.parent_id for r in matches), key=int)

    def ensure_project(self, account: ProjectAccount) -> None:
        if not ACCOUNT_RE.match(account.account):
            raise InvalidInput.on("account", "letters, digits, . _ -; at most 64, starting with a letter or digit")
        for user in account.users:
            if not USER_RE.match(user):
                raise InvalidInput.on("users", f"not a valid user name: {user!r}")
        self.client.add_account(account.account)
        added = [user for user in account.users if self.client.add_user(user, account.account)]
        self._await_associations(account.account, added)

    def _await_associations(self, account: str, users: Sequence[str]) -> None:
        """Waits (bounded) until the controller knows new associations, so a submission right after
        provisioning is accepted; past the bound it goes on and sbatch gives its own clear error."""
        deadline = time.monotonic() + self.provision_wait_seconds
        pending = list(users)
        while pending:
            pending = [u for u in pending if not self.client.association_loaded(account, u)]
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(0.2)

    # ------------------------------------------------------------ the ledger's accounting calls (accounting.py)

    def finished_jobs(self, accounts: Sequence[str], since: float) -> list[ExternalUsage]:
        return self.accounting.finished_jobs(accounts, since)

    def set_budget_limit(self, account: str, gpu_minutes: int | None) -> None:
        self.accounting.set_budget_limit(account, gpu_minutes)

    def account_gpu_minutes_used(self, account: str) -> int:
        return self.accounting.account_gpu_minutes_used(account)

    def set_low_priority(self, account: str, low: bool) -> None:
        self.accounting.set_low_priority(account, low)


__all__ = ["SlurmBackend"]
