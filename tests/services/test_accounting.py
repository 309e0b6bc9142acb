"""The accounting pass against a recording fake scheduler: soft-policy priorities (switched once, lifted in
a new month), hard limits derived from the ledger, and jobs run outside the gateway charged once — with the
records it must not charge counted by reason; accounts set up at acceptance, and one account's failure never
stopping the others."""

from __future__ import annotations

from datetime import timedelta

from aifactory.domain.enums import AllocationStatus, Enforcement, ProposalStatus
from aifactory.domain.jobs.execution import ExternalUsage
from aifactory.domain.jobs.states import JobState
from aifactory.services import accounting, jobs, proposals
from aifactory.services.accounting import AccountingState, accounting_pass
from aifactory.services.ports import BackendUnavailable
from tests.fakes import FakeScheduler
from tests.support.jobs_env import JobsEnv

GPU_HOUR = 3600


def record(clock, account: str, **kw) -> ExternalUsage:
    end = clock.now().timestamp() - 60
    base = dict(
        backend_id="9001",
        account=account,
        partition="booster",
        user="anna",
        comment="",
        state=JobState.COMPLETED,
        start=end - 1800,
        end=end,
        elapsed_seconds=1800,
        nodes=1,
        gpus=2,
        cpus=8,
        memory_mb=1000,
        time_limit_seconds=3600,
    )
    return ExternalUsage(**{**base, **kw})


def setup(env: JobsEnv) -> tuple[jobs.Gateway, FakeScheduler, str]:
    scheduler = FakeScheduler()
    with env.uow_factory(write=False) as uow:
        account = uow.projects.get(1).slurm_account
    return env.gateway(scheduler), scheduler, account


def test_hard_limits_follow_the_ledger(env: JobsEnv, uow_factory, clock) -> None:
    gw, scheduler, account = setup(env)
    state = AccountingState()
    scheduler.slurm_used[account] = 30  # the scheduler counted 30 GPU-minutes already
    accounting.sync_limits(uow_factory, clock, gw, state)
    assert ("limit", account, 30 + 500 * 60) in scheduler.told
    scheduler.told.clear()
    accounting.sync_limits(uow_factory, clock, gw, state)
    assert scheduler.told == []  # unchanged: the scheduler is not asked again
    env.charge_hours(100, nodes=8, gw=gw)
    accounting.sync_limits(uow_factory, clock, gw, state)
    assert scheduler.told == [("limit", account, 30 + 400 * 60)]


def test_soft_priority_switches_once_and_lifts_in_a_new_month(env: JobsEnv, uow_factory, clock) -> None:
    gw, scheduler, account = setup(env)
    with uow_factory() as uow:
        uow.calls.get(uow.proposals.get(uow.projects.get(1).proposal_id).call_id).enforcement = Enforcement.SOFT
        uow.commit()
    state = AccountingState()
    env.charge_hours(130, nodes=10, gw=gw)  # March's quota is 125 h
    assert accounting.sync_priorities(uow_factory, clock, gw, state) == {account: True}
    assert accounting.sync_priorities(uow_factory, clock, gw, state) == {}
    clock.advance(days=31)
    assert accounting.sync_priorities(uow_factory, clock, gw, state) == {account: False}
    assert [t for t in scheduler.told if t[0] == "priority"] == [
        ("priority", account, True),
        ("priority", account, False),
    ]


def test_jobs_run_outside_the_gateway_are_charged_once(env: JobsEnv, uow_factory, clock) -> None:
    gw, scheduler, account = setup(env)
    scheduler.records = [
        record(clock, account),  # 2 GPUs x 30 min = 1 GPU-hour
        record(clock, account, backend_id="9002", comment="aif:jupiter:17:abc"),  # the gateway's own: skipped
        record(clock, account, backend_id="9003", partition="develop"),  # no allocation there
        record(clock, account, backend_id="9004", start=None, elapsed_seconds=0),  # never ran
        record(clock, account, backend_id="9005", end=clock.now().timestamp() + 7200),  # server clock behind
        record(clock, "someone_else", backend_id="9006"),
    ]
    state = AccountingState()
    charged, skipped = accounting.import_external(uow_factory, clock, gw, state)
    assert charged == 1
    assert skipped == {
        "no allocation on that partition": 1,
        "never started": 1,
        "ends in the future (clock skew)": 1,
    }  # other accounts are never asked for
    assert accounting.import_external(uow_factory, clock, gw, state) == (0, skipped)  # idempotent
    with uow_factory(write=False) as uow:
        alloc = uow.allocations.get(1)
        assert alloc.charged_seconds == GPU_HOUR
        entry = uow.ledger.by_key("external:jupiter:9001")
        assert (entry.source, entry.external_id, entry.gpu_seconds) == ("slurm-external", "9001", 2 * 1800)


def test_a_pass_runs_when_due(env: JobsEnv, uow_factory, clock) -> None:
    gw, scheduler, account = setup(env)
    state = AccountingState(interval=timedelta(minutes=2))
    assert accounting_pass(uow_factory, clock, gw, state) is not None
    assert accounting_pass(uow_factory, clock, gw, state) is None  # not due yet
    clock.advance(minutes=3)
    report = accounting_pass(uow_factory, clock, gw, state)
    assert report is not None and report.limits_set == {}  # nothing changed since the first pass


def test_a_backend_without_accounting_is_asked_nothing_of_it(env: JobsEnv, uow_factory, clock) -> None:
    with uow_factory() as uow:
        uow.calls.get(uow.proposals.get(uow.projects.get(1).proposal_id).call_id).enforcement = Enforcement.SOFT
        uow.commit()
    env.charge_hours(130, nodes=10)  # overdrawn: low priority wanted, but the plain fake cannot do it
    state = AccountingState()
    report = accounting_pass(uow_factory, clock, env.gw, state, force=True)
    assert report is not None and (report.limits_set, report.external_charged, report.external_skipped) == ({}, 0, {})
    assert state.priorities == {} and state.limits == {}  # nothing was told, so it is asked again next time
    assert not isinstance(env.backend, accounting.PriorityBackend) and isinstance(
        FakeScheduler(), accounting.AccountingBackend
    )


class NoAssociationYet(FakeScheduler):
    """Slurm before an account exists: its usage counter cannot be read (``scontrol``: no association)."""

    def __init__(self, missing: set[str]) -> None:
        super().__init__()
        self.missing = missing

    def account_gpu_minutes_used(self, account: str) -> int:
        if account in self.missing:
            raise LookupError(f"Slurm has no association for account {account!r}")
        return super().account_gpu_minutes_used(account)


def test_one_account_s_failure_never_stops_the_others_and_is_retried(env: JobsEnv, uow_factory, clock) -> None:
    with uow_factory(write=False) as uow:
        bakery, grid = (
            uow.projects.by_proposal(env.demo.proposal_ids[k]).slurm_account for k in ("bakery", "gridwise")
        )
    scheduler = NoAssociationYet({bakery})
    gw, state = env.gateway(scheduler), AccountingState()
    report = accounting_pass(uow_factory, clock, gw, state, force=True)
    assert report is not None and list(report.failures) == [bakery] and "LookupError" in report.failures[bakery]
    assert grid in report.limits_set and [t[1] for t in scheduler.told if t[0] == "limit"] == [grid]
    scheduler.missing.clear()
    assert accounting_pass(uow_factory, clock, gw, state) is None  # not due, and the failed one waits its backoff
    clock.advance(seconds=1)
    report = accounting_pass(uow_factory, clock, gw, state)  # the next cycle retries it
    assert report is not None and report.limits_set == {bakery: 500 * 60} and report.failures == {}


def test_a_failing_step_does_not_stop_the_others(env: JobsEnv, uow_factory, clock) -> None:
    class NoAccounting(FakeScheduler):
        def finished_jobs(self, accounts, since):  # type: ignore[no-untyped-def]
            raise BackendUnavailable("slurmdbd is away")

    gw, state = env.gateway(NoAccounting()), AccountingState()
    report = accounting_pass(uow_factory, clock, gw, state, force=True)
    assert report is not None and "slurmdbd is away" in report.failures["outside jobs"]
    assert len(report.limits_set) == 2  # the bakery's and GridWise's accounts got their limits all the same


def test_an_accepted_project_gets_its_account_and_limit_before_any_job(env: JobsEnv, uow_factory, clock) -> None:
    gw, scheduler, _ = setup(env)
    state = AccountingState()
    accounting_pass(uow_factory, clock, gw, state)  # the first pass: every account
    scheduler.told.clear()
    scheduler.accounts.clear()
    assert accounting_pass(uow_factory, clock, gw, state) is None  # a cycle with nothing new does nothing
    with uow_factory() as uow:
        accepted = proposals.submit(uow, clock, env.actor("eva@juelich.example"), env.demo.proposal_ids["juelich"])
    assert accepted.status is ProposalStatus.ACCEPTED  # a playground request under the threshold
    report = accounting_pass(uow_factory, clock, gw, state)  # the cycle the acceptance kicked; not yet due
    with uow_factory(write=False) as uow:
        account = uow.projects.by_proposal(accepted.stored_id).slurm_account
        assert uow.jobs.open_jobs() == []
    assert [a.account for a in scheduler.accounts] == [account]
    assert report is not None and report.limits_set == {account: 300 * 60}  # 300 GPU-hours, nothing used
    assert scheduler.told == [("limit", account, 300 * 60)]


def test_soft_projects_get_no_limit_and_suspended_ones_nothing_more(env: JobsEnv, uow_factory, clock) -> None:
    gw, scheduler, account = setup(env)
    with uow_factory() as uow:
        uow.calls.get(uow.proposals.get(uow.projects.get(1).proposal_id).call_id).enforcement = Enforcement.SOFT
        uow.commit()
    scheduler.slurm_used[account] = 30
    state = AccountingState()
    accounting.sync_limits(uow_factory, clock, gw, state)
    assert ("limit", account, None) in scheduler.told  # overdrawn soft projects run at low priority instead
    with uow_factory() as uow:
        uow.allocations.get(1).status = AllocationStatus.SUSPENDED
        uow.commit()
    accounting.sync_limits(uow_factory, clock, gw, state)
    assert scheduler.told[-1] == ("limit", account, 30)  # what it used: not a GPU-minute more
