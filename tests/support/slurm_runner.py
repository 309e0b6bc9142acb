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


def slurm_command(argv: Sequence[str]) -> tuple[str, ...]:
    """The Slurm command of an argv that may run it as a job's owner (``runuser -u U -g G -- env -i K=V ... cmd``
    or ``sudo -n -u U -g G -- cmd``): everything from the Slurm command on."""
    argv = tuple(argv)
    if argv and argv[0] in ("runuser", "sudo"):
        argv = argv[argv.index("--") + 1 :]
        if argv[:2] == ("env", "-i"):
            argv = argv[2:]
            while argv and "=" in argv[0]:
                argv = argv[1:]
    return argv


def owner_of(argv: Sequence[str]) -> tuple[str, str] | None:
    """The (user, group) an argv runs its Slurm command as; None when it runs as the server."""
    if not argv or argv[0] not in ("runuser", "sudo"):
        return None
    head = list(argv[: list(argv).index("--")])
    return head[head.index("-u") + 1], head[head.index("-g") + 1] if "-g" in head else ""


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
    owner: tuple[str, str] = ("root", "root")  # who submitted it (user, group)


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
        self._owner: tuple[str, str] | None = None  # who runs the command being answered
        self.associations: set[tuple[str, str]] = set()  # (account, user)

    def __call__(self, argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> CommandResult:
        argv = tuple(argv)
        self.calls.append(argv)
        command = slurm_command(argv)
        if self.down:
            return CommandResult(argv, 1, "", f"{command[0]}: {DOWN}")
        handlers: dict[str, Callable[[tuple[str, ...]], str]] = {
            "sbatch": self._sbatch,
            "squeue": self._squeue,
            "sacct": self._sacct,
            "scancel": self._scancel,
            "sacctmgr": self._sacctmgr,
            "scontrol": self._scontrol,
        }
        self._owner = owner_of(argv)
        return CommandResult(argv, 0, handlers[command[0]](command), "")

    def _sbatch(self, argv: tuple[str, ...]) -> str:
        script = Path(argv[-1]).read_text()
        directive = dict(re.findall(r"^#SBATCH --([a-z-]+)=(.*)$", script, re.MULTILINE))
        self._next += 1
        job = _Job(self._next, directive["comment"], directive["account"], owner=self._owner or ("root", "root"))
        self.jobs[str(self._next)] = job
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

    def _sacctmgr(self, argv: tuple[str, ...]) -> str:
        words = dict(w.split("=", 1) for w in argv if "=" in w)
        if argv[1:3] == ("-i", "add") and argv[3] == "user":
            self.associations.add((words["account"], argv[4]))
        elif argv[1:3] == ("-i", "delete"):
            self.associations.discard((words["account"], words["name"]))
        elif "show" in argv:
            users = sorted(user for account, user in self.associations if account == words["account"])
            return "\n" + "".join(f"{user}\n" for user in users)
        return " Adding Account(s)\n"

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
        "user_name": job.owner[0],
        "group_name": job.owner[1],
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
