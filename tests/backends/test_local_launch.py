"""Launching local jobs: a launch that fails (an environment too large for the OS, a working directory that
cannot be made, a sandbox that cannot start) is a failed job with its reason, never ``completed`` with exit 0;
the sandbox is probed at first use; without bubblewrap the executor says so; a job cannot forge its result or
turn the server's own writes against the host."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

import pytest

from aifactory.backends import local, local_launch
from aifactory.backends.local import startup_notice
from aifactory.backends.local_sandbox import SandboxConfig, python_paths
from aifactory.config import Settings
from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.states import JobState
from tests.support.local_jobs import final, job, make, read
from tests.support.sandbox import require_bwrap

TOO_BIG = "x" * 200_000  # over Linux's 128 KiB per environment string


def big_env_job(tmp_path: Path, job_id: int) -> local.BackendJob:
    bj = job(tmp_path, job_id, {"command": ["echo", "ran"]})
    return dataclasses.replace(bj, spec=dataclasses.replace(bj.spec, env={"BIG": TOO_BIG}))


def test_an_environment_too_large_for_the_os_is_refused_at_submission(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        make(tmp_path).submit(big_env_job(tmp_path, 1))
    assert err.value.errors[0].field == "env.BIG" and "operating system" in str(err.value)
    assert not (tmp_path / "jobs" / "1" / "stdout-0.log").exists()


def test_if_it_got_through_the_launch_fails_with_its_reason_never_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: ``mkdir`` failed with E2BIG, the launch went on, the (builtin) command ran: completed, 0."""
    monkeypatch.setattr(local, "check_environment", lambda spec: None)  # the OS, not the check, refuses now
    backend = make(tmp_path)
    bj = big_env_job(tmp_path, 2)
    status = final(backend, backend.submit(bj))
    assert status.state is JobState.FAILED and status.exit_code not in (None, 0)
    assert "could not be launched" in status.reason and "Argument list too long" in status.reason
    assert read(backend, "local-2", bj) == b""  # the command never ran


def test_a_working_directory_that_cannot_be_made_is_a_launch_failure(tmp_path: Path) -> None:
    backend = make(tmp_path)
    bj = job(tmp_path, 3, {"command": ["echo", "ran"]})
    Path(bj.job_dir).mkdir(parents=True)
    (Path(bj.job_dir) / "work").write_text("a file where the working directory goes")
    status = final(backend, backend.submit(bj))
    assert status.state is JobState.FAILED and "could not be launched" in status.reason
    assert "work" in status.reason and read(backend, "local-3", bj) == b""


def test_a_sandbox_that_cannot_start_is_a_launch_failure(tmp_path: Path) -> None:
    require_bwrap()
    gone = tmp_path / "models"
    gone.mkdir()
    backend = make(tmp_path, sandbox=SandboxConfig(readonly=(*python_paths(), str(gone))))
    assert backend.confines_tenants()  # probed while the folder was there
    gone.rmdir()  # the operator's read-only path vanished since
    status = final(backend, backend.submit(job(tmp_path, 4, {"command": ["echo", "ran"]})))
    assert status.state is JobState.FAILED and "could not be launched" in status.reason
    assert "bwrap" in status.reason and str(gone) in status.reason


def test_the_sandbox_is_probed_at_first_use_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[SandboxConfig] = []
    real = local_launch.probe
    monkeypatch.setattr(local_launch, "probe", lambda config: calls.append(config) or real(config))
    backend = make(tmp_path)
    assert calls == []  # not at construction
    backend.submit(job(tmp_path, 5, {"command": ["true"]}))
    backend.confines_tenants()
    assert final(backend, "local-5").state is JobState.COMPLETED and len(calls) == 1


def test_without_bubblewrap_jobs_run_unconfined_and_the_executor_says_so(tmp_path: Path) -> None:
    backend = make(tmp_path, sandbox=SandboxConfig(program=f"bwrap-missing-{secrets.token_hex(4)}"))
    assert not backend.confines_tenants()
    notice = backend.sandbox().notice()
    assert "NO SANDBOX" in notice and "not installed" in notice and "AIFACTORY_LOCAL_SINGLE_TENANT" in notice
    bj = job(tmp_path, 6, {"script": f'[ -d "{tmp_path}/state" ] && echo unconfined\n'})
    assert final(backend, backend.submit(bj)).state is JobState.COMPLETED
    assert read(backend, "local-6", bj) == b"unconfined\n"  # what a sandbox would hide


def test_a_job_cannot_forge_its_exit_code_or_start_time(tmp_path: Path) -> None:
    backend = make(tmp_path)
    script = 'echo 0 > "$AIF_JOB_DIR/exit-0"; echo "{}" > "$AIF_JOB_DIR/started-0"; ls "$AIF_JOB_DIR"; exit 3\n'
    bj = job(tmp_path, 7, {"script": script})
    status = final(backend, backend.submit(bj))
    assert status.state is JobState.FAILED and status.exit_code == 3  # its own files are not the executor's
    assert b"launch.sh" not in read(backend, "local-7", bj)


def test_a_log_file_the_job_replaced_by_a_symlink_is_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("untouched\n")
    backend = make(tmp_path)
    script = f'[ "$AIF_TASK_INDEX" = 0 ] && ln -s {victim} "$AIF_JOB_DIR/stdout-1.log"; echo task-$AIF_TASK_INDEX\n'
    bj = job(tmp_path, 8, {"script": script, "array": {"range": "0-1", "max_parallel": 1}})
    status = final(backend, backend.submit(bj))
    assert status.tasks == {0: JobState.COMPLETED, 1: JobState.FAILED}
    assert "could not be started" in status.reason
    assert victim.read_text() == "untouched\n"


def test_serve_and_demo_say_at_start_whether_jobs_are_sandboxed(tmp_path: Path) -> None:
    require_bwrap()
    line = startup_notice(Settings(data_dir=tmp_path / "data", local_network=True))
    assert line.startswith("local executor: every job runs in a bubblewrap sandbox") and "host's network" in line
