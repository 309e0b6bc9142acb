"""The Slurm backend runs sbatch and scancel as each job's owner, on the command-runner seam (FakeRunner and the
stateful FakeSlurm): the exact argv of both ways (runuser as root, sudo -n for a service account), the clean
environment, the owner's job folder (2770) and files (0640), cancel as owner, exact account associations."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.backends.slurm.owner import OwnerCommands, check_reachable
from aifactory.config import Settings
from aifactory.domain.jobs.execution import BackendJob
from aifactory.domain.jobs.spec import parse_spec
from aifactory.domain.posix import PosixGroup, PosixUser, RunAs
from aifactory.services.ports import BackendUnavailable, MembershipBackend
from tests.support.identities import reachable_folder
from tests.support.slurm_runner import FakeRunner, FakeSlurm, owner_of, slurm_command


@pytest.fixture
def jobs_root() -> Iterator[Path]:
    """A jobs root every identity can reach (pytest's own temporary folders are not)."""
    with reachable_folder("slurm-owner") as folder:
        yield folder


def me() -> RunAs:
    """An owner whose ids this process may give files to (root or not): its own uid and gid."""
    group = PosixGroup("aifp1", os.getgid())
    return RunAs(PosixUser("aifu7", os.getuid()), group, (group,))


def job(root: Path, run_as: RunAs | None, **spec: object) -> BackendJob:
    full = {"name": "t", "project": 1, "resources": {"time": 1}, **(spec or {"command": ["true"]})}
    return BackendJob(
        job_id=1,
        spec=parse_spec(full),
        account="p00001_test",
        partition="booster",
        job_dir=str(root / "jobs" / "1"),
        comment=f"aif:test:{uuid.uuid4().hex}",
        run_as=run_as,
    )


def test_sbatch_runs_as_the_owner_through_runuser_with_a_clean_environment(jobs_root, monkeypatch):
    monkeypatch.setenv("AIFACTORY_SECRET_KEY", "s3cret-of-the-server")
    monkeypatch.setenv("SLURM_CONF", "/etc/slurm/test.conf")
    runner = FakeRunner(runuser="4242\n")
    backend = SlurmBackend(runner, run_as="runuser")
    handed = job(jobs_root, me())
    assert backend.submit(handed) == "4242"
    (argv,) = runner.calls
    head = argv[: argv.index("--") + 3]
    assert head == ("runuser", "-u", "aifu7", "-g", "aifp1", "--", "env", "-i")
    assert slurm_command(argv) == ("sbatch", "--parsable", f"--chdir={handed.job_dir}", f"{handed.job_dir}/job.sbatch")
    env = dict(a.split("=", 1) for a in argv[len(head) : argv.index("sbatch")])
    assert (
        env["SLURM_UMASK"] == "0007" and env["HOME"] == handed.job_dir and env["SLURM_CONF"] == "/etc/slurm/test.conf"
    )
    assert set(env) <= {"PATH", "LANG", "LC_ALL", "TZ", "SLURM_CONF", "SLURM_UMASK", "HOME"}
    assert not any("s3cret" in a for a in argv)  # the server's environment stays the server's


def test_sbatch_through_sudo_for_a_service_account(jobs_root):
    runner = FakeRunner(sudo="77\n")
    handed = job(jobs_root, me())
    SlurmBackend(runner, run_as="sudo").submit(handed)
    (argv,) = runner.calls
    assert argv == (
        "sudo", "-n", "-u", "aifu7", "-g", "aifp1", "--",
        "sbatch", "--parsable", f"--chdir={handed.job_dir}", f"{handed.job_dir}/job.sbatch",
    )  # fmt: skip


def test_auto_is_runuser_as_root_and_sudo_otherwise():
    assert OwnerCommands.for_setting("auto", root=True).mode == "runuser"
    assert OwnerCommands.for_setting("auto", root=False).mode == "sudo"
    with pytest.raises(ValueError, match="valid: runuser, sudo"):
        OwnerCommands("su")
    assert SlurmBackend.from_settings(Settings(backend="slurm", slurm_run_as="sudo")).owner.mode == "sudo"


def test_without_an_owner_sbatch_runs_as_the_server_as_before(jobs_root):
    runner = FakeRunner(sbatch="5\n")
    SlurmBackend(runner).submit(job(jobs_root, None))
    assert runner.calls[0][0] == "sbatch" and "--chdir" not in " ".join(runner.calls[0])


def test_the_job_folder_is_the_owners_with_the_projects_group_and_nothing_for_others(jobs_root):
    handed = job(jobs_root, me(), script="echo hi\n")
    SlurmBackend(FakeRunner(runuser="9\n")).submit(handed)
    folder = Path(handed.job_dir)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o2770
    assert (folder.stat().st_uid, folder.stat().st_gid) == (os.getuid(), os.getgid())
    for name in ("job.sbatch", "user-script.sh"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o640


def test_a_jobs_root_others_cannot_reach_is_a_clear_error_before_sbatch(tmp_path):
    closed = tmp_path / "closed"
    (closed / "jobs" / "1").mkdir(parents=True)
    closed.chmod(0o700)
    with pytest.raises(BackendUnavailable, match="needs o\\+x"):
        check_reachable(closed / "jobs" / "1")


def test_hostile_owner_names_never_reach_the_argv(jobs_root):
    runner = FakeRunner(runuser="1\n")
    evil = RunAs(PosixUser("root -g 0", 0), PosixGroup("aifp1", 1))
    with pytest.raises(ValueError, match="not a POSIX name"):
        SlurmBackend(runner).submit(job(jobs_root, evil))
    assert runner.calls == []


def test_cancel_runs_as_each_jobs_owner(jobs_root):
    slurm = FakeSlurm()
    backend = SlurmBackend(slurm, run_as="runuser", cancel_as_owner=True)
    theirs = backend.submit(job(jobs_root, me()))
    ours = backend.submit(job(jobs_root, None))
    slurm.calls.clear()
    backend.cancel([theirs, ours])
    cancels = [(owner_of(c), slurm_command(c)) for c in slurm.calls if slurm_command(c)[0] == "scancel"]
    assert sorted(cancels, key=str) == sorted(
        [(("aifu7", "aifp1"), ("scancel", theirs)), (None, ("scancel", ours))], key=str
    )
    assert slurm.jobs[theirs].state == slurm.jobs[ours].state == "CANCELLED"


def test_account_associations_are_exactly_the_members(jobs_root):
    slurm = FakeSlurm()
    backend = SlurmBackend(slurm)
    assert isinstance(backend, MembershipBackend)
    backend.set_account_users("p00001_test", ["aifu1", "aifu2"])
    assert slurm.associations == {("p00001_test", "aifu1"), ("p00001_test", "aifu2")}
    backend.set_account_users("p00001_test", ["aifu2"])  # aifu1 left the project
    assert slurm.associations == {("p00001_test", "aifu2")}
    backend.set_account_users("p00001_test", [])  # the project ended
    assert slurm.associations == set()
    deletes = [slurm_command(c) for c in slurm.calls if "delete" in c]
    assert ("sacctmgr", "-i", "delete", "user", "where", "name=aifu1", "account=p00001_test") in deletes
