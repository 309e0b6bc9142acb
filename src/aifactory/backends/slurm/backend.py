"""The Slurm backend: render the batch script, then sbatch / squeue / sacct / scancel / sacctmgr.

Mostly data: the state table lives in ``states.py``, the command parsing in ``client.py``. Every status,
cancel and usage call handles a list of ids with one command each (squeue and sacct are one call each).
A command that fails is a ``CommandError``, a ``BackendUnavailable`` for the services (see ``backends.base``).
"""

from __future__ import annotations

import dataclasses
import getpass
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ...domain.errors import InvalidInput
from ...domain.jobs.execution import BackendJob, BackendStatus, ExternalUsage, LogChunk, ProjectAccount, Stream, Usage
from ...domain.jobs.states import TERMINAL, JobState, aggregate, aggregate_exit_code
from ...domain.posix import NAME_RE
from ...identity.registry import resolved_kind
from ...services.ports import BackendUnavailable
from ...services.status_board import StatusBoard
from ..base import CommandError, CommandRunner, run_command
from ..launchers import APPTAINER
from ..logfiles import check_stream, read_chunk
from ..script import USER_SCRIPT
from ..staging import stage_inputs
from .accounting import SlurmAccounting
from .client import AccountingRecord, QueueRecord, SlurmClient
from .owner import OwnerCommands, prepare_folder
from .script import BatchContext, render_sbatch
from .states import translate

if TYPE_CHECKING:
    from ...config import Settings

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
_ARRAY_REFUSAL = "Invalid job array specification"  # e.g. more tasks than the cluster's MaxArraySize

TaskKey = int | str  # an array task's index, or "rest:<own id>" for a record without one (see TaskRecord)


@dataclasses.dataclass(frozen=True)
class TaskRecord:
    """One record of a job as squeue and sacct show it together: an array task, a job that is no array, or
    an array's still-pending remainder (Slurm gives its tasks records of their own once they start)."""

    state: JobState
    exit_code: int | None
    reason: str
    raw_id: str  # the record's own Slurm id (an array task has one of its own)

    @staticmethod
    def key(rec: QueueRecord | AccountingRecord) -> TaskKey:
        return rec.array_task_id if rec.array_task_id is not None else f"rest:{rec.job_id}"


class SlurmBackend:
    name: ClassVar[str] = "slurm"

    provision_wait_seconds: ClassVar[float] = 15.0

    def __init__(
        self,
        runner: CommandRunner = run_command,
        *,
        cluster: str | None = None,
        run_as: str = "auto",
        cancel_as_owner: bool = False,
    ):
        """``run_as``: how sbatch/scancel run as a job's owner (``owner.OwnerCommands``: runuser, sudo, auto);
        ``cancel_as_owner``: scancel runs as each job's owner too (on with identities)."""
        self.client = SlurmClient(runner, cluster=cluster)
        self.accounting = SlurmAccounting(runner, cluster=cluster)
        self.cluster = cluster
        self.owner = OwnerCommands.for_setting(run_as)
        self.cancel_as_owner = cancel_as_owner
        self.statuses = StatusBoard()  # what the last status calls said, for the log followers

    @classmethod
    def from_settings(cls, settings: Settings) -> SlurmBackend:
        identities = resolved_kind(settings.identity_kind) != "none"
        return cls(cluster=settings.slurm_cluster, run_as=settings.slurm_run_as, cancel_as_owner=identities)

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
            job_id=job.job_id,
            account=job.account,
            partition=job.partition,
            job_dir=job.job_dir,
            comment=job.comment,
            inputs=tuple((i.env_key, i.path(job.job_dir)) for i in job.inputs),
        )
        try:
            text = render_sbatch(spec, ctx)
        except ValueError as exc:
            raise InvalidInput.on("job", str(exc)) from exc
        script = self._write(job, text)
        prefix: list[str] = []
        if job.run_as is not None:
            prefix = self.owner.prefix(job.run_as.user.name, job.run_as.group.name, home=job.job_dir)
        try:
            return self.client.sbatch(str(script), prefix=prefix, chdir=job.job_dir if prefix else None)
        except CommandError as exc:
            said = exc.result.stderr + exc.result.stdout
            if _ARRAY_REFUSAL in said:  # a refusal, not an outage: never retried
                raise InvalidInput.on("array", f"Slurm refused the array ({_ARRAY_REFUSAL}: its MaxArraySize)") from exc
            if any(refusal in said for refusal in _REFUSALS):
                raise InvalidInput.on("resources", f"Slurm refused the job: {str(exc).split(': ', 1)[-1]}") from exc
            raise

    @staticmethod
    def _write(job: BackendJob, text: str) -> Path:
        """The batch script (and a script job's text) in the job folder; with an owner, all of it theirs."""
        script = Path(job.job_dir) / "job.sbatch"
        try:
            script.parent.mkdir(parents=True, exist_ok=True)
            written = [script]
            if job.spec.script is not None:
                written.append(script.parent / USER_SCRIPT)
                written[-1].write_text(job.spec.script)
            script.write_text(text)
            stage_inputs(job, confined=False)  # read-only for the job (see backends.staging)
        except OSError as exc:
            raise BackendUnavailable(f"the job folder cannot be written: {exc}") from exc
        if job.run_as is not None:
            prepare_folder(script.parent, job.run_as, written)
        return script

    # ------------------------------------------------------------ status

    def status(self, ids: Sequence[str]) -> dict[str, BackendStatus]:
        ids = [str(i) for i in ids]
        if not ids:
            return {}
        tasks = self._task_records(ids)
        self._fix_exit_codes(tasks)
        found = {job_id: _status_of(tasks[job_id]) for job_id in ids if job_id in tasks}
        self.statuses.publish(found, asked=tuple(ids))
        return found

    def _task_records(self, ids: list[str]) -> dict[str, dict[TaskKey, TaskRecord]]:
        """Per gateway id, its records: squeue's for the live ones, sacct's where it says they are over."""
        tasks: dict[str, dict[TaskKey, TaskRecord]] = {}
        for rec in self.client.squeue(ids):
            record = TaskRecord(translate(rec.state), rec.exit_code, rec.reason, rec.job_id)
            tasks.setdefault(rec.parent_id, {})[TaskRecord.key(rec)] = record
        for acc in self.client.sacct(ids):
            if acc.parent_id in ids:
                _merge_accounted(tasks.setdefault(acc.parent_id, {}), acc)
        for mine in tasks.values():  # an array's pending remainder goes once every task has its own record
            if any(isinstance(key, int) for key in mine):
                for key in [k for k, rec in mine.items() if isinstance(k, str) and rec.state in TERMINAL]:
                    del mine[key]
        return tasks

    def _fix_exit_codes(self, tasks: dict[str, dict[TaskKey, TaskRecord]]) -> None:
        """Failed records whose exit code reads 0: one parsable sacct call for them all."""
        suspects = [
            (mine, key)
            for mine in tasks.values()
            for key, rec in mine.items()
            if rec.state is JobState.FAILED and not rec.exit_code
        ]
        if not suspects:
            return
        codes = self.client.exit_codes([mine[key].raw_id for mine, key in suspects])
        for mine, key in suspects:
            rec = mine[key]
            mine[key] = dataclasses.replace(rec, exit_code=codes.get(rec.raw_id, rec.exit_code))

    # ------------------------------------------------------------ cancel, logs

    def cancel(self, ids: Sequence[str]) -> None:
        """``scancel``; with ``cancel_as_owner``, as each job's owner (squeue says who that is; jobs of the
        server's own user, or no longer queued, are cancelled as the server)."""
        ids = [str(i) for i in ids]
        if not self.cancel_as_owner:
            self.client.scancel(ids)
            return
        owners = {rec.parent_id: (rec.user, rec.group) for rec in self.client.squeue(ids)}
        groups: dict[tuple[str, str] | None, list[str]] = {}
        for job_id in ids:
            groups.setdefault(_foreign(owners.get(job_id)), []).append(job_id)
        for owner, mine in groups.items():
            self.client.scancel(mine, prefix=self.owner.prefix(*owner) if owner else ())

    def logs(
        self, backend_id: str, job_dir: str, stream: Stream, offset: int = 0, *, task: int = 0, limit: int = 1 << 20
    ) -> LogChunk:
        check_stream(stream)
        if not str(backend_id).isdigit():
            raise InvalidInput.on("backend_id", "must be a Slurm job id")
        base = Path(job_dir)
        path = base / f"{stream}-{backend_id}_{int(task)}.log"  # arrays: %A_%a
        if not path.exists():
            path = base / f"{stream}-{backend_id}.log"  # single jobs: %j
        # whether the task is over comes from the latest status call (the reconciler's, every cycle), or from one
        # poll shared by every follower when it is stale: a follower never runs squeue + sacct of its own
        return read_chunk(path, offset, limit, lambda: self.statuses.over(self, str(backend_id), task))

    # ------------------------------------------------------------ usage, reconciliation, accounts

    def usage(self, ids: Sequence[str]) -> dict[str, Usage]:
        """From sacct; an array sums its tasks' elapsed time (GPU-hours = elapsed × gpus per task)."""
        ids = [str(i) for i in ids]
        groups: dict[str, list[AccountingRecord]] = {}
        for rec in self.client.sacct(ids):
            if rec.parent_id in ids:
                groups.setdefault(rec.parent_id, []).append(rec)
        out: dict[str, Usage] = {}
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
        _check_names(account.account, account.users)
        self.client.add_account(account.account)
        added = [user for user in account.users if self.client.add_user(user, account.account)]
        self._await_associations(account.account, added)

    def set_account_users(self, account: str, users: Sequence[str]) -> None:
        """The account's user associations become exactly ``users`` (the project's members' POSIX names)."""
        _check_names(account, users)
        current = self.client.account_users(account)
        if users:
            self.client.add_account(account)
        added = [user for user in users if user not in current and self.client.add_user(user, account)]
        for user in sorted(current - set(users)):
            self.client.remove_user(user, account)
        self._await_associations(account, added)

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


def _check_names(account: str, users: Sequence[str]) -> None:
    if not ACCOUNT_RE.match(account):
        raise InvalidInput.on("account", "letters, digits, . _ -; at most 64, starting with a letter or digit")
    for user in users:
        if not USER_RE.match(user):
            raise InvalidInput.on("users", f"not a valid user name: {user!r}")


def _foreign(owner: tuple[str, str] | None) -> tuple[str, str] | None:
    """A job's owner to run scancel as: None for the server's own jobs (or root's, or unknown ones)."""
    if owner is None or owner[0] in ("", "root", getpass.getuser()):
        return None
    return owner if NAME_RE.match(owner[0]) and NAME_RE.match(owner[1]) else None


def _merge_accounted(mine: dict[TaskKey, TaskRecord], acc: AccountingRecord) -> None:
    """sacct's record of a task: it wins for finished tasks (squeue may still say running), and fills in
    tasks squeue no longer shows; squeue's exit code is kept (sacct --json's is wrong for failed scripts)."""
    key = TaskRecord.key(acc)
    old = mine.get(key)
    state = translate(acc.state, old.state if old is not None else JobState.QUEUED)
    if old is None or state in TERMINAL:
        exit_code = old.exit_code if old is not None and old.exit_code else acc.exit_code
        mine[key] = TaskRecord(state, exit_code, acc.reason or (old.reason if old is not None else ""), acc.job_id)


def _status_of(mine: dict[TaskKey, TaskRecord]) -> BackendStatus:
    state = aggregate(rec.state for rec in mine.values())
    return BackendStatus(
        state=state,
        exit_code=aggregate_exit_code(state, (rec.exit_code for rec in mine.values())),
        reason=next((rec.reason for rec in mine.values() if rec.reason), ""),
        tasks={key: rec.state for key, rec in mine.items() if isinstance(key, int)},
    )


__all__ = ["SlurmBackend", "TaskRecord"]
