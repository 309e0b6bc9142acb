"""Job inputs resolved by the gateway (``services.job_inputs``): a stored file of the job's project reaches the
backend as a staged input with its server path, also when the handover is retried by the reconciler after the
backend did not answer; a site without project storage refuses inputs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.execution import StagedInput
from aifactory.domain.storage import Limits, StoredFile
from aifactory.services.storage_disk import StorageArea
from tests.support.jobs_env import JobsEnv


def _stored(env: JobsEnv, area: StorageArea, name: str, data: bytes) -> Path:
    path = area.project_dir(1) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    now = env.clock.now()
    with env.uow_factory() as uow:
        uow.storage.add(
            StoredFile(
                project_id=1,
                name=name,
                size=len(data),
                sha256="0" * 64,
                created_by=None,
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()
    return path


def test_a_retried_handover_carries_the_inputs_resolved_again(env: JobsEnv, tmp_path: Path) -> None:
    area = StorageArea(data_dir=tmp_path / "data", defaults=Limits(1 << 30, 1000))
    gw = dataclasses.replace(env.gw, storage=area)
    path = _stored(env, area, "sales/kiel.csv", b"a,b\n")
    env.backend.down = True
    job = env.submit(env.spec(gpus=0, inputs={"sales": {"storage": "sales/kiel.csv"}}), gw=gw)
    assert job.backend_id is None  # left for the reconciler
    env.backend.down = False
    env.clock.advance(seconds=600)
    env.reconcile(gw)
    (handed,) = env.backend.jobs.values()
    assert handed.inputs == (StagedInput("sales", str(path), False),)
    assert handed.inputs[0].env_key == "AIF_INPUT_SALES"


def test_a_site_without_storage_refuses_inputs(env: JobsEnv) -> None:
    with pytest.raises(InvalidInput) as refused:
        env.submit(env.spec(gpus=0, inputs={"sales": {"dataset": "kiel-bakery-sales"}}))
    assert refused.value.errors[0].field == "inputs"
    assert env.backend.jobs == {}
