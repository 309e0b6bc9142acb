"""The local Slurm cluster for ``bench/submit_throughput.py``: whether it answers (and starting it when not),
its configuration, and the bookkeeping of every job id submitted, so that everything can be cancelled on any
exit."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from _harness.report import Log


def me() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def sh(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def slurm_problem() -> str | None:
    """None when the controller answers and a node is up, else why not."""
    if shutil.which("sbatch") is None or shutil.which("scontrol") is None:
        return "the Slurm client commands are not installed"
    try:
        ping = sh(["scontrol", "ping"], 15)
        if ping.returncode != 0 or "is UP" not in ping.stdout:
            return f"the controller does not answer: {(ping.stdout + ping.stderr).strip()[:200]}"
        states = sh(["sinfo", "-h", "-N", "-o", "%T"], 15).stdout.split()
    except subprocess.TimeoutExpired:
        return "Slurm did not answer within 15 s"
    if not any(s.rstrip("~#!%$@^-") in ("idle", "mixed", "allocated", "completing") for s in states):
        return f"no node is up (sinfo: {' '.join(states)})"
    return None


def ensure_cluster(repo: Path, log: Log) -> None:
    problem = slurm_problem()
    if problem is None:
        return
    script = repo / "scripts" / "slurm-dev-cluster"
    log(f"Slurm is not usable ({problem}); starting it with {script} start")
    proc = sh([str(script), "start"], 300)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} start failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    for _ in range(30):
        if (problem := slurm_problem()) is None:
            return
        time.sleep(1)
    raise RuntimeError(f"Slurm still not usable after start: {problem}")


def slurm_config(keys: Iterable[str]) -> dict[str, str]:
    wanted, out = set(keys), {}
    for line in sh(["scontrol", "show", "config"], 30).stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in wanted:
            out[key.strip()] = value.strip()
    return out


def account_exists(account: str) -> bool:
    return bool(sh(["sacctmgr", "-n", "-P", "show", "account", account, "format=account"], 30).stdout.strip())


@dataclass
class SlurmJobs:
    """Every Slurm id this run got (raw sbatch and through the gateway), and the accounts it used, so that
    everything can be cancelled whatever happens."""

    account: str | None = None
    ids: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, job_id: str | None) -> None:
        if job_id:
            with self.lock:
                self.ids.add(str(job_id))

    def cancel(self, ids: Iterable[str] | None = None) -> list[str]:
        """scancel the ids (all of ours by default, in chunks) and, for all of ours, everything of this user
        in the account; returns the problems met."""
        problems = []
        ids = sorted(self.ids if ids is None else set(ids), key=int)
        for i in range(0, len(ids), 500):
            r = sh(["scancel", *ids[i : i + 500]], 60)
            if r.returncode != 0 and "Invalid job id" not in r.stderr:
                problems.append(f"scancel: {r.stderr.strip()[:200]}")
        if self.account:
            r = sh(["scancel", "--account", self.account, "--user", me()], 60)
            if r.returncode != 0:
                problems.append(f"scancel --account {self.account}: {r.stderr.strip()[:200]}")
        return problems

    def remaining(self) -> int:
        """Our jobs still known to squeue as not finished (pending, running, completing)."""
        argv = ["squeue", "-h", "-u", me(), "-o", "%F %T"]
        if self.account:
            argv += ["-A", self.account]
        out = sh(argv, 60).stdout.split("\n")
        with self.lock:
            ours = set(self.ids)
        return sum(1 for line in out if line.strip() and (line.split()[0] in ours or self.account))

    def wait_gone(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while (left := self.remaining()) and time.monotonic() < deadline:
            time.sleep(0.5)
        return left


def drop_account(account: str) -> list[str]:
    """Remove this user's association with ``account`` and the account (made by this run); the problems met."""
    problems = []
    for argv in (
        ["sacctmgr", "-i", "delete", "user", me(), f"account={account}"],
        ["sacctmgr", "-i", "delete", "account", account],
    ):
        r = sh(argv, 60)
        if r.returncode != 0 and "Nothing deleted" not in r.stdout + r.stderr:
            problems.append(f"{' '.join(argv[:4])}: {(r.stdout + r.stderr).strip()[:200]}")
    return problems
