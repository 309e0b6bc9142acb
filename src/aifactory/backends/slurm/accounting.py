"""Slurm's side of the usage ledger: every finished job of some accounts, hard GPU-minute limits, QoS.

* :meth:`SlurmAccounting.finished_jobs` reads ONE ``sacct --json -X -a -A a,b -S <since> -E now``: all users'
  jobs, also those submitted with ``sbatch`` directly. ``-X`` keeps allocations only (steps are skipped in
  parsing too); an array task is its own record, ``<array id>_<index>``.
* :meth:`SlurmAccounting.set_budget_limit` sets the account association's ``GrpTRESMins=gres/gpu=N``; with
  ``AccountingStorageEnforce=...,limits,safe`` a job whose GPUs x time limit could overrun it stays pending
  (reason ``AssocGrpGRESMinutes``), so even ``sbatch`` used directly cannot overspend.
* :meth:`SlurmAccounting.account_gpu_minutes_used` reads the counter that limit is compared with, from
  ``scontrol show assoc_mgr``: ``GrpTRESMins=...,gres/gpu=LIMIT(USED)`` (``N`` for no limit). The caller sets
  limit = used + what the ledger still allows.
* :meth:`SlurmAccounting.set_low_priority` gives the account QoS ``low`` only (default ``low``), or back
  ``normal,low`` with default ``normal``; user associations inherit it. Every call is idempotent.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from typing import Any

from ...domain.jobs.execution import ExternalUsage
from ...domain.jobs.states import TERMINAL
from ..base import CommandRunner, checked
from .client import _array_ids, _epoch, _tres
from .states import translate

log = logging.getLogger(__name__)
LOW_QOS, NORMAL_QOS = "low", "normal"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ASSOC_RE = re.compile(r"^ClusterName=(\S*) Account=(\S*) UserName=(\S*) Partition=(\S*)")
_GPU_MINS_RE = re.compile(r"(?:^|,)gres/gpu=(\d+|N)\((\d+)\)")


def _account(name: str) -> str:
    """Account names go into argv (never a shell), but a ``,`` or ``=`` would change a sacctmgr filter."""
    if not _NAME_RE.match(name):
        raise ValueError(f"not a valid Slurm account name: {name!r}")
    return name


def _limit_seconds(raw: Any) -> int | None:
    """``time.limit`` is minutes (22.05: an int; later: ``{"set", "infinite", "number"}``)."""
    if isinstance(raw, dict):
        if raw.get("infinite") or not raw.get("set", True):
            return None
        raw = raw.get("number")
    return int(raw) * 60 if isinstance(raw, int) and 0 < raw < 0xFFFFFFFE else None


def _backend_id(job: dict[str, Any]) -> str:
    array = job.get("array") or {}
    array_id, task = _array_ids(array.get("job_id"), array.get("task_id"))
    job_id = int(job["job_id"])
    return f"{array_id}_{task}" if array_id is not None and task is not None else str(job_id)


def _usage(job: dict[str, Any]) -> ExternalUsage | None:
    """One allocation record, or None when it is no finished job (a step, a running job, odd data)."""
    if "step" in job or "." in str(job.get("job_id", "")):  # a step ("1234.batch"), never an allocation
        return None
    state = translate(str((job.get("state") or {}).get("current", "")))
    if state not in TERMINAL:
        return None
    tres = _tres((job.get("tres") or {}).get("allocated"))
    times = job.get("time") or {}
    comment = job.get("comment")
    start, end = _epoch(times.get("start")), _epoch(times.get("end"))
    return ExternalUsage(
        backend_id=_backend_id(job),
        account=str(job.get("account") or ""),
        partition=str(job.get("partition") or ""),
        user=str(job.get("user") or ""),
        comment=str((comment.get("job") if isinstance(comment, dict) else comment) or ""),
        state=state,
        start=float(start) if start else None,
        end=float(end) if end else None,
        elapsed_seconds=int(times.get("elapsed") or 0),
        nodes=int(job.get("allocation_nodes") or tres.get("node", 0)),
        gpus=tres.get("gres/gpu", 0),
        cpus=tres.get("cpu", 0),
        memory_mb=tres.get("mem", 0),
        time_limit_seconds=_limit_seconds(times.get("limit")),
    )


def parse_finished(text: str) -> list[ExternalUsage]:
    """The finished allocations of a ``sacct --json`` answer; a record that cannot be read is skipped."""
    out = []
    for job in json.loads(text).get("jobs") or []:
        try:
            usage = _usage(job)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("skipping an unreadable sacct record (%s): %.200r", exc, job)
            continue
        if usage is not None:
            out.append(usage)
    return out


def parse_gpu_minutes_used(text: str, account: str, cluster: str | None = None) -> int:
    """``USED`` of ``gres/gpu=LIMIT(USED)`` in the account's own association (no user, no partition)."""
    current: tuple[str, ...] | None = None
    for line in text.splitlines():
        head = _ASSOC_RE.match(line.strip())
        if head:
            current = head.groups()
            continue
        stripped = line.strip()
        if current is None or not stripped.startswith("GrpTRESMins="):
            continue
        cluster_name, acct, user, partition = current
        if acct == account and not user and not partition and (cluster is None or cluster_name == cluster):
            found = _GPU_MINS_RE.search(stripped.removeprefix("GrpTRESMins="))
            return int(found.group(2)) if found else 0
    raise LookupError(f"Slurm has no association for account {account!r}")


class SlurmAccounting:
    """The accounting calls, through the runner seam; no I/O until a method is called."""

    def __init__(self, runner: CommandRunner, *, cluster: str | None = None):
        self.runner = runner
        self.cluster = cluster

    def _where(self, account: str) -> list[str]:
        cluster = [f"cluster={self.cluster}"] if self.cluster else []
        return ["where", f"name={_account(account)}", *cluster]

    def finished_jobs(self, accounts: Sequence[str], since: float) -> list[ExternalUsage]:
        """Every finished job (any user, any way of submitting) of ``accounts`` since POSIX time ``since``."""
        if not accounts or since > time.time():  # sacct refuses a start after its end ("now")
            return []
        start = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(since))  # sacct reads local time
        argv = [
            "sacct",
            "--json",
            "-X",
            "-a",
            *([f"--clusters={self.cluster}"] if self.cluster else []),
            "-A",
            ",".join(_account(a) for a in accounts),
            "-S",
            start,
            "-E",
            "now",
        ]
        return parse_finished(checked(self.runner, argv).stdout)

    def set_budget_limit(self, account: str, gpu_minutes: int | None) -> None:
        """The account's hard GPU-minute limit (``GrpTRESMins``); None clears it."""
        if gpu_minutes is not None and (isinstance(gpu_minutes, bool) or int(gpu_minutes) < 0):
            raise ValueError(f"gpu_minutes must be >= 0 or None, not {gpu_minutes!r}")
        value = -1 if gpu_minutes is None else int(gpu_minutes)
        checked(
            self.runner,
            ["sacctmgr", "-i", "modify", "account", *self._where(account), "set", f"GrpTRESMins=gres/gpu={value}"],
        )

    def account_gpu_minutes_used(self, account: str) -> int:
        """Slurm's own GPU-minutes counter for the account's association (what GrpTRESMins is compared with)."""
        argv = ["scontrol", "show", "assoc_mgr", f"accounts={_account(account)}", "flags=assoc"]
        return parse_gpu_minutes_used(checked(self.runner, argv).stdout, account, self.cluster)

    def set_low_priority(self, account: str, low: bool) -> None:
        """QoS ``low`` only (its default too), or back to ``normal`` (default) with ``low`` allowed."""
        qos = f"qos={LOW_QOS}" if low else f"qos={NORMAL_QOS},{LOW_QOS}"
        default = f"defaultqos={LOW_QOS if low else NORMAL_QOS}"
        checked(self.runner, ["sacctmgr", "-i", "modify", "account", *self._where(account), "set", qos, default])


__all__ = ["SlurmAccounting", "parse_finished", "parse_gpu_minutes_used"]
