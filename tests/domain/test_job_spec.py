"""The job spec: schema errors name the field, defaults and units are parsed, sweeps expand, and job
states only move forward."""

from __future__ import annotations

import pytest

from aifactory.domain.errors import Conflict, InvalidInput
from aifactory.domain.jobs.spec import JOB_SPEC_SCHEMA, parse_memory_mb, parse_spec, parse_time_minutes
from aifactory.domain.jobs.states import TERMINAL, JobState, can_move, check_move

BASE = {"name": "train", "project": 3, "command": ["python", "train.py"]}


def test_defaults() -> None:
    spec = parse_spec(BASE)
    assert (spec.resources.nodes, spec.resources.gpus_per_node, spec.resources.time_minutes) == (1, 0, 60)
    assert spec.tasks == 1 and spec.launcher == "none" and spec.array is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bogus": 1}, "bogus"),
        ({"resources": {"gpus": 2}}, "resources.gpus"),
        ({"name": "a b"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"resources": {"nodes": 0}}, "resources.nodes"),
        ({"resources": {"memory": "lots"}}, "resources.memory"),
        ({"resources": {"time": "soon"}}, "resources.time"),
        ({"container": {"image": "ubuntu"}}, "container.image"),
        ({"array": {"range": "5-1"}}, "array.range"),
        ({"array": {"range": "0-3", "grid": {"a": [1]}}}, "array"),
        ({"env": {"SLURM_JOB_ID": "1"}}, "env.SLURM_JOB_ID"),
        ({"env": {"CUDA_VISIBLE_DEVICES": "0,1"}}, "env.CUDA_VISIBLE_DEVICES"),
        ({"launcher": "mpirun"}, "launcher"),
    ],
)
def test_bad_specs_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_spec({**BASE, **change})
    assert field in [e.field for e in exc.value.errors], exc.value.errors


def test_command_and_script_are_exclusive_and_one_is_required() -> None:
    for doc in ({"name": "t", "project": 1}, {**BASE, "script": "echo"}):
        with pytest.raises(InvalidInput, match="exactly one of 'command'"):
            parse_spec(doc)


def test_missing_name_is_named() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_spec({"project": 1, "command": ["x"]})
    assert exc.value.errors[0].field == "name"


def test_not_a_mapping() -> None:
    with pytest.raises(InvalidInput, match="mapping"):
        parse_spec(["a"])


def test_torchrun_needs_a_command() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_spec({"name": "t", "project": 1, "script": "x", "launcher": "torchrun"})
    assert exc.value.errors[0].field == "launcher"


def test_grid_expands_to_the_cartesian_product_in_order() -> None:
    spec = parse_spec({**BASE, "array": {"grid": {"lr": [0.1, 0.01], "depth": [3, 6, 9]}, "max_parallel": 2}})
    assert spec.tasks == 6
    assert spec.array.grid[0] == {"lr": 0.1, "depth": 3} and spec.array.grid[5] == {"lr": 0.01, "depth": 9}
    assert spec.array.slurm_range() == "0-5%2"


def test_range_with_step_renders_as_list() -> None:
    spec = parse_spec({**BASE, "array": {"range": "0-8:4"}})
    assert spec.array.indices == (0, 4, 8) and spec.array.slurm_range() == "0,4,8"


def test_too_many_tasks_refused() -> None:
    with pytest.raises(InvalidInput, match="at most 10000"):
        parse_spec({**BASE, "array": {"grid": {"a": list(range(200)), "b": list(range(100))}}})


@pytest.mark.parametrize(("text", "mb"), [("512", 512), ("512M", 512), ("16G", 16384), ("1T", 1048576), ("2048K", 2)])
def test_memory(text: str, mb: int) -> None:
    assert parse_memory_mb(text) == mb


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        (30, 30),
        ("30", 30),
        ("10:30", 11),
        ("01:30:00", 90),
        ("2-00", 2880),
        ("2-01:30", 2970),
        ("90m", 90),
        ("3h", 180),
    ],
)
def test_time(value, minutes: int) -> None:
    assert parse_time_minutes(value) == minutes


def test_time_bounds() -> None:
    with pytest.raises(InvalidInput, match="resources.time"):
        parse_time_minutes(0)


def test_schema_is_closed_everywhere() -> None:
    assert JOB_SPEC_SCHEMA["additionalProperties"] is False
    for key in ("resources", "container", "array"):
        assert JOB_SPEC_SCHEMA["properties"][key]["additionalProperties"] is False


def test_states_move_forward_only() -> None:
    assert can_move(JobState.PENDING, JobState.RUNNING)  # polls may skip states
    assert can_move(JobState.SUBMITTED, JobState.COMPLETED)
    assert not can_move(JobState.RUNNING, JobState.QUEUED)
    for final in TERMINAL:
        assert not can_move(final, JobState.RUNNING)
        with pytest.raises(Conflict, match=f"from {final.value}"):
            check_move(final, JobState.CANCELLED)


def test_job_move_records_history_and_times() -> None:
    from datetime import UTC, datetime, timedelta

    from aifactory.domain.jobs.model import Job

    t0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    job = Job(
        project_id=1,
        allocation_id=1,
        resource_id=1,
        submitted_by=1,
        name="j",
        spec={},
        backend="local",
        created_at=t0,
        updated_at=t0,
    )
    assert job.move(JobState.QUEUED, t0 + timedelta(seconds=1))
    assert not job.move(JobState.QUEUED, t0 + timedelta(seconds=2))  # no change, no event
    job.move(JobState.TIMEOUT, t0 + timedelta(minutes=5), "time limit")
    assert [e.state for e in job.events] == [JobState.QUEUED, JobState.TIMEOUT]
    assert job.submitted_at == t0 + timedelta(seconds=1) and job.finished_at == t0 + timedelta(minutes=5)
    assert job.terminal and job.reason == "time limit"
    with pytest.raises(Conflict):
        job.move(JobState.RUNNING, t0 + timedelta(minutes=6))


def _admission(spec_doc: dict, used: float = 0, gpu_hours: int = 100, **alloc):
    from datetime import UTC, date, datetime

    from aifactory.domain.enums import AllocationStatus
    from aifactory.domain.jobs.admission import check_admission, worst_case_billing
    from aifactory.domain.projects import Allocation
    from aifactory.domain.sites import Resource

    res = Resource(name="booster", nodes=4, gpus_per_node=4, cpus_per_node=72, memory_gb_per_node=480)
    a = Allocation(
        resource_id=1,
        gpu_hours=gpu_hours,
        start_date=alloc.get("start", date(2026, 3, 1)),
        end_date=date(2026, 5, 31),
        status=AllocationStatus(alloc.get("status", "active")),
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        granted_seconds=gpu_hours * 3600,
        charged_seconds=round(used * 3600),
    )
    spec = parse_spec({**BASE, **spec_doc})
    check_admission(
        spec,
        resource=res,
        max_wall_hours=24,
        allocation=a,
        today=date(2026, 3, 2),
        need_seconds=worst_case_billing(spec, res),
    )


def test_admission_checks_node_shape_wall_time_and_budget() -> None:
    _admission({"resources": {"nodes": 2, "gpus_per_node": 4, "time": "10:00:00"}}, gpu_hours=80)  # exactly 80
    with pytest.raises(InvalidInput) as exc:
        _admission(
            {"resources": {"nodes": 5, "gpus_per_node": 5, "cpus_per_task": 100, "memory": "500G", "time": "25:00:00"}}
        )
    assert [e.field for e in exc.value.errors] == [
        "resources.gpus_per_node",
        "resources.nodes",
        "resources.cpus_per_task",
        "resources.memory",
        "resources.time",
        "resources",
    ]  # and over budget
    with pytest.raises(InvalidInput, match=r"may use 16.0 GPU-hours \(its worst case\); the allocation has 10.0 left"):
        _admission({"resources": {"gpus_per_node": 4, "time": "4h"}}, used=90)
    with pytest.raises(InvalidInput, match="allocation is suspended"):
        _admission({}, status="suspended")
    with pytest.raises(InvalidInput, match="starts on 2026-04-01"):
        from datetime import date

        _admission({}, start=date(2026, 4, 1))
