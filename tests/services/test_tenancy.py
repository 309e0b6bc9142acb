"""One organization per unconfined executor: a backend that cannot confine jobs (the local executor without its
sandbox) runs the jobs of the first organization only; another's are refused (409, nothing stored) unless the
operator declared a single tenant. A backend that confines them, or cannot tell, runs everyone's."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.domain.errors import Conflict
from aifactory.domain.jobs.states import JobState
from aifactory.services import jobs
from tests.fakes import FakeBackend
from tests.support.jobs_env import JobsEnv


class Unconfined(FakeBackend):
    """A backend whose sandbox could not be made."""

    def __init__(self, confines: bool = False) -> None:
        super().__init__()
        self.confines = confines
        self.asked = 0

    def confines_tenants(self) -> bool:
        self.asked += 1
        return self.confines


def gridwise_spec(env: JobsEnv) -> dict[str, object]:
    """The grid-load project of another organization (GridWise leads it; Daan is its PI)."""
    return {**env.spec(), "project": 2}


def test_an_unconfined_executor_refuses_a_second_organizations_jobs(env: JobsEnv) -> None:
    backend = Unconfined()
    gw = env.gateway(backend)
    assert env.submit(env.spec(), gw=gw).state is JobState.SUBMITTED  # the first organization
    assert env.submit(env.spec(), gw=gw).state is JobState.SUBMITTED  # and again: still one organization
    with pytest.raises(Conflict, match="one organization only") as refused:
        env.submit(gridwise_spec(env), actor=env.actor("daan@gridwise.example"), gw=gw)
    assert "AIFACTORY_LOCAL_SINGLE_TENANT" in str(refused.value) and "backhaus" not in str(refused.value).lower()
    with env.uow_factory(write=False) as uow:
        assert [job.project_id for job in uow.jobs.open_jobs()] == [1, 1]  # nothing stored for the refused one
    assert len(backend.jobs) == 2 and backend.asked == 3  # asked before each transaction, never inside


@pytest.mark.parametrize("how", ["single tenant declared", "sandboxed", "cannot tell"])
def test_several_organizations_share_an_executor_that_confines_them_or_by_the_operators_choice(
    env: JobsEnv, how: str
) -> None:
    backend = FakeBackend() if how == "cannot tell" else Unconfined(confines=how == "sandboxed")
    gw = env.gateway(backend, single_tenant=how == "single tenant declared")
    assert env.submit(env.spec(), gw=gw).state is JobState.SUBMITTED
    second = env.submit(gridwise_spec(env), actor=env.actor("daan@gridwise.example"), gw=gw)
    assert second.state is JobState.SUBMITTED


def test_the_runtime_gateway_takes_the_operators_declaration(tmp_path: Path) -> None:
    from aifactory.config import Settings
    from aifactory.runtime import build_gateway

    declared = build_gateway(Settings(data_dir=tmp_path, local_single_tenant=True))
    assert declared.single_tenant and not build_gateway(Settings(data_dir=tmp_path)).single_tenant
    assert isinstance(declared, jobs.Gateway)
