"""The ledger through the gateway's use cases: grants, reservations, settlement, top-ups, suspension,
soft quotas, notifications and the consistency check — each figure computed by hand."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from aifactory.domain.enums import AllocationStatus, Enforcement
from aifactory.domain.errors import Forbidden, InvalidInput
from aifactory.domain.jobs.states import JobState
from aifactory.domain.ledger import EntryKind
from aifactory.services import jobs, ledger
from aifactory.services.context import Actor
from tests.support.jobs_env import JobsEnv

OPERATOR = "operator@jaif.example"

GPU_HOUR = 3600
BAKERY_GRANT = 500 * GPU_HOUR  # the demo's bakery project: 500 GPU-hours on booster (playground, hard)


def test_acceptance_grants_and_submission_reserves_the_worst_case(env: JobsEnv, uow_factory, clock) -> None:
    assert env.allocation().balance.granted == BAKERY_GRANT
    job = env.submit(env.spec(gpus=2, minutes=90, resources={"nodes": 2}))
    assert job.reserved_gpu_seconds == 2 * 2 * 90 * 60  # nodes x GPUs x time limit
    a = env.allocation()
    assert (a.reserved_seconds, a.charged_seconds, a.balance.available) == (21600, 0, BAKERY_GRANT - 21600)
    with uow_factory(write=False) as uow:
        assert [(e.kind, e.amount) for e in uow.ledger.for_job(job.id)] == [(EntryKind.RESERVE, 21600)]


def test_settlement_charges_use_and_releases_the_reservation_once(env: JobsEnv, uow_factory, clock) -> None:
    job = env.submit(env.spec(gpus=4, minutes=60))
    env.finish(job, JobState.COMPLETED, 900)
    a = env.allocation()
    assert (a.charged_seconds, a.reserved_seconds) == (4 * 900, 0)  # 4 GPUs x 15 min = 1 GPU-hour
    with uow_factory(write=False) as uow:
        entries = [(e.kind, e.amount, e.gpu_seconds) for e in uow.ledger.for_job(job.id)]
        assert entries == [(EntryKind.RESERVE, 14400, 0), (EntryKind.CHARGE, 3600, 3600), (EntryKind.RELEASE, 14400, 0)]
        stored = uow.jobs.get(job.id)
        assert ledger.settle_job(uow, clock, stored, None) is None  # applied twice: nothing changes
        uow.commit()
    env.reconcile()
    assert env.allocation().balance == a.balance


@pytest.mark.parametrize(
    ("state", "used", "charged"),
    [
        (JobState.TIMEOUT, 1830, 2 * 30 * 60),  # killed at its limit: charged its limit, not the grace after it
        (JobState.FAILED, 0, 0),  # never started: nothing
        (JobState.COMPLETED, 61, 2 * 61),
    ],
)
def test_what_a_finished_job_is_charged(env: JobsEnv, uow_factory, clock, state, used, charged) -> None:
    job = env.submit(env.spec(gpus=2, minutes=30))
    env.finish(job, state, used)
    a = env.allocation()
    assert (a.charged_seconds, a.reserved_seconds) == (charged, 0)


def test_a_job_cancelled_before_the_backend_had_it_is_charged_nothing(env: JobsEnv, uow_factory, clock) -> None:
    env.backend.down = True  # the job stays pending
    job = env.submit(env.spec())
    assert job.state is JobState.PENDING and env.allocation().reserved_seconds == 1800
    jobs.cancel_job(uow_factory, clock, env.anna, env.gw, job.id)
    env.backend.down = False  # the backend is asked whether it has the job after all: it has not
    env.reconcile()
    a = env.allocation()
    assert (a.charged_seconds, a.reserved_seconds) == (0, 0)


def test_cpu_only_and_memory_heavy_jobs_pay_the_node_share_they_block(env: JobsEnv, uow_factory, clock) -> None:
    cpu = env.submit(env.spec(gpus=0, minutes=60, resources={"cpus_per_task": 144}))
    assert cpu.reserved_gpu_seconds == 2 * 3600  # half of a 288-CPU, 4-GPU node = 2 GPUs
    mem = env.submit(env.spec(gpus=1, minutes=60, resources={"memory": "480G"}))
    assert mem.reserved_gpu_seconds == 4 * 3600  # all of the memory: the whole node, more than its 1 GPU


def test_hard_enforcement_refuses_what_the_balance_cannot_cover(env: JobsEnv, uow_factory, clock) -> None:
    big = env.spec(gpus=4, minutes=240, resources={"nodes": 30})  # 480 GPU-hours of the 500 (playground: 4 h max)
    env.submit(big)
    with pytest.raises(InvalidInput, match=r"may use 480.0 GPU-hours .*has 20.0 left") as exc:
        env.submit(big)
    assert exc.value.errors[0].field == "resources"
    with uow_factory(write=False) as uow:
        assert len(uow.jobs.open_jobs()) == 1 and uow.allocations.get(1).reserved_seconds == 480 * GPU_HOUR


def test_top_up_suspend_and_resume(env: JobsEnv, uow_factory, clock) -> None:
    with uow_factory(write=False) as uow:
        op = Actor(uow.users.by_email(OPERATOR))
    with pytest.raises(Forbidden), uow_factory() as uow:
        ledger.adjust(uow, clock, env.anna, 1, 100, "more please")
    with pytest.raises(InvalidInput, match="reason"), uow_factory() as uow:
        ledger.adjust(uow, clock, op, 1, 100, " ")
    with pytest.raises(InvalidInput, match="below zero"), uow_factory() as uow:
        ledger.adjust(uow, clock, op, 1, -501, "correction")
    for _ in range(2):  # a retried request with the same key counts once
        with uow_factory() as uow:
            ledger.adjust(uow, clock, op, 1, 250.5, "second phase of the pilot", key="ticket-42")
    assert env.allocation().balance.granted == BAKERY_GRANT + 250.5 * GPU_HOUR
    with uow_factory() as uow:
        ledger.set_suspended(uow, clock, op, 1, True, "unpaid invoice")
    with pytest.raises(InvalidInput, match="allocation is suspended"):
        env.submit(env.spec())
    with uow_factory() as uow:
        ledger.set_suspended(uow, clock, op, 1, False, "")
    assert env.submit(env.spec()).state is JobState.SUBMITTED


def test_an_expired_allocation_refuses_new_jobs_but_charges_running_ones(env: JobsEnv, uow_factory, clock) -> None:
    job = env.submit(env.spec(gpus=1, minutes=60))
    clock.advance(days=120)  # the 3-month allocation has ended
    with pytest.raises(InvalidInput, match="allocation is expired"):
        env.submit(env.spec())
    env.finish(job, JobState.COMPLETED, 1200)
    assert env.allocation().charged_seconds == 1200


def test_thresholds_notify_once_each(env: JobsEnv, uow_factory, clock) -> None:
    for hours in (100, 100, 60):  # 20 %, 40 %, 52 % of 500: one notification, at 50 %
        env.charge_hours(hours, nodes=8)
    with uow_factory(write=False) as uow:
        assert uow.notifications.events(1) == {"threshold-50"}
    for hours in (98, 98):  # 71.6 %, 91.2 %
        env.charge_hours(hours, nodes=7)
    env.charge_hours(24, nodes=2)  # 96 %
    with uow_factory(write=False) as uow:
        assert uow.notifications.events(1) == {"threshold-50", "threshold-80", "threshold-95"}
        assert uow.allocations.get(1).charged_seconds == 480 * GPU_HOUR


def test_soft_enforcement_runs_overdrawn_projects_at_low_priority(env: JobsEnv, uow_factory, clock) -> None:
    with uow_factory() as uow:  # the bakery's call switches to JSC's soft model
        uow.calls.get(uow.proposals.get(uow.projects.get(1).proposal_id).call_id).enforcement = Enforcement.SOFT
        uow.commit()
    # 500 GPU-hours over March-June 2026 (the allocation starts on 2 March and lasts 3 months): 4 monthly
    # quotas of 125 h. Using 130 h in March overdraws March's quota.
    env.charge_hours(130, nodes=10)
    assert env.allocation().low_priority
    huge = env.spec(gpus=4, minutes=240, resources={"nodes": 30})  # 480 GPU-hours: more than the 370 left
    assert env.submit(huge).state is JobState.SUBMITTED  # soft: it runs
    clock.advance(days=31)  # April: a fresh quota (March's unused part carries over; here there is none)
    with uow_factory() as uow:
        alloc = uow.allocations.get(1)
        state = ledger.soft_quota(uow, clock, alloc)
        assert (state.month, state.quota, state.carried_over, state.overdrawn) == ("2026-04", 125 * 3600, 0, False)


def test_check_ledger_proves_the_sums_and_finds_tampering(env: JobsEnv, uow_factory, clock) -> None:
    job = env.submit(env.spec())
    env.finish(job, JobState.COMPLETED, 300)
    env.submit(env.spec())  # still open: reserved
    with uow_factory(write=False) as uow:
        checked, problems = ledger.check_ledger(uow)
    assert checked == 2 and problems == []  # the demo's two accepted projects
    with uow_factory() as uow:
        uow.session.execute(text("UPDATE allocations SET charged_seconds = charged_seconds + 1 WHERE id = 1"))
        uow.commit()
    with uow_factory(write=False) as uow:
        _, problems = ledger.check_ledger(uow)
    assert [(p.allocation_id, "differ" in p.problem) for p in problems] == [(1, True)]


def test_a_job_cancelled_while_running_is_charged_what_it_used(env: JobsEnv, uow_factory, clock) -> None:
    job = env.submit(env.spec())
    env.backend.states[job.backend_id] = JobState.RUNNING
    env.reconcile()
    env.backend.used[job.backend_id] = 10
    jobs.cancel_job(uow_factory, clock, env.anna, env.gw, job.id)
    env.reconcile()
    a = env.allocation()
    assert a.status is AllocationStatus.ACTIVE and (a.charged_seconds, a.reserved_seconds) == (10, 0)


def test_the_ledger_is_append_only_in_the_database(env: JobsEnv, uow_factory, clock) -> None:
    for statement in ("UPDATE ledger_entries SET amount = 1", "DELETE FROM ledger_entries"):
        with pytest.raises(DBAPIError, match="append-only"), uow_factory() as uow:
            uow.session.execute(text(statement))
            uow.commit()
    with uow_factory(write=False) as uow:
        assert uow.ledger.by_key("grant:allocation:1").amount == BAKERY_GRANT


def test_a_hard_allocation_used_up_is_exhausted_until_a_top_up(env: JobsEnv, uow_factory, clock) -> None:
    env.charge_hours(480, nodes=30)
    env.charge_hours(16, nodes=1)  # 496
    assert env.allocation().status is AllocationStatus.ACTIVE
    last = env.submit(env.spec(gpus=4, minutes=60))
    env.finish(last, JobState.COMPLETED, 3600)  # 500 of 500
    assert env.allocation().status is AllocationStatus.EXHAUSTED
    with pytest.raises(InvalidInput, match="allocation is exhausted"):
        env.submit(env.spec())
    with uow_factory(write=False) as uow:
        assert "exhausted" in uow.notifications.events(1)
        op = Actor(uow.users.by_email(OPERATOR))
    with uow_factory() as uow:
        ledger.adjust(uow, clock, op, 1, 10, "bridge until the next call")
    assert env.allocation().status is AllocationStatus.ACTIVE
    assert env.submit(env.spec()).state is JobState.SUBMITTED
