"""50 parallel submissions against one allocation (each in its own thread, session and transaction) never
overspend it and lose no entry: on PostgreSQL the allocation row is locked (SELECT … FOR UPDATE) before its
balance is read; on SQLite writers are serialized by BEGIN IMMEDIATE. Then 50 parallel settlements of the
same finished job apply once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aifactory.demo import seed_demo
from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.states import JobState
from aifactory.domain.ledger import EntryKind
from aifactory.services import jobs, ledger
from aifactory.services.context import Actor

from ..fakes import FakeBackend

# The bakery's 500 GPU-hours; each job may use 4 GPUs x 4 h x 2 nodes = 32 GPU-hours: 15 fit (480), not 16.
SPEC = {"name": "burst", "project": 1, "command": ["true"], "resources": {"gpus_per_node": 4, "nodes": 2, "time": "4h"}}
FITS = 15


def test_parallel_submissions_never_overspend(uow_factory, clock, tmp_path: Path) -> None:
    seed_demo(uow_factory, clock)
    gw = jobs.Gateway(backend=FakeBackend(), backend_name="inert", site="race", jobs_root=tmp_path)
    with uow_factory(write=False) as uow:
        anna = Actor(uow.users.by_email("anna@backhaus-kiel.example"))

    def submit(i: int) -> str:
        try:
            jobs.submit_job(uow_factory, clock, anna, gw, {**SPEC, "name": f"burst-{i}"})
            return "ok"
        except InvalidInput as exc:
            assert exc.errors[0].field == "resources", exc
            return "refused"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(submit, range(50)))
    assert outcomes.count("ok") == FITS and outcomes.count("refused") == 50 - FITS
    with uow_factory(write=False) as uow:
        alloc = uow.allocations.get(1)
        reserves = uow.ledger.list(_all(), allocation_id=1, kind=EntryKind.RESERVE.value)
        assert reserves.total == FITS == len(uow.jobs.open_jobs())
        assert alloc.reserved_seconds == FITS * 32 * 3600 <= alloc.granted_seconds
        assert ledger.check_ledger(uow)[1] == []


def test_parallel_settlements_of_one_job_apply_once(uow_factory, clock, tmp_path: Path) -> None:
    seed_demo(uow_factory, clock)
    backend = FakeBackend()
    gw = jobs.Gateway(backend=backend, backend_name="inert", site="race", jobs_root=tmp_path)
    with uow_factory(write=False) as uow:
        anna = Actor(uow.users.by_email("anna@backhaus-kiel.example"))
    job = jobs.submit_job(uow_factory, clock, anna, gw, SPEC)
    with uow_factory() as uow:
        uow.jobs.get(job.id).move(JobState.COMPLETED, clock.now(), exit_code=0)
        uow.commit()

    def settle(_: int) -> None:
        with uow_factory() as uow:
            from aifactory.domain.jobs.execution import Usage

            ledger.settle_job(
                uow, clock, uow.jobs.get(job.id), Usage(elapsed_seconds=600, gpus=4, nodes=2, started_at=1.0)
            )
            uow.commit()

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(settle, range(50)))
    with uow_factory(write=False) as uow:
        kinds = [e.kind for e in uow.ledger.for_job(job.id)]
        assert kinds == [EntryKind.RESERVE, EntryKind.CHARGE, EntryKind.RELEASE]
        alloc = uow.allocations.get(1)
        assert (alloc.charged_seconds, alloc.reserved_seconds) == (8 * 600, 0)
        assert ledger.check_ledger(uow)[1] == []


def _all():
    from aifactory.domain.access import PageRequest

    return PageRequest(limit=200)
