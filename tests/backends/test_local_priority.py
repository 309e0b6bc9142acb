"""Low priority on the local backend: a low account's queued GPU tasks start after the normal ones, and its
tasks run under nice 19. Real subprocesses, bounded waits (helpers from tests.support.local_jobs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from aifactory.domain.jobs.execution import BackendJob
from aifactory.domain.jobs.states import JobState
from tests.support.local_jobs import final, job, make, open_gate, read, started_at, wait_for, wait_gate


def for_account(bj: BackendJob, account: str) -> BackendJob:
    return dataclasses.replace(bj, account=account)


def test_low_priority_tasks_run_niced_and_normal_ones_do_not(tmp_path: Path) -> None:
    b = make(tmp_path, gpu_slots=1)
    b.set_low_priority("slow", True)
    b.set_low_priority("slow", True)  # idempotent
    low = for_account(job(tmp_path, 1, {"command": ["nice"]}), "slow")
    normal = for_account(job(tmp_path, 2, {"command": ["nice"]}), "fast")
    ids = [b.submit(low), b.submit(normal)]
    assert [final(b, i).state for i in ids] == [JobState.COMPLETED] * 2
    assert read(b, ids[0], low).strip() == b"19" and read(b, ids[1], normal).strip() == b"0"
    b.set_low_priority("slow", False)
    again = for_account(job(tmp_path, 3, {"command": ["nice"]}), "slow")
    b.submit(again)
    assert final(b, "local-3").state is JobState.COMPLETED and read(b, "local-3", again).strip() == b"0"


def test_queued_gpu_tasks_of_a_low_account_start_after_later_normal_ones(tmp_path: Path) -> None:
    b = make(tmp_path, gpu_slots=1)
    b.set_low_priority("slow", True)

    def gpu_job(job_id: int, account: str, wait: bool = False) -> BackendJob:
        script = f"echo {job_id}\n" + (f"{wait_gate()}\n" if wait else "")
        return for_account(job(tmp_path, job_id, {"script": script, "resources": {"gpus_per_node": 1}}), account)

    holder = gpu_job(1, "fast", wait=True)
    first = b.submit(holder)  # holds the only GPU slot
    wait_for(lambda: read(b, first, holder))
    queued = [b.submit(gpu_job(2, "slow")), b.submit(gpu_job(3, "slow")), b.submit(gpu_job(4, "fast"))]
    states = b.status(queued)
    assert [states[i].state for i in queued] == [JobState.QUEUED] * 3
    open_gate(holder)
    for backend_id in [first, *queued]:
        assert final(b, backend_id).state is JobState.COMPLETED
    order = sorted((1, 2, 3, 4), key=lambda n: started_at(tmp_path, n))
    assert order == [1, 4, 2, 3]  # the normal job 4 overtook the earlier low ones


def test_switching_back_restores_first_come_first_served(tmp_path: Path) -> None:
    b = make(tmp_path, gpu_slots=1)
    b.set_low_priority("slow", True)
    b.set_low_priority("slow", False)
    holder = job(tmp_path, 1, {"script": f"echo holding\n{wait_gate()}\n", "resources": {"gpus_per_node": 1}})
    b.submit(holder)
    wait_for(lambda: read(b, "local-1", holder))
    ids = [
        b.submit(for_account(job(tmp_path, n, {"command": ["true"], "resources": {"gpus_per_node": 1}}), acct))
        for n, acct in ((2, "slow"), (3, "fast"))
    ]
    open_gate(holder)
    for backend_id in ["local-1", *ids]:
        assert final(b, backend_id).state is JobState.COMPLETED
    assert started_at(tmp_path, 2) < started_at(tmp_path, 3)
