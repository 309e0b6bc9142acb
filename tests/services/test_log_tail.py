"""Following logs: LogSource.tail (the end of a log read through in bounded chunks), the status board the
followers share instead of polling the scheduler each, and the live-log stream limits (in all, per user)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from aifactory.api.logstream import StreamSlots, TooManyStreams
from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.domain.jobs.execution import BackendJob, BackendStatus, LogChunk
from aifactory.domain.jobs.spec import parse_spec
from aifactory.domain.jobs.states import JobState
from aifactory.services.job_outputs import LogSource
from aifactory.services.status_board import StatusBoard
from tests.fakes import FakeBackend
from tests.support.api import Api, assert_problem
from tests.support.slurm_runner import FakeSlurm


@dataclass
class FileLikeBackend:
    text: bytes
    complete: bool
    reads: int = 0

    def logs(self, backend_id, job_dir, stream, offset, *, task=0, limit=1 << 20):  # type: ignore[no-untyped-def]
        self.reads += 1
        part = self.text[offset : offset + limit]
        return LogChunk(part, offset + len(part), self.complete and offset + len(part) >= len(self.text))


@dataclass
class Gateway:
    backend: FileLikeBackend


def source(text: bytes, complete: bool = True) -> tuple[LogSource, FileLikeBackend]:
    backend = FileLikeBackend(text, complete)
    return LogSource(Gateway(backend), 1, "local-1", "/x", "stdout", 0, complete), backend  # type: ignore[arg-type]


def test_tail_keeps_only_the_last_bytes_and_the_offset_after_them() -> None:
    log = b"".join(b"line %03d\n" % i for i in range(100))
    src, backend = source(log)
    chunk = src.tail(27, chunk=64)
    assert chunk.data == log[-27:] and chunk.offset == len(log) and chunk.complete
    assert backend.reads == len(log) // 64 + 2  # read through in chunks, then one empty read


def test_a_short_or_empty_log_comes_back_whole() -> None:
    assert source(b"hello\n")[0].tail(1000).data == b"hello\n"
    empty = source(b"", complete=False)[0].tail(1000)
    assert (empty.data, empty.offset, empty.complete) == (b"", 0, False)


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_followers_share_one_status_poll_and_the_reconciler_s_reports() -> None:
    scheduler = FakeBackend()
    scheduler.states = {"7": JobState.RUNNING, "8": JobState.RUNNING}
    ticks = Ticks()
    board = StatusBoard(max_age=5, now=ticks)
    # 30 followers of two jobs, each asking twice a second for 2 s: one poll when each job is first followed
    for _ in range(4):
        assert not any(board.over(scheduler, job) for job in ["7", "8"] * 15)
        ticks.now += 0.5
    assert (scheduler.status_calls, board.polls) == (2, 2)
    # the reconciler's own batched call refreshes the board: the followers ask the scheduler nothing
    for _ in range(20):
        board.publish(scheduler.status(["7", "8"]), asked=("7", "8"))
        assert not any(board.over(scheduler, job) for job in ["7", "8"] * 15)
        ticks.now += 2
    assert board.polls == 2
    scheduler.states["7"] = JobState.COMPLETED
    ticks.now += 6  # the reconciler stopped: the next question polls once, for every followed job
    assert board.over(scheduler, "7") and not board.over(scheduler, "8") and board.polls == 3


def test_a_finished_task_stays_finished_and_an_unreachable_scheduler_is_asked_once_per_max_age() -> None:
    scheduler = FakeBackend()
    ticks = Ticks()
    board = StatusBoard(max_age=5, now=ticks)
    board.publish({"9": BackendStatus(JobState.RUNNING, tasks={0: JobState.COMPLETED, 1: JobState.RUNNING})})
    assert board.over(scheduler, "9", task=0) and not board.over(scheduler, "9", task=1)
    board.publish({"7": BackendStatus(JobState.COMPLETED)})
    scheduler.down = True
    ticks.now += 600  # long after, the scheduler away or the job forgotten by it: still finished
    board.publish({}, asked=("7",))
    assert board.over(scheduler, "7") and board.polls == 0
    assert not board.over(scheduler, "8") and not board.over(scheduler, "8")  # down: not over, asked once
    ticks.now += 6
    assert not board.over(scheduler, "8") and board.polls == 2


def test_slurm_log_followers_read_the_end_from_the_shared_status_not_from_polls_of_their_own(tmp_path: Path) -> None:
    slurm = FakeSlurm()
    backend = SlurmBackend(slurm)
    ticks = Ticks()
    backend.statuses = StatusBoard(max_age=5, now=ticks)
    document = {"name": "chatty", "project": 1, "command": ["true"]}
    job = BackendJob(1, parse_spec(document), "acct", "booster", str(tmp_path), "aif:t:1:x")
    backend_id = backend.submit(job)
    slurm.jobs[backend_id].state = "RUNNING"
    (tmp_path / f"stdout-{backend_id}.log").write_bytes(b"hello\n")

    def follow(offset: int = 6) -> LogChunk:
        return backend.logs(backend_id, str(tmp_path), "stdout", offset)

    assert follow(0) == LogChunk(b"hello\n", 6, False)  # the first question: one poll
    for _ in range(20):  # 30 followers twice a second, the reconciler's batched call every 2 s
        if ticks.now % 2 == 0:
            backend.status([backend_id])
        assert not any(follow().complete for _ in range(30))
        ticks.now += 0.5
    assert sum(c[0] == "squeue" for c in slurm.calls) == 1 + 5  # the first question's poll, then only the reconciler's
    slurm.jobs[backend_id].state = "COMPLETED"
    backend.status([backend_id])  # the reconciler sees it end: every follower now reads its end
    assert all(follow().complete for _ in range(30)) and sum(c[0] == "squeue" for c in slurm.calls) == 1 + 6


def test_stream_slots_limit_each_user_and_everyone() -> None:
    slots = StreamSlots(3, per_user=2)
    slots.take(1)
    slots.take(1)
    with pytest.raises(TooManyStreams, match="2 log streams open already"):
        slots.take(1)
    slots.take(2)
    with pytest.raises(TooManyStreams, match="3 log streams are open already"):
        slots.take(3)
    slots.give(1)
    slots.take(3)
    assert (slots.open, slots.by_user) == (3, {1: 1, 2: 1, 3: 1})
    for user in (1, 2, 3):
        slots.give(user)
    assert (slots.open, slots.by_user) == (0, {})


def test_one_user_cannot_hold_every_live_log_stream(api: Api) -> None:
    ctx = api.client.app.state.ctx
    ctx.log_streams = StreamSlots(64, per_user=2)
    sleeper = {"name": "wait", "project": 1, "command": [sys.executable, "-c", "import time; time.sleep(30)"]}
    job = api.ok("POST", "/jobs", "anna", status=201, json=sleeper)
    path = f"/api/v1/jobs/{job['id']}/logs/stream"
    try:
        with (
            api.client.stream("GET", path, headers=api.auth("anna")) as first,
            api.client.stream("GET", path, headers=api.auth("anna")) as second,
        ):
            assert (first.status_code, second.status_code) == (200, 200)
            body = assert_problem(api.get(f"/jobs/{job['id']}/logs/stream", "anna"), 429)
            assert "the most one user may hold" in body["detail"]
            with api.client.stream("GET", path, headers=api.auth("lars")) as other:
                assert other.status_code == 200  # another member of the project is not held back
    finally:
        api.ok("POST", f"/jobs/{job['id']}/cancel", "anna")
    deadline = time.monotonic() + 10
    while ctx.log_streams.open and time.monotonic() < deadline:  # closed streams give their slots back
        time.sleep(0.1)
    assert (ctx.log_streams.open, ctx.log_streams.by_user) == (0, {})
