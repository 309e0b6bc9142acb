"""The Slurm backend against a fake CommandRunner fed JSON recorded from the dev cluster (fixtures/)."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from aifactory.backends.base import CommandError, CommandResult, run_command
from aifactory.backends.registry import backend_class
from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.backends.slurm.client import SlurmClient, parse_exit_codes, parse_sacct, parse_sbatch, parse_squeue
from aifactory.backends.slurm.states import SLURM_STATES, translate
from aifactory.config import Settings
from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.execution import BackendJob, ProjectAccount
from aifactory.domain.jobs.spec import parse_spec
from aifactory.domain.jobs.states import JobState
from aifactory.services.ports import AccountingBackend, BackendUnavailable
from tests.support.slurm_runner import FakeRunner, fixture, ok

# ---------------------------------------------------------------- states


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("PENDING", JobState.QUEUED),
        ("RUNNING", JobState.RUNNING),
        ("COMPLETING", JobState.RUNNING),
        ("CONFIGURING", JobState.RUNNING),
        ("COMPLETED", JobState.COMPLETED),
        ("FAILED", JobState.FAILED),
        ("NODE_FAIL", JobState.FAILED),
        ("OUT_OF_MEMORY", JobState.FAILED),
        ("BOOT_FAIL", JobState.FAILED),
        ("DEADLINE", JobState.FAILED),
        ("CANCELLED", JobState.CANCELLED),
        ("CANCELLED by 0", JobState.CANCELLED),
        ("TIMEOUT", JobState.TIMEOUT),
        ("PREEMPTED", JobState.TIMEOUT),
    ],
)
def test_state_table(native: str, expected: JobState) -> None:
    assert translate(native) is expected


def test_unknown_state_warns_and_keeps_the_previous(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert translate("WEIRD_NEW_STATE", JobState.RUNNING) is JobState.RUNNING
        assert translate("") is JobState.QUEUED
    assert "WEIRD_NEW_STATE" in caplog.text


def test_every_table_value_is_a_job_state() -> None:
    assert all(isinstance(v, JobState) for v in SLURM_STATES.values())


# ---------------------------------------------------------------- parsing


def test_parse_sbatch() -> None:
    assert parse_sbatch("123\n") == "123"
    assert parse_sbatch("124;aifactory\n") == "124"
    with pytest.raises(ValueError):
        parse_sbatch("sbatch: error\n")


def test_squeue_is_filtered_by_the_ids_asked() -> None:
    records = parse_squeue(fixture("squeue_mixed.json"), ["44", "46"])
    assert sorted(r.job_id for r in records) == ["44", "46", "48", "49"]  # the array brings its tasks
    tasks = {r.array_task_id: r.job_id for r in records if r.parent_id == "46"}
    assert tasks == {0: "48", 1: "49", 2: "46"}
    assert {r.comment for r in records} == {"aif:cap:1", "aif:cap:3"}
    assert len(parse_squeue(fixture("squeue_mixed.json"))) == 7


def test_squeue_exit_code_is_decoded_from_the_wait_status() -> None:
    by_id = {r.job_id: r for r in parse_squeue(fixture("squeue_mixed.json"))}
    assert by_id["45"].state == "FAILED" and by_id["45"].exit_code == 3  # raw 768
    assert by_id["44"].exit_code == 0 and by_id["44"].array_job_id is None
    assert by_id["47"].reason == "JobHeldUser" and by_id["44"].reason == ""
    timeout = parse_squeue(fixture("squeue_timeout.json"))[0]
    assert timeout.state == "TIMEOUT" and timeout.exit_code == 128 + 15  # killed by SIGTERM


def test_sacct_records() -> None:
    by_id = {r.job_id: r for r in parse_sacct(fixture("sacct_mixed.json"))}
    assert set(by_id) == {"44", "45", "46", "47", "48", "49"}
    assert by_id["44"].gpus == 1 and by_id["44"].nodes == 1 and by_id["44"].cpus == 1
    assert by_id["44"].start and by_id["44"].end and by_id["44"].account == "aifactory-test"
    assert by_id["45"].gpus == 0 and by_id["45"].state == "FAILED"
    assert by_id["48"].array_job_id == "46" and by_id["48"].array_task_id == 0
    assert by_id["46"].array_task_id == 2 and by_id["46"].parent_id == "46"
    assert by_id["47"].state == "PENDING" and by_id["47"].nodes == 0 and by_id["47"].start is None
    assert by_id["44"].comment == ""  # not stored without AccountingStoreFlags=job_comment


def test_sacct_nothing_found_is_an_empty_list() -> None:
    assert parse_sacct(fixture("sacct_nothing_found.json")) == []


def test_parsable_exit_codes() -> None:
    assert parse_exit_codes(fixture("sacct_exit_codes.txt")) == {"44": 0, "45": 3, "50": 0}
    assert parse_exit_codes("7|0:9\n") == {"7": 137}


# ---------------------------------------------------------------- status: batching, aggregation


def test_status_of_many_jobs_is_one_squeue_and_one_sacct() -> None:
    runner = FakeRunner(squeue=fixture("squeue_mixed.json"), sacct=fixture("sacct_mixed.json"))
    got = SlurmBackend(runner).status(["44", "45", "46", "47"])
    assert runner.calls == [("squeue", "--json"), ("sacct", "--json", "-j", "44,45,46,47")]
    assert got["44"].state is JobState.COMPLETED and got["44"].exit_code == 0
    assert got["45"].state is JobState.FAILED and got["45"].exit_code == 3  # squeue's code: sacct json says 0
    assert got["46"].state is JobState.COMPLETED and got["46"].tasks == {
        0: JobState.COMPLETED,
        1: JobState.COMPLETED,
        2: JobState.COMPLETED,
    }
    assert got["47"].state is JobState.QUEUED and got["47"].reason == "JobHeldUser"


def test_failed_job_gone_from_squeue_gets_its_exit_code_from_parsable_sacct() -> None:
    runner = FakeRunner(
        {
            "squeue": '{"jobs": []}',
            "sacct --json": fixture("sacct_mixed.json"),
            "sacct -n": fixture("sacct_exit_codes.txt"),
        }
    )
    got = SlurmBackend(runner).status(["45", "44"])
    assert got["45"].state is JobState.FAILED and got["45"].exit_code == 3
    assert got["44"].exit_code == 0
    assert runner.of("sacct")[-1] == ("sacct", "-n", "-P", "-X", "-o", "JobIDRaw,ExitCode", "-j", "45")


def test_sacct_wins_for_finished_jobs_and_squeue_for_the_live_ones() -> None:
    runner = FakeRunner(squeue=fixture("squeue_running.json"), sacct=fixture("sacct_cancelled.json"))
    got = SlurmBackend(runner).status(["50", "51"])
    assert got["50"].state is JobState.RUNNING and got["50"].exit_code is None
    assert got["51"].state is JobState.CANCELLED  # squeue still says RUNNING


def test_timeout() -> None:
    runner = FakeRunner(squeue='{"jobs": []}', sacct=fixture("sacct_timeout.json"))
    assert SlurmBackend(runner).status(["50"])["50"].state is JobState.TIMEOUT


def test_pending_array_is_queued() -> None:
    runner = FakeRunner(squeue=fixture("squeue_pending_array.json"), sacct=fixture("sacct_pending_array.json"))
    got = SlurmBackend(runner).status(["63"])["63"]
    assert got.state is JobState.QUEUED and got.tasks == {}


def _array_status(task_states: list[str]) -> JobState:
    jobs = ",".join(
        f'{{"job_id": {100 + i}, "job_state": "{s}", "array_job_id": 100, "array_task_id": {i}, '
        f'"exit_code": {0 if s != "FAILED" else 256}}}'
        for i, s in enumerate(task_states)
    )
    runner = FakeRunner(squeue=f'{{"jobs": [{jobs}]}}', sacct='{"jobs": []}')
    return SlurmBackend(runner).status(["100"])["100"].state


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        (["RUNNING", "PENDING", "COMPLETED"], JobState.RUNNING),
        (["COMPLETED", "PENDING"], JobState.RUNNING),
        (["PENDING", "PENDING"], JobState.QUEUED),
        (["COMPLETED", "COMPLETED", "COMPLETED"], JobState.COMPLETED),
        (["COMPLETED", "FAILED", "TIMEOUT"], JobState.TIMEOUT),  # one precedence for every backend (domain)
        (["COMPLETED", "FAILED", "CANCELLED"], JobState.FAILED),
        (["COMPLETED", "TIMEOUT"], JobState.TIMEOUT),
        (["COMPLETED", "CANCELLED"], JobState.CANCELLED),
    ],
)
def test_array_aggregation(tasks: list[str], expected: JobState) -> None:
    assert _array_status(tasks) is expected


def test_status_of_no_ids_runs_nothing_and_unknown_ids_are_left_out() -> None:
    runner = FakeRunner(squeue=fixture("squeue_mixed.json"), sacct=fixture("sacct_nothing_found.json"))
    assert SlurmBackend(runner).status([]) == {}
    assert runner.calls == []
    assert SlurmBackend(runner).status(["99999"]) == {}


# ---------------------------------------------------------------- cancel, usage, find_by_comment


def test_cancel_is_one_scancel() -> None:
    runner = FakeRunner(scancel="")
    SlurmBackend(runner).cancel(["1", "2", "3"])
    assert runner.calls == [("scancel", "1", "2", "3")]


def test_usage_from_sacct() -> None:
    runner = FakeRunner(sacct=fixture("sacct_mixed.json"))
    got = SlurmBackend(runner).usage(["44", "46", "47"])
    assert len(runner.calls) == 1
    assert got["44"].gpus == 1 and got["44"].nodes == 1 and got["44"].elapsed_seconds == 0
    assert got["46"].gpus == 0 and got["46"].nodes == 1  # three tasks aggregated
    assert got["47"].nodes == 0 and got["47"].started_at is None


def test_find_by_comment_uses_squeue() -> None:
    runner = FakeRunner(squeue=fixture("squeue_mixed.json"))
    backend = SlurmBackend(runner)
    assert backend.find_by_comment("aif:cap:1") == "44"
    assert backend.find_by_comment("aif:cap:3") == "46"  # an array: its id, not a task's
    assert len(runner.calls) == 2


def test_find_by_comment_falls_back_to_sacct() -> None:
    runner = FakeRunner(squeue='{"jobs": []}', sacct=fixture("sacct_mixed.json"))
    assert SlurmBackend(runner).find_by_comment("aif:cap:1") is None  # comments are not in accounting here
    assert runner.of("sacct") == [("sacct", "--json", "-a", "-S", "now-2days")]


# ---------------------------------------------------------------- ensure_project (sacctmgr)


def test_ensure_project_adds_account_and_users_and_waits_until_the_controller_has_them() -> None:
    looked: list[str] = []

    def assoc_mgr(argv: Sequence[str]) -> CommandResult:  # anna's first look finds nothing yet
        user = argv[-1].removeprefix("users=")
        looked.append(user)
        text = "" if looked == ["anna"] else f"ClusterName=c Account=p00007_bakery UserName={user}(1002) ID=10"
        return CommandResult(argv, 0, text, "")

    runner = FakeRunner(sacctmgr=" Adding Account(s)\n", scontrol=assoc_mgr)
    SlurmBackend(runner).ensure_project(ProjectAccount("p00007_bakery", ("anna", "bob")))
    assert runner.of("sacctmgr") == [
        ("sacctmgr", "-i", "add", "account", "p00007_bakery"),
        ("sacctmgr", "-i", "add", "user", "anna", "account=p00007_bakery"),
        ("sacctmgr", "-i", "add", "user", "bob", "account=p00007_bakery"),
    ]
    looks = [c[-1] for c in runner.of("scontrol")]
    assert looks == ["users=anna", "users=bob", "users=anna"]  # anna looked up again, bob was there


def test_ensure_project_is_idempotent() -> None:
    runner = FakeRunner(sacctmgr=ok(" Nothing new added.\n", rc=1))
    SlurmBackend(runner, cluster="jupiter").ensure_project(ProjectAccount("p1", ("anna",)))
    assert runner.calls[0] == ("sacctmgr", "-i", "add", "account", "p1", "cluster=jupiter")
    assert SlurmClient(runner).add_account("p1") is False


def test_ensure_project_reports_real_failures() -> None:
    runner = FakeRunner(sacctmgr=ok("", rc=1, stderr="sacctmgr: error: Problem talking to the database"))
    with pytest.raises(CommandError, match="Problem talking to the database"):
        SlurmBackend(runner).ensure_project(ProjectAccount("p1"))


@pytest.mark.parametrize("account", ["bad name", "", "-x", "a;b", "x" * 65])
def test_ensure_project_refuses_bad_names_before_any_command(account: str) -> None:
    runner = FakeRunner()
    with pytest.raises(InvalidInput):
        SlurmBackend(runner).ensure_project(ProjectAccount(account))
    with pytest.raises(InvalidInput):
        SlurmBackend(runner).ensure_project(ProjectAccount("ok", ("bad user",)))
    assert runner.calls == []


# ---------------------------------------------------------------- submit, logs


def _job(tmp_path: Path, **spec: object) -> BackendJob:
    full = {"name": "t", "project": 1, "command": ["echo", "hi"], **spec}
    return BackendJob(
        job_id=7,
        spec=parse_spec(full),
        account="p1",
        partition="booster",
        job_dir=str(tmp_path / "jobs" / "7"),
        comment="aif:test:7",
    )


def test_init_does_no_io_and_the_backend_builds_itself_from_settings() -> None:
    runner = FakeRunner()
    SlurmBackend(runner)
    assert runner.calls == []
    assert backend_class("slurm") is SlurmBackend
    built = SlurmBackend.from_settings(Settings(backend="slurm", slurm_cluster="jupiter"))
    assert built.cluster == "jupiter" and isinstance(built, AccountingBackend)


def test_submit_writes_the_script_and_returns_the_id(tmp_path: Path) -> None:
    runner = FakeRunner(sbatch="4242\n")
    job = _job(tmp_path)
    assert SlurmBackend(runner).submit(job) == "4242"
    script = Path(job.job_dir) / "job.sbatch"
    assert runner.calls == [("sbatch", "--parsable", str(script))]
    assert "#SBATCH --comment=aif:test:7" in script.read_text()


def test_submit_of_a_script_job_writes_the_user_script(tmp_path: Path) -> None:
    runner = FakeRunner(sbatch="1;aifactory\n")
    job = BackendJob(
        7,
        parse_spec({"name": "t", "project": 1, "script": "echo from script\n"}),
        "p1",
        "booster",
        str(tmp_path / "7"),
        "c",
    )
    assert SlurmBackend(runner).submit(job) == "1"
    assert (Path(job.job_dir) / "user-script.sh").read_text() == "echo from script\n"


def test_sbatch_refusal_is_invalid_input(tmp_path: Path) -> None:
    runner = FakeRunner(
        sbatch=ok(
            "",
            rc=1,
            stderr="sbatch: error: Batch job submission failed: Invalid account "
            "or account/partition combination specified\n",
        )
    )
    with pytest.raises(InvalidInput, match="Invalid account"):
        SlurmBackend(runner).submit(_job(tmp_path))
    runner = FakeRunner(
        sbatch=ok(
            "",
            rc=1,
            stderr="sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n",
        )
    )
    with pytest.raises(BackendUnavailable, match="Unable to contact slurm controller"):
        SlurmBackend(runner).submit(_job(tmp_path))


def test_an_array_beyond_the_clusters_max_array_size_is_refused_not_retried(tmp_path: Path) -> None:
    # a 10,000-task array on a cluster with MaxArraySize=1001 (tests/security): once left pending and retried
    refusal = "sbatch: error: Batch job submission failed: Invalid job array specification\n"
    runner = FakeRunner(sbatch=ok("", rc=1, stderr=refusal))
    with pytest.raises(InvalidInput, match="Slurm refused the array") as refused:
        SlurmBackend(runner).submit(_job(tmp_path))
    assert [e.field for e in refused.value.errors] == ["array"]


def test_a_command_that_fails_or_cannot_run_is_the_scheduler_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert issubclass(CommandError, BackendUnavailable)  # a failing command: the services retry later
    with pytest.raises(BackendUnavailable, match="could not be run"):
        run_command(["/nonexistent/squeue", "--json"])

    def too_slow(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired("squeue", 60)

    monkeypatch.setattr(subprocess, "run", too_slow)
    with pytest.raises(BackendUnavailable, match="timed out"):
        SlurmBackend().status(["1"])


def test_container_job_is_refused_without_apptainer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SlurmBackend, "containers_available", staticmethod(lambda: False))
    runner = FakeRunner()
    with pytest.raises(InvalidInput, match="container.image") as info:
        SlurmBackend(runner).submit(_job(tmp_path, container={"image": "/images/x.sif"}))
    assert info.value.errors[0].field == "container.image"
    assert runner.calls == []


def test_container_job_is_submitted_with_apptainer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SlurmBackend, "containers_available", staticmethod(lambda: True))
    runner = FakeRunner(sbatch="5\n")
    job = _job(tmp_path, container={"image": "/images/x.sif"})
    assert SlurmBackend(runner).submit(job) == "5"
    assert "apptainer exec /images/x.sif echo hi" in (Path(job.job_dir) / "job.sbatch").read_text()


def test_logs_with_offsets_and_completion(tmp_path: Path) -> None:
    (tmp_path / "stdout-44.log").write_bytes(b"hello world\n")
    runner = FakeRunner(squeue=fixture("squeue_mixed.json"), sacct=fixture("sacct_mixed.json"))
    backend = SlurmBackend(runner)
    first = backend.logs("44", str(tmp_path), "stdout", 0, limit=5)
    assert first.data == b"hello" and first.offset == 5 and not first.complete
    assert runner.calls == []  # not at the end yet: no need to ask Slurm
    rest = backend.logs("44", str(tmp_path), "stdout", first.offset)
    assert rest.data == b" world\n" and rest.offset == 12 and rest.complete
    missing = backend.logs("44", str(tmp_path), "stderr", 0)
    assert missing.data == b"" and missing.offset == 0 and missing.complete


def test_logs_of_array_tasks_and_live_jobs(tmp_path: Path) -> None:
    (tmp_path / "stdout-46_1.log").write_bytes(b"1\n")
    (tmp_path / "stdout-47.log").write_bytes(b"partial")
    runner = FakeRunner(squeue=fixture("squeue_mixed.json"), sacct=fixture("sacct_mixed.json"))
    backend = SlurmBackend(runner)
    task = backend.logs("46", str(tmp_path), "stdout", task=1)
    assert task.data == b"1\n" and task.complete
    live = backend.logs("47", str(tmp_path), "stdout")
    assert live.data == b"partial" and not live.complete
    with pytest.raises(InvalidInput):
        backend.logs("../etc", str(tmp_path), "stdout")
