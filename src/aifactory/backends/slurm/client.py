"""A thin typed client over Slurm's CLI: every call goes through the CommandRunner seam.

Quirks of Slurm 22.05 handled here (measured on the dev cluster):

* ``squeue --json`` ignores ``-j``/``-u`` and returns every job still in memory (``MinJobAge``), so
  :meth:`SlurmClient.squeue` filters by the ids asked in Python.
* ``sacct --json -j a,b,c`` honours ``-j`` (an array's id brings all its tasks, one record each with
  ``array.job_id``/``array.task_id``); an unknown id gives ``jobs: []`` plus an "Nothing found" error.
* ``sacct --json`` reports ``exit_code`` ``SUCCESS/0`` for a job whose batch script exited non-zero
  (plain ``sacct -o ExitCode`` shows ``3:0``): :meth:`SlurmClient.exit_codes` reads the parsable form.
* ``sacct --json`` has ``comment.job = null`` unless ``AccountingStoreFlags=job_comment``; squeue has it.
* ``sacctmgr -i add`` exits 1 with "Nothing new added." on stdout when the entry exists (``delete``: "Nothing
  deleted" when it is gone).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..base import CommandError, CommandRunner, checked, run_command

NOTHING_NEW = "Nothing new added"
NOTHING_DELETED = "Nothing deleted"


@dataclass(frozen=True)
class QueueRecord:
    """One job (or array task) as ``squeue --json`` shows it."""

    job_id: str  # this record's own id (an array task has its own)
    state: str
    array_job_id: str | None = None  # the id sbatch returned for the array
    array_task_id: int | None = None  # None for a job that is no array, or still-pending array tasks
    comment: str = ""
    exit_code: int | None = None  # decoded from the wait status
    reason: str = ""
    user: str = ""  # who the job runs as
    group: str = ""

    @property
    def parent_id(self) -> str:
        """The id the gateway knows this record by: the array's id for an array task."""
        return self.array_job_id or self.job_id


@dataclass(frozen=True)
class AccountingRecord:
    """One job (or array task) as ``sacct --json`` shows it."""

    job_id: str
    state: str
    array_job_id: str | None = None
    array_task_id: int | None = None
    exit_code: int | None = None
    reason: str = ""
    elapsed_seconds: int = 0
    gpus: int = 0
    nodes: int = 0
    cpus: int = 0
    start: int | None = None  # POSIX seconds, None when not started
    end: int | None = None
    comment: str = ""
    account: str = ""

    @property
    def parent_id(self) -> str:
        return self.array_job_id or self.job_id


def _wait_status(raw: Any) -> int | None:
    """squeue's ``exit_code`` is a wait(2) status: 768 means exit 3; a signal gives 128 + signal."""
    if not isinstance(raw, int):
        return None
    return (raw >> 8) & 0xFF if raw & 0x7F == 0 else 128 + (raw & 0x7F)


def _sacct_exit(raw: Any) -> int | None:
    if not isinstance(raw, dict):
        return raw if isinstance(raw, int) else None
    signal = raw.get("signal")
    if isinstance(signal, dict) and signal.get("signal_id"):
        return 128 + int(signal["signal_id"])
    code = raw.get("return_code")
    return int(code) if isinstance(code, int) else None


def _array_ids(job_id: Any, task_id: Any) -> tuple[str | None, int | None]:
    """Slurm writes 0 (squeue) or ``{"job_id": 0}`` (sacct) for 'no array'."""
    array = str(job_id) if job_id not in (None, 0, "0", "") else None
    task = int(task_id) if isinstance(task_id, int) else None
    return array, task


def _tres(items: Iterable[dict[str, Any]] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items or ():
        key = f"{item.get('type')}/{item['name']}" if item.get("name") else str(item.get("type"))
        out[key] = int(item.get("count") or 0)
    return out


def _epoch(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and value > 0 else None


def parse_sbatch(stdout: str) -> str:
    """``sbatch --parsable`` prints ``ID`` or ``ID;CLUSTER``."""
    job_id = stdout.strip().splitlines()[-1].split(";")[0].strip() if stdout.strip() else ""
    if not job_id.isdigit():
        raise ValueError(f"unexpected sbatch --parsable output: {stdout!r}")
    return job_id


def parse_squeue(text: str, ids: Iterable[str] | None = None) -> list[QueueRecord]:
    """Records of ``squeue --json``, only those of the ids asked (by own id or array id) when given."""
    wanted = None if ids is None else {str(i) for i in ids}
    records = []
    for job in json.loads(text).get("jobs", []):
        array, task = _array_ids(job.get("array_job_id"), job.get("array_task_id"))
        rec = QueueRecord(
            job_id=str(job["job_id"]),
            state=str(job.get("job_state", "")),
            array_job_id=array,
            array_task_id=task,
            comment=job.get("comment") or "",
            exit_code=_wait_status(job.get("exit_code")),
            reason="" if job.get("state_reason") in (None, "None") else str(job["state_reason"]),
            user=str(job.get("user_name") or ""),
            group=str(job.get("group_name") or ""),
        )
        if wanted is None or rec.job_id in wanted or rec.parent_id in wanted:
            records.append(rec)
    return records


def parse_sacct(text: str) -> list[AccountingRecord]:
    records = []
    for job in json.loads(text).get("jobs", []):
        array = job.get("array") or {}
        array_id, task = _array_ids(array.get("job_id"), array.get("task_id"))
        state = job.get("state") or {}
        tres = _tres((job.get("tres") or {}).get("allocated"))
        times = job.get("time") or {}
        comment = job.get("comment")
        records.append(
            AccountingRecord(
                job_id=str(job["job_id"]),
                state=str(state.get("current", "")),
                array_job_id=array_id,
                array_task_id=task,
                exit_code=_sacct_exit(job.get("exit_code")),
                reason="" if state.get("reason") in (None, "None") else str(state["reason"]),
                elapsed_seconds=int(times.get("elapsed") or 0),
                gpus=tres.get("gres/gpu", 0),
                nodes=int(job.get("allocation_nodes") or tres.get("node", 0)),
                cpus=tres.get("cpu", 0),
                start=_epoch(times.get("start")),
                end=_epoch(times.get("end")),
                comment=(comment.get("job") if isinstance(comment, dict) else comment) or "",
                account=job.get("account") or "",
            )
        )
    return records


def parse_exit_codes(text: str) -> dict[str, int]:
    """``sacct -n -P -X -o JobIDRaw,ExitCode``: ``45|3:0`` → {"45": 3}; ``N:SIG`` with SIG > 0 → 128 + SIG."""
    out = {}
    for line in text.splitlines():
        raw_id, _, code = line.strip().partition("|")
        status, _, signal = code.partition(":")
        if raw_id.isdigit() and status.isdigit():
            out[raw_id] = 128 + int(signal) if signal.isdigit() and int(signal) else int(status)
    return out


class SlurmClient:
    """Slurm's commands as typed calls; all ids of a call go into one command."""

    def __init__(self, runner: CommandRunner = run_command, *, cluster: str | None = None):
        self.runner = runner
        self.cluster = cluster

    def _clusters(self) -> list[str]:
        return [f"--clusters={self.cluster}"] if self.cluster else []

    def sbatch(self, script_path: str, *, prefix: Sequence[str] = (), chdir: str | None = None) -> str:
        """``prefix``: the argv that runs it as the job's owner (``owner.OwnerCommands``)."""
        where = [f"--chdir={chdir}"] if chdir else []
        return parse_sbatch(checked(self.runner, [*prefix, "sbatch", "--parsable", *where, script_path]).stdout)

    def squeue(self, ids: Sequence[str] | None = None) -> list[QueueRecord]:
        """One ``squeue --json`` (it ignores filters in 22.05), filtered here."""
        if ids is not None and not ids:
            return []
        return parse_squeue(checked(self.runner, ["squeue", "--json"]).stdout, ids)

    def sacct(self, ids: Sequence[str]) -> list[AccountingRecord]:
        if not ids:
            return []
        argv = ["sacct", "--json", *self._clusters(), "-j", ",".join(map(str, ids))]
        return parse_sacct(checked(self.runner, argv).stdout)

    def sacct_since(self, start: str) -> list[AccountingRecord]:
        """Every job since ``start`` (e.g. ``now-2days``), all users."""
        return parse_sacct(checked(self.runner, ["sacct", "--json", "-a", *self._clusters(), "-S", start]).stdout)

    def exit_codes(self, raw_ids: Sequence[str]) -> dict[str, int]:
        """Exit codes by raw job id from the parsable sacct form (sacct --json gets them wrong in 22.05)."""
        if not raw_ids:
            return {}
        argv = ["sacct", "-n", "-P", "-X", *self._clusters(), "-o", "JobIDRaw,ExitCode", "-j", ",".join(raw_ids)]
        return parse_exit_codes(checked(self.runner, argv).stdout)

    def scancel(self, ids: Sequence[str], *, prefix: Sequence[str] = ()) -> None:
        if ids:
            checked(self.runner, [*prefix, "scancel", *map(str, ids)])

    def _sacctmgr_add(self, argv: list[str]) -> bool:
        """True when sacctmgr added something, False when it all existed already."""
        result = self.runner(["sacctmgr", "-i", "add", *argv])
        if result.returncode == 0:
            return True
        if NOTHING_NEW in result.stdout or NOTHING_NEW in result.stderr:
            return False
        raise CommandError(result)

    def add_account(self, account: str) -> bool:
        cluster = [f"cluster={self.cluster}"] if self.cluster else []
        return self._sacctmgr_add(["account", account, *cluster])

    def add_user(self, user: str, account: str) -> bool:
        cluster = [f"cluster={self.cluster}"] if self.cluster else []
        return self._sacctmgr_add(["user", user, f"account={account}", *cluster])

    def account_users(self, account: str) -> set[str]:
        """The users associated with the account (its own association, without a user, left out)."""
        cluster = [f"cluster={self.cluster}"] if self.cluster else []
        argv = ["sacctmgr", "-nP", "show", "assoc", "where", f"account={account}", *cluster, "format=user"]
        return {line.strip() for line in checked(self.runner, argv).stdout.splitlines() if line.strip()}

    def remove_user(self, user: str, account: str) -> None:
        """The user's association with the account goes (Slurm refuses while the user has jobs running)."""
        cluster = [f"cluster={self.cluster}"] if self.cluster else []
        where = ["where", f"name={user}", f"account={account}", *cluster]
        result = self.runner(["sacctmgr", "-i", "delete", "user", *where])
        if result.returncode != 0 and NOTHING_DELETED not in result.stdout + result.stderr:
            raise CommandError(result)  # "Nothing deleted": it was gone already

    def association_loaded(self, account: str, user: str) -> bool:
        """Whether slurmctld already holds the user's association (slurmdbd pushes new ones a moment
        after ``sacctmgr`` returns; until then sbatch says "Invalid account")."""
        result = self.runner(
            ["scontrol", "-o", "show", "assoc_mgr", "flags=assoc", f"accounts={account}", f"users={user}"]
        )
        return result.returncode == 0 and f"Account={account} UserName={user}(" in result.stdout
