"""A sandboxed local job's identity and limits, and the executor's hold on it: it runs as its owner (a real user)
in a folder only its owner and project reach; process, open-file and memory limits and CPU pinning apply; a time
limit or a cancel ends everything inside (also what left the process group), after the command's grace; a
10,000-task array starts no more than the CPU slots allow."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.backends.local import LocalBackend
from aifactory.backends.local_launch import LimitsConfig
from aifactory.backends.local_sandbox import SandboxConfig
from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.execution import BackendJob
from aifactory.domain.jobs.states import JobState
from aifactory.domain.posix import PosixGroup, PosixUser, RunAs
from tests.support.local_jobs import final, job, job_processes, make, open_gate, private, read, wait_for, wait_gate
from tests.support.sandbox import owners, require_bwrap, world_traversable

pytestmark = pytest.mark.usefixtures("_bwrap")


@pytest.fixture
def _bwrap() -> None:
    require_bwrap()


def owned(root: Path, job_id: int, doc: dict[str, object], owner: RunAs) -> BackendJob:
    bj = job(root, job_id, doc)
    Path(bj.job_dir).mkdir(parents=True)  # as the gateway makes it
    return BackendJob(**{**bj.__dict__, "run_as": owner})


def output(backend: LocalBackend, bj: BackendJob) -> list[str]:
    backend_id = backend.submit(bj)
    status = final(backend, backend_id)
    assert status.state is JobState.COMPLETED, (status, read(backend, backend_id, bj, "stderr"))
    return read(backend, backend_id, bj).decode().split()


@pytest.fixture
def server_umask() -> Iterator[None]:
    """What ``serve`` sets: the server's files are its own unless it says otherwise."""
    before = os.umask(0o077)
    yield
    os.umask(before)


@pytest.mark.usefixtures("server_umask")
def test_a_job_runs_as_its_owner_with_the_projects_group_only(tmp_path: Path) -> None:
    with owners(1) as (owner,):
        backend = make(tmp_path)
        script = 'id -u; id -g; id -G; id -un; id -gn; touch mine; stat -c %u:%g mine; stat -c %a "$AIF_JOB_DIR"\n'
        bj = owned(tmp_path, 1, {"script": script}, owner)
        uid, gid, names = str(owner.user.uid), str(owner.group.gid), [owner.user.name, owner.group.name]
        assert output(backend, bj) == [uid, gid, gid, *names, f"{uid}:{gid}", "2770"]
        folder = Path(bj.job_dir).stat()
        assert (folder.st_uid, folder.st_gid) == (owner.user.uid, owner.group.gid)
        assert stat.S_IMODE(folder.st_mode) == 0o2770  # the owner and the project, nobody else
        log = (Path(bj.job_dir) / "stdout-0.log").stat()
        assert (log.st_uid, log.st_gid) == (owner.user.uid, owner.group.gid)


LIMITS = """
import os, resource, time
print(*(resource.getrlimit(r)[0] for r in (resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE, resource.RLIMIT_AS)))
print(len(os.sched_getaffinity(0)))
try:
    bytearray(600 * 1024 * 1024)
    print("allocated")
except MemoryError:
    print("refused")
children = 0
for _ in range(100):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(2)
        os._exit(0)
    children += 1
print(children)
"""


def test_process_open_file_memory_and_cpu_limits_apply(tmp_path: Path) -> None:
    with owners(1) as (owner,):
        backend = make(tmp_path, cpu_slots=2, limits=LimitsConfig(processes=40, open_files=200))
        doc = {"command": [sys.executable, "-c", LIMITS], "resources": {"memory": "300M"}}
        nproc, nofile, memory, cpus, allocation, children = output(backend, owned(tmp_path, 2, doc, owner))
        assert (int(nproc), int(nofile), int(memory)) == (40, 200, 300 * 1024 * 1024)
        assert cpus == "1" and allocation == "refused"
        assert 5 <= int(children) < 40  # the owner's processes stop at the limit


def test_concurrent_tasks_are_pinned_to_different_cpus(tmp_path: Path) -> None:
    backend = make(tmp_path, cpu_slots=2)
    script = f"grep Cpus_allowed_list /proc/self/status | cut -f2\n{wait_gate()}\n"
    bjs = [job(tmp_path, n, {"script": script}) for n in (3, 4)]
    ids = [backend.submit(bj) for bj in bjs]
    cpus = wait_for(
        lambda: (
            all(read(backend, i, bj) for i, bj in zip(ids, bjs, strict=True))
            and [read(backend, i, bj).strip() for i, bj in zip(ids, bjs, strict=True)]
        )
    )
    open_gate(*bjs)
    assert sorted(cpus) == [b"0", b"1"]
    assert all(final(backend, i).state is JobState.COMPLETED for i in ids)


ESCAPING = "setsid sleep 300 &\nsleep 300 &\necho ready\nwait\n"  # one child leaves the process group


@pytest.mark.parametrize("how", ["cancel", "time limit"])
def test_cancel_and_time_limit_end_everything_inside(tmp_path: Path, how: str) -> None:
    backend = make(tmp_path)
    bj = job(tmp_path, 5, {"script": ESCAPING, "resources": {"time": 1 if how == "time limit" else 60}})
    backend_id = backend.submit(bj)
    wait_for(lambda: read(backend, backend_id, bj))
    assert len(job_processes(bj.job_dir)) >= 4  # wrapper, bubblewrap (twice), bash, the two sleeps
    if how == "cancel":
        backend.cancel([backend_id])
    expected = JobState.CANCELLED if how == "cancel" else JobState.TIMEOUT
    assert final(backend, backend_id).state is expected
    wait_for(lambda: not job_processes(bj.job_dir))


def test_the_command_gets_its_grace_between_sigterm_and_sigkill(tmp_path: Path) -> None:
    backend = make(tmp_path, kill_grace_seconds=10.0)
    script = "trap 'echo graceful > \"$AIF_JOB_DIR/bye\"; exit 0' TERM\necho ready\nwhile true; do sleep 0.1; done\n"
    bj = job(tmp_path, 6, {"script": script})
    backend_id = backend.submit(bj)
    wait_for(lambda: read(backend, backend_id, bj))
    backend.cancel([backend_id])
    assert final(backend, backend_id).state is JobState.CANCELLED
    assert (Path(bj.job_dir) / "bye").read_text() == "graceful\n"  # bubblewrap did not cut it short


def test_a_10000_task_array_starts_only_what_the_cpu_slots_allow(tmp_path: Path) -> None:
    backend = make(tmp_path, cpu_slots=2)
    bj = job(tmp_path, 7, {"command": ["sleep", "30"], "array": {"range": "0-9999"}})
    backend_id = backend.submit(bj)
    started = sorted(p.name for p in private(tmp_path, 7).glob("started-*"))
    assert 1 <= len(started) <= 2  # inside the submit: no more than the slots
    assert len(job_processes(bj.job_dir)) <= 2 * 6
    tasks = backend.status([backend_id])[backend_id].tasks
    assert len(tasks) == 10_000 and sum(s is JobState.RUNNING for s in tasks.values()) <= 2
    assert sum(s is JobState.QUEUED for s in tasks.values()) >= 9_998
    backend.cancel([backend_id])
    assert final(backend, backend_id, timeout=60).state is JobState.CANCELLED
    wait_for(lambda: not job_processes(bj.job_dir))


def test_without_a_sandbox_a_root_server_still_runs_the_job_as_its_owner(tmp_path: Path) -> None:
    with owners(1) as (owner,):
        backend = make(tmp_path, sandbox=SandboxConfig(program="bwrap-missing-here"))
        bj = owned(tmp_path, 8, {"script": "id -u; id -g\n"}, owner)
        world_traversable(Path(bj.job_dir).parent)  # no sandbox binds the folder: the owner walks to it
        assert output(backend, bj) == [str(owner.user.uid), str(owner.group.gid)]


def test_a_job_with_an_owner_is_refused_where_the_server_cannot_become_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = RunAs(PosixUser("aif-ada", 200001), PosixGroup("aif-p7", 300007))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # a server that is not root
    with pytest.raises(InvalidInput, match="cannot run jobs as their owner"):
        make(tmp_path).submit(BackendJob(**{**job(tmp_path, 9, {"command": ["true"]}).__dict__, "run_as": owner}))
