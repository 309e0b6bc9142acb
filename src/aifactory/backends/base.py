"""The command-runner seam every backend's process I/O goes through.

A backend does scheduler I/O only: submit / status / cancel over lists of ids, logs, usage, and project
provisioning. Policy (who may submit, budgets, retries) lives in the services. The port the services call
(``Backend``, ``PriorityBackend``, ``AccountingBackend``) and ``BackendUnavailable`` live in
``services.ports``; the values exchanged (``BackendJob``, ``BackendStatus``, ...) in ``domain.jobs.execution``;
each backend names itself in ``backends.registry``. Backends get their collaborators in ``__init__`` (or
``from_settings``) and do no I/O there.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..services.ports import BackendUnavailable


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class CommandError(BackendUnavailable):
    """A scheduler command that exited non-zero: the scheduler could not do it now (its controller or database
    away, a limit or account it does not have yet). A :class:`BackendUnavailable`, so the services leave the
    work for a later pass; a backend that can tell a refusal of the request itself (a bad account, too many
    GPUs) from the result turns it into ``InvalidInput`` first."""

    def __init__(self, result: CommandResult):
        self.result = result
        err = (result.stderr or result.stdout).strip().splitlines()
        super().__init__(f"{result.argv[0]} exited {result.returncode}: {err[-1] if err else 'no output'}")


class CommandRunner(Protocol):
    """Runs argv without a shell; raises :class:`BackendUnavailable` when the command cannot be run at all."""

    def __call__(self, argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> CommandResult: ...


def run_command(argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> CommandResult:
    """Runs argv without a shell. Every backend's process I/O goes through a runner like this one; a command
    that is missing, cannot be started or runs past ``timeout`` is the scheduler being unavailable."""
    try:
        proc = subprocess.run(list(argv), input=input, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendUnavailable(f"{argv[0]} could not be run: {exc}") from exc
    return CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


def checked(runner: CommandRunner, argv: Sequence[str], *, input: str | None = None) -> CommandResult:
    """The command's result; :class:`CommandError` when it exits non-zero."""
    result = runner(argv, input=input)
    if result.returncode != 0:
        raise CommandError(result)
    return result
