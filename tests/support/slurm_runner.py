"""Slurm behind the command-runner seam, without a cluster: :class:`FakeRunner` answers with canned text (JSON
recorded from the dev cluster, in tests/backends/fixtures), :class:`FakeSlurm` is a tiny stateful Slurm (sbatch
queues, squeue and sacct report, scancel cancels) for the backend conformance test."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aifactory.backends.base import CommandResult

FIXTURES = Path(__file__).parent.parent / "backends" / "fixtures"
DOWN = "error: Unable to contact slurm controller (connect failure)"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def ok(stdout: str = "", rc: int = 0, stderr: str = "") -> CommandResult:
    return CommandResult(("x",), rc, stdout, stderr)


Reply = str | CommandResult | Callable[[tuple[str, ...]], CommandResult]


class FakeRunner:
    """Answers by command (with a key like "sacct --json" or "sacct -n"), records every call."""

    def __init__(self, replies: dict[str, Reply] | None = None, **by_command: Reply) -> None:
        self.replies: dict[str, Reply] = {**(replies or {}), **by_command}
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> CommandResult:
        argv = tuple(argv)
        self.calls.append(argv)
        for key in sorted(self.replies, key=len, reverse=True):
            if " ".join(argv).startswith(key):
                reply = self.replies[key]
                if callable(reply):
                    return reply(argv)
                if isinstance(reply, CommandResult):
                    return CommandResult(argv, reply.returncode, reply.stdout, reply.stderr)
                return CommandResult(argv, 0, str(reply), "")
        raise AssertionError(f"unexpected command {argv}")

    def of(self, command: str) -> list[tuple[str, ...]]:
        return [c for c in self.calls if c[0] == command]


@dataclass
class _Job:
    job_id: int
    comment: str
    account: str
    state: str = "PENDING"


class FakeSlurm:
    """A stateful Slurm of a few commands: ``sbatch`` queues the script's job (its comment and account read from
    the ``#SBATCH`` lines), ``squeue``/``sacct`` report the jobs, ``scancel`` cancels them, ``sacctmgr`` and
    ``scontrol show assoc_mgr`` accept every account at once. ``down``: every command fails as when the
    controller cannot be reached."""

    def __init__(self) -> None:
        self.jobs: dict[str, _Job] = {}
        self.calls: list[tuple[str, ...]] = []
        self.down = False
        self._next = 1000

    def __call__(self, argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> CommandResult:
        argv = tuple(argv)
        self.calls.append(argv)
        if self.down:
            return CommandResult(argv, 1, "", f"{argv[0]}: {DOWN}")
        handlers: dict[str, Callable[[tuple[str, ...]], str]] = {
            "sbatch": self._sbatch,
            "squeue": self._squeue,
            "sacct": self._sacct,
            "scancel": self._scancel,
            "sacctmgr": lambda _: " Adding Account(s)\n",
            "scontrol": self._scontrol,
        }
        return CommandResult(argv, 0, handlers[argv[0]](argv), "")

    def _sbatch(self, argv: tuple[str, ...]) -> str:
        script = Path(argv[-1]).read_text()
        directive = dict(re.findall(r"^#SBATCH --([a-z-]+)=(.*)$", script, re.MULTILINE))
        self._next += 1
        self.jobs[str(self._next)] = _Job(self._next, directive["comment"], directive["account"])
        return f"{self._next}\n"

    def _asked(self, argv: tuple[str, ...]) -> list[_Job]:
        if "-j" not in argv:
            return list(self.jobs.values())
        ids = argv[argv.index("-j") + 1].split(",")
        return [self.jobs[i] for i in ids if i in self.jobs]

    def _squeue(self, argv: tuple[str, ...]) -> str:
        return json.dumps({"jobs": [_queue_record(job) for job in self.jobs.values()]})

    def _sacct(self, argv: tuple[str, ...]) -> str:
        if "-n" in argv:  # the parsable exit codes
            return "".join(f"{job.job_id}|0:0\n" for job in self._asked(argv))
        return json.dumps({"jobs": [_accounting_record(job) for job in self._asked(argv)]})

    def _scancel(self, argv: tuple[str, ...]) -> str:
        for backend_id in argv[1:]:
            if backend_id in self.jobs:
                self.jobs[backend_id].state = "CANCELLED"
        return ""

    def _scontrol(self, argv: tuple[str, ...]) -> str:
        words = dict(w.split("=", 1) for w in argv if "=" in w)
        user = words.get("users", "")
        head = (
            f"ClusterName=c Account={words.get('accounts', '')} UserName={f'{user}(1000)' if user else ''} Partition="
        )
        return f"{head} ID=1\n    GrpTRESMins=cpu=N(0),gres/gpu=N(0)\n"


def _queue_record(job: _Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "job_state": job.state,
        "array_job_id": 0,
        "array_task_id": None,
        "comment": job.comment,
        "exit_code": 0,
        "state_reason": "None",
    }


def _accounting_record(job: _Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "state": {"current": job.state, "reason": "None"},
        "array": {"job_id": 0, "task_id": None},
        "exit_code": {"status": "SUCCESS", "return_code": 0},
        "time": {"elapsed": 0, "start": 0, "end": 0},
        "tres": {"allocated": []},
        "comment": {"job": None},
        "account": job.account,
        "allocation_nodes": 0,
    }
