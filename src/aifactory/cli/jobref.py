"""Naming a job on the command line: its id, or ``last`` for the job you submitted most recently."""

from __future__ import annotations

from typing import Annotated

import typer

from ..client import AifactoryClient
from .state import CliError

LAST = "last"
JobRef = Annotated[
    str,
    typer.Argument(metavar="JOB", help="job id, or `last`: the job you submitted most recently", show_default=False),
]


def job_id_of(client: AifactoryClient, ref: str) -> int:
    """The job id a reference names; a one-line error when it names none."""
    ref = ref.strip()
    if ref.isdigit() and int(ref) >= 1:
        return int(ref)
    if ref.lower() != LAST:
        raise CliError(f"{ref!r} is not a job: give a job id (a positive number) or `last`")
    items = client.list_jobs(mine=True, limit=1)["items"]
    if not items:
        raise CliError("you have submitted no job yet, so there is no `last` job")
    return int(items[0]["id"])
