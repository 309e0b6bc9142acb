"""Following a job from the terminal: its log as it is written, a status line while it runs, and one
summary line when it is over (``aifactory submit --follow``, ``aifactory templates run --follow``)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from ..client import TERMINAL_STATES, AifactoryClient, Json
from ..domain.jobs.states import JobState
from .output import done, note, print_json, stderr, stdout
from .state import current

JOB_STYLES = {
    "pending": "cyan",
    "submitted": "blue",
    "queued": "yellow",
    "running": "bold blue",
    "completed": "green",
    "failed": "red",
    "cancelled": "dim",
    "timeout": "red",
}
POLL_SECONDS = 0.5


def job_style(value: Any) -> str | None:
    return JOB_STYLES.get(str(value))


def _status_text(job: Json) -> Text:
    text = Text(f"job {job['id']} {job['name']}: ")
    text.append(job["state"], style=job_style(job["state"]) or "")
    return text


class _Lines:
    """Log text printed whole lines at a time through a Rich console (so a live status line stays below)."""

    def __init__(self, console: Console):
        self.console, self.rest = console, ""

    def write(self, text: str) -> None:
        *lines, self.rest = (self.rest + text).split("\n")
        for line in lines:
            self.console.print(Text(line), soft_wrap=True)

    def close(self) -> None:
        if self.rest:
            self.console.print(Text(self.rest), soft_wrap=True)
            self.rest = ""


def raw_write(text: str) -> None:
    typer.echo(text, nl=False)


def follow_job(client: AifactoryClient, job: Json, *, stream: str = "stdout", task: int = 0) -> Json:
    """Print the job's log as it is written, with a status line showing its state on a terminal; then wait
    for the job to be over and answer its final state."""
    out = stdout()
    status_console = out if out.is_terminal else (stderr() if stderr().is_terminal else None)
    if status_console is None:  # nothing to draw on: plain text, byte for byte
        for text in client.follow_log(job["id"], stream=stream, task=task):
            raw_write(text)
        return client.wait(job["id"], poll=POLL_SECONDS)

    lines = _Lines(out) if status_console is out else None
    write = lines.write if lines is not None else raw_write
    stop, failed = threading.Event(), list[Exception]()
    with status_console.status(_status_text(job)) as status:

        def update(j: Json) -> None:
            status.update(_status_text(j))

        def watch() -> None:  # the state, while the log is followed on the main thread
            while not stop.is_set():
                try:
                    j = client.get_job(job["id"])
                except Exception as exc:  # noqa: BLE001 - shown by the main thread's wait below
                    failed.append(exc)
                    return
                update(j)
                if j["state"] in TERMINAL_STATES:
                    return
                stop.wait(POLL_SECONDS)

        watcher = threading.Thread(target=watch, name="aifactory-job-state", daemon=True)
        watcher.start()
        try:
            for text in client.follow_log(job["id"], stream=stream, task=task):
                write(text)
        finally:
            stop.set()
            watcher.join()
            if lines is not None:
                lines.close()
        return client.wait(job["id"], poll=POLL_SECONDS, on_change=update)


def _summary(job: Json) -> str:
    took = ""
    if job.get("started_at") and job.get("finished_at"):
        seconds = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])
        took = f" in {seconds.total_seconds():.1f}s"
    exit_code = f" (exit code {job['exit_code']})" if job.get("exit_code") is not None else ""
    reason = f": {job['reason']}" if job.get("reason") and job["state"] != "completed" else ""
    return f"Job {job['id']} {job['name']} {job['state']}{exit_code}{took}{reason}"


def report_or_follow(client: AifactoryClient, job: Json, follow: bool) -> None:
    """After a submission (a spec, a template): one line, or with ``follow`` the job's output until it ends,
    exiting 0 when it completed and 1 otherwise (130 when the user stops following; the job goes on)."""
    if not follow:
        done(job, f"Job {job['id']} {job['name']} {job['state']}; follow it with `aifactory logs -f {job['id']}`")
        return
    try:
        if current().json_output:
            final = client.wait(job["id"], poll=POLL_SECONDS)
            print_json(final)
        else:
            final = follow_job(client, job)
            style = "green" if final["state"] == JobState.COMPLETED else "red"
            stderr().print(Text(_summary(final), style=style), soft_wrap=True)
    except KeyboardInterrupt:
        note(
            f"stopped following; job {job['id']} goes on (`aifactory logs -f {job['id']}`, "
            f"`aifactory jobs cancel {job['id']}`)"
        )
        raise typer.Exit(130) from None
    raise typer.Exit(0 if final["state"] == JobState.COMPLETED else 1)
