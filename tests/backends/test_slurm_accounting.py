"""The Slurm backend's accounting calls (finished jobs, GPU-minute limits, QoS) against a fake runner.

The sacct records are trimmed from ``sacct --json -a -A aifactory-test`` on the dev cluster (Slurm 22.05.8):
job 1771 ran ``--gres=gpu:2 --comment aif:fixture:1 --wrap 'sleep 2'``, 1772 is an array 0-1 (task 0 has its
own id 1773). The assoc_mgr text is ``scontrol show assoc_mgr accounts=... flags=assoc`` from the same cluster.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest

from aifactory.backends.slurm.accounting import parse_finished, parse_gpu_minutes_used
from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.domain.jobs.execution import ExternalUsage
from aifactory.domain.jobs.states import JobState
from aifactory.services.ports import BackendUnavailable
from tests.support.slurm_runner import FakeRunner, ok

_TRES = [
    {"type": "cpu", "name": None, "id": 1, "count": 1},
    {"type": "mem", "name": None, "id": 2, "count": 1024},
    {"type": "energy", "name": None, "id": 3, "count": None},
    {"type": "node", "name": None, "id": 4, "count": 1},
    {"type": "billing", "name": None, "id": 5, "count": 1},
    {"type": "gres", "name": "gpu", "id": 1001, "count": 2},
]
JOB_1771: dict[str, Any] = {
    "account": "aifactory-test",
    "comment": {"administrator": None, "job": "aif:fixture:1", "system": None},
    "allocation_nodes": 1,
    "array": {"job_id": 0, "limits": {"max": {"running": {"tasks": 0}}}, "task": None, "task_id": None},
    "association": {"account": "aifactory-test", "cluster": "aifactory", "partition": None, "user": "root"},
    "cluster": "aifactory",
    "job_id": 1771,
    "name": "wrap",
    "partition": "booster",
    "qos": "normal",
    "state": {"current": "COMPLETED", "reason": "None"},
    "steps": [
        {
            "step": {"job_id": 1771, "het": {"component": None}, "id": "batch", "name": "batch"},
            "state": "COMPLETED",
            "tres": {"allocated": _TRES},
        }
    ],
    "tres": {"allocated": _TRES},
    "user": "root",
    "time": {
        "elapsed": 2,
        "eligible": 1795458154,
        "end": 1795458156,
        "start": 1795458154,
        "submission": 1795458154,
        "suspended": 0,
        "system": {"seconds": 0, "microseconds": 0},
        "limit": 1,
        "total": {"seconds": 0, "microseconds": 0},
        "user": {"seconds": 0, "microseconds": 0},
    },
    "exit_code": {"status": "SUCCESS", "return_code": 0},
}

ASSOC_MGR = """Current Association Manager state

Association Records

ClusterName=aifactory Account=p7 UserName= Partition= Priority=0 ID=3
    SharesRaw/Norm/Level/Factor=1/0.33/3/0.00
    UsageRaw/Norm/Efctv=230.68/0.67/0.67
    ParentAccount=root(1) Lft=18 DefAssoc=No
    GrpJobs=N(0) GrpJobsAccrue=N(0)
    GrpSubmitJobs=N(0) GrpWall=N(3.84)
    GrpTRES=cpu=N(0),mem=N(0),energy=N(0),node=N(0),billing=N(0),fs/disk=N(0),vmem=N(0),pages=N(0),gres/gpu=N(0)
    GrpTRESMins=cpu=N(3),mem=N(3936),energy=N(0),node=N(3),billing=N(3),fs/disk=N(0),vmem=N(0),pages=N(0),gres/gpu=600(42)
    GrpTRESRunMins=cpu=N(0),mem=N(0),energy=N(0),node=N(0),billing=N(0),fs/disk=N(0),vmem=N(0),pages=N(0),gres/gpu=N(7)
    MaxJobs= MaxJobsAccrue= MaxSubmitJobs= MaxWallPJ=
ClusterName=aifactory Account=p7 UserName=root(0) Partition= Priority=0 ID=4
    SharesRaw/Norm/Level/Factor=1/0.50/2/0.50
    GrpTRESMins=cpu=N(0),mem=N(0),energy=N(0),node=N(0),billing=N(0),fs/disk=N(0),vmem=N(0),pages=N(0),gres/gpu=N(99)
"""


def record(**changes: Any) -> dict[str, Any]:
    rec = copy.deepcopy(JOB_1771)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(rec.get(key), dict):
            rec[key].update(value)
        else:
            rec[key] = value
    return rec


def sacct_json(*jobs: dict[str, Any]) -> str:
    return json.dumps({"meta": {}, "errors": [], "jobs": list(jobs)})


def array_task(job_id: int, task: int, gpus: int = 1) -> dict[str, Any]:
    tres = [dict(t, count=gpus) if t["type"] == "gres" else t for t in _TRES]
    return record(
        job_id=job_id,
        array={"job_id": 1772, "task_id": task},
        tres={"allocated": tres},
        comment={"job": None},
        time={"elapsed": 0},
    )


# ---------------------------------------------------------------- sacct --json


def test_a_finished_gpu_job_is_read_with_its_tres_and_comment() -> None:
    [usage] = parse_finished(sacct_json(JOB_1771))
    assert usage == ExternalUsage(
        backend_id="1771",
        account="aifactory-test",
        partition="booster",
        user="root",
        comment="aif:fixture:1",
        state=JobState.COMPLETED,
        start=1795458154.0,
        end=1795458156.0,
        elapsed_seconds=2,
        nodes=1,
        gpus=2,
        cpus=1,
        memory_mb=1024,
        time_limit_seconds=60,
    )


def test_array_tasks_are_records_of_their_own_and_steps_are_skipped() -> None:
    flat_step = record(job_id="1771.batch", step={"id": "batch"})  # as newer Slurm versions could list a step
    usages = parse_finished(sacct_json(array_task(1772, 1), array_task(1773, 0, gpus=3), flat_step))
    assert [(u.backend_id, u.gpus, u.comment) for u in usages] == [("1772_1", 1, ""), ("1772_0", 3, "")]


def test_only_finished_jobs_and_odd_records_are_skipped_without_crashing() -> None:
    running = record(job_id=1800, state={"current": "RUNNING"})
    pending = record(job_id=1801, state={"current": "PENDING"}, time={"start": 0, "end": 0})
    weird_state = record(job_id=1802, state={"current": "SOMETHING_NEW"})
    no_id = record()
    del no_id["job_id"]
    bad_tres = record(job_id=1803, tres={"allocated": [{"type": "gres", "name": "gpu", "count": "lots"}]})
    failed = record(job_id=1804, state={"current": "FAILED"}, comment=None, user=None)
    cancelled_unstarted = record(job_id=1805, state={"current": "CANCELLED by 0"}, time={"start": 0, "elapsed": 0})
    usages = parse_finished(
        sacct_json(running, pending, weird_state, no_id, "not a dict", bad_tres, failed, cancelled_unstarted, JOB_1771)
    )
    by_id = {u.backend_id: u for u in usages}
    assert sorted(by_id) == ["1771", "1804", "1805"]
    assert by_id["1804"].state is JobState.FAILED and by_id["1804"].comment == "" and by_id["1804"].user == ""
    assert by_id["1805"].state is JobState.CANCELLED and by_id["1805"].start is None


@pytest.mark.parametrize(
    ("limit", "seconds"),
    [
        (1, 60),
        (5, 300),
        (0, None),
        (4294967295, None),
        ({"set": True, "infinite": False, "number": 30}, 1800),
        ({"set": True, "infinite": True, "number": 0}, None),
        (None, None),
    ],
)
def test_time_limit_in_both_json_shapes(limit: Any, seconds: int | None) -> None:
    [usage] = parse_finished(sacct_json(record(time={"limit": limit})))
    assert usage.time_limit_seconds == seconds


def test_finished_jobs_is_one_sacct_of_all_users_of_the_accounts() -> None:
    runner = FakeRunner({"sacct --json": sacct_json(JOB_1771, array_task(1773, 0))})
    since = time.mktime((2026, 11, 23, 18, 0, 5, 0, 0, -1))
    usages = SlurmBackend(runner, cluster="aifactory").finished_jobs(["p7", "p8"], since)
    assert [u.backend_id for u in usages] == ["1771", "1772_0"]
    assert runner.calls == [
        ("sacct", "--json", "-X", "-a", "--clusters=aifactory", "-A", "p7,p8", "-S", "2026-11-23T18:00:05", "-E", "now")
    ]


def test_finished_jobs_of_no_account_or_the_future_runs_nothing_and_bad_names_are_refused() -> None:
    runner = FakeRunner()
    backend = SlurmBackend(runner)
    assert backend.finished_jobs([], 0) == []
    assert backend.finished_jobs(["p7"], time.time() + 3600) == []  # sacct refuses a start after "now"
    with pytest.raises(ValueError, match="account"):
        backend.finished_jobs(["p7", "x,all"], 0)
    assert runner.calls == []


def test_a_failing_sacct_is_an_error_not_an_empty_list() -> None:
    runner = FakeRunner({"sacct": ok("", rc=1, stderr="sacct: error: slurmdbd: connection refused")})
    with pytest.raises(BackendUnavailable, match="connection refused"):
        SlurmBackend(runner).finished_jobs(["p7"], 0)


# ---------------------------------------------------------------- limits and QoS (sacctmgr / scontrol)


def test_budget_limit_argv_and_clearing_it() -> None:
    runner = FakeRunner({"sacctmgr -i modify": " Modified account associations...\n"})
    backend = SlurmBackend(runner, cluster="aifactory")
    backend.set_budget_limit("p7", 600)
    backend.set_budget_limit("p7", 0)
    backend.set_budget_limit("p7", None)
    where = ("sacctmgr", "-i", "modify", "account", "where", "name=p7", "cluster=aifactory", "set")
    assert runner.calls == [
        (*where, "GrpTRESMins=gres/gpu=600"),
        (*where, "GrpTRESMins=gres/gpu=0"),
        (*where, "GrpTRESMins=gres/gpu=-1"),
    ]


def test_budget_limit_refuses_bad_input_before_any_command() -> None:
    runner = FakeRunner()
    backend = SlurmBackend(runner)
    for account, minutes in (("p7", -5), ("p7 set GrpTRESMins=gres/gpu=-1", 1), ("name=x", 1), ("", 1)):
        with pytest.raises(ValueError):
            backend.set_budget_limit(account, minutes)
    assert runner.calls == []


def test_budget_limit_failure_is_reported() -> None:
    runner = FakeRunner({"sacctmgr": ok(" Nothing modified\n", rc=1, stderr=" Error: no such account p7\n")})
    with pytest.raises(BackendUnavailable, match="no such account"):
        SlurmBackend(runner).set_budget_limit("p7", 10)


def test_low_priority_argv_both_ways() -> None:
    runner = FakeRunner({"sacctmgr -i modify": ""})
    backend = SlurmBackend(runner)  # no cluster: no cluster= filter
    backend.set_low_priority("p7", True)
    backend.set_low_priority("p7", False)
    where = ("sacctmgr", "-i", "modify", "account", "where", "name=p7", "set")
    assert runner.calls == [(*where, "qos=low", "defaultqos=low"), (*where, "qos=normal,low", "defaultqos=normal")]


def test_gpu_minutes_used_come_from_the_accounts_own_association() -> None:
    runner = FakeRunner({"scontrol show assoc_mgr": ASSOC_MGR})
    assert SlurmBackend(runner, cluster="aifactory").account_gpu_minutes_used("p7") == 42  # not the user's 99
    assert runner.calls == [("scontrol", "show", "assoc_mgr", "accounts=p7", "flags=assoc")]


def test_gpu_minutes_parsing_without_a_limit_other_cluster_and_unknown_account() -> None:
    no_limit = ASSOC_MGR.replace("gres/gpu=600(42)", "gres/gpu=N(17)")
    assert parse_gpu_minutes_used(no_limit, "p7") == 17
    assert parse_gpu_minutes_used(ASSOC_MGR.replace(",gres/gpu=600(42)", ""), "p7") == 0  # gpu not tracked
    with pytest.raises(LookupError, match="p8"):
        parse_gpu_minutes_used(ASSOC_MGR, "p8")
    with pytest.raises(LookupError):
        parse_gpu_minutes_used(ASSOC_MGR, "p7", cluster="other")
