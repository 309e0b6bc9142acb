"""Staging a job's inputs (``backends.staging``): a hard link only where the job can read but never write the
inode, else a read-only copy with the project's group; folders the server's, 0550; a source that is gone is the
job's refusal naming the input; and in the local sandbox the staged inputs are bound read-only over the job's
read-write folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aifactory.backends.sandbox import Mount, SandboxPolicy, TaskSandbox, bwrap_argv
from aifactory.backends.staging import may_link, stage_inputs
from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.execution import BackendJob, StagedInput
from aifactory.domain.jobs.spec import parse_spec
from aifactory.domain.posix import PosixGroup, PosixUser, RunAs

OWNER = RunAs(PosixUser("aif_anna", 61001), PosixGroup("aif_p1", 62001))


def _job(job_dir: Path, *inputs: StagedInput, run_as: RunAs | None = None) -> BackendJob:
    spec = parse_spec({"name": "j", "project": 1, "command": ["true"]})
    job_dir.mkdir(exist_ok=True)
    return BackendJob(1, spec, "acct", "part", str(job_dir), "c", run_as=run_as, inputs=inputs)


def _stat(uid: int, gid: int, mode: int) -> os.stat_result:
    return os.stat_result((stat.S_IFREG | mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))


def test_a_link_only_where_the_job_reads_but_cannot_write() -> None:
    assert may_link(_stat(0, OWNER.group.gid, 0o640), OWNER, confined=False)  # its project's stored file
    assert not may_link(_stat(0, 62999, 0o640), OWNER, confined=False)  # another project's group
    assert not may_link(_stat(0, OWNER.group.gid, 0o660), OWNER, confined=False)  # group-writable
    assert not may_link(_stat(OWNER.user.uid, OWNER.group.gid, 0o640), OWNER, confined=False)  # its own inode
    assert not may_link(_stat(0, OWNER.group.gid, 0o600), OWNER, confined=False)  # not group-readable
    assert may_link(_stat(0, 0, 0o600), None, confined=True)  # the sandbox binds it read-only
    assert not may_link(_stat(0, 0, 0o600), None, confined=False)


def test_files_and_folders_are_staged_read_only_and_a_missing_source_is_named(tmp_path: Path) -> None:
    source = tmp_path / "stored.csv"
    source.write_text("a,b\n")
    folder = tmp_path / "set"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "x.txt").write_text("x")
    job = _job(tmp_path / "job", StagedInput("sales", str(source)), StagedInput("set", str(folder), True))
    staged = stage_inputs(job, confined=False)
    assert staged == [f"{job.job_dir}/inputs/sales/stored.csv", f"{job.job_dir}/inputs/set"]
    copy = Path(staged[0])
    assert copy.read_text() == "a,b\n" and copy.stat().st_ino != source.stat().st_ino  # unconfined: a copy
    assert stat.S_IMODE(copy.stat().st_mode) == 0o440
    assert (Path(staged[1]) / "sub" / "x.txt").read_text() == "x"
    for path in (Path(job.job_dir) / "inputs", copy.parent, Path(staged[1]), Path(staged[1]) / "sub"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o550
    assert stage_inputs(job, confined=False) == staged  # again (a retried handover): what is there stays
    linked = stage_inputs(_job(tmp_path / "job2", StagedInput("sales", str(source))), confined=True)
    assert Path(linked[0]).stat().st_ino == source.stat().st_ino  # confined: the same inode, no bytes copied
    with pytest.raises(InvalidInput) as gone:
        stage_inputs(_job(tmp_path / "job3", StagedInput("old", "")), confined=False)
    assert gone.value.errors[0].field == "inputs.old"


def test_staged_inputs_are_bound_read_only_over_the_jobs_folder() -> None:
    policy = SandboxPolicy(system_links=(), system_dirs=("/usr",), readonly=(), hidden=())
    folder = Mount("/srv/jobs/7", "/srv/jobs/7")
    staged = Mount("/srv/jobs/7/inputs/sales/s.csv", "/srv/jobs/7/inputs/sales/s.csv")
    argv = bwrap_argv(policy, TaskSandbox(folder, "/p", "/g", (staged,)))
    rw = argv.index("/srv/jobs/7") - 1
    ro = argv.index("/srv/jobs/7/inputs/sales/s.csv") - 1
    assert (argv[rw], argv[ro]) == ("--bind", "--ro-bind") and ro > rw  # read-only on top
    assert "/srv/jobs/7/inputs" not in argv and "/srv/jobs/7/inputs/sales" not in argv  # there already
