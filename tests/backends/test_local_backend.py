"""The local backend with real subprocesses: short jobs, bounded waits, no timing assertions.

A spec "minute" lasts ``MINUTE`` seconds here (``minute_seconds``), so a 1-minute time limit fires fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aifactory.backends import local_tasks
from aifactory.backends.local import LocalBackend
from aifactory.backends.local_proc import WRAPPER, is_ours
from aifactory.backends.local_sandbox import SandboxConfig, python_paths
from aifactory.backends.registry import backend_class
from aifactory.config import Settings
from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.execution import ProjectAccount
from aifactory.domain.jobs.states import TERMINAL, JobState
from aifactory.services.ports import BackendUnavailable, PriorityBackend
from tests.support.local_jobs import final, job, job_processes, make, open_gate, private, read, wait_for, wait_gate

HOSTILE = "$(touch PWNED); `touch PWNED`; 'quote\" && rm -rf / ; echo ${HOME}\\ \n|| true"
REPO = Path(__file__).parent.parent.parent


def test_registry_names_the_local_backend_and_it_builds_itself_from_settings(tmp_path: Path) -> None:
    assert backend_class("local") is LocalBackend
    built = LocalBackend.from_settings(Settings(data_dir=tmp_path, gpu_slots=3))
    assert built.root == tmp_path / "local-executor" and built.gpu_slots == 3
    assert isinstance(built, PriorityBackend)


def test_no_io_in_init(tmp_path: Path) -> None:
    make(tmp_path)
    assert not (tmp_path / "state").exists()


def test_completes_with_exit_zero_and_logs(tmp_path: Path) -> None:
    b = make(tmp_path)
    bj = job(tmp_path, 1, {"script": "echo hello out\necho hello err >&2\n", "env": {"GREETING": "hi"}})
    bid = b.submit(bj)
    assert bid == "local-1"
    st = final(b, bid)
    assert st.state is JobState.COMPLETED and st.exit_code == 0 and st.tasks == {0: JobState.COMPLETED}
    assert read(b, bid, bj) == b"hello out\n"
    assert read(b, bid, bj, "stderr") == b"hello err\n"
    chunk = b.logs(bid, bj.job_dir, "stdout", 0)
    assert chunk.complete and chunk.offset == len(b"hello out\n")
    d, state = Path(bj.job_dir), private(tmp_path, 1)
    assert {"user-script.sh", "stdout-0.log", "stderr-0.log"} <= {p.name for p in d.iterdir()}
    assert {"launch.sh", "job.json", "state.json", "exit-0", "launched-0"} <= {p.name for p in state.iterdir()}
    assert not {"launch.sh", "job.json", "exit-0", "started-0"} & {p.name for p in d.iterdir()}  # out of its reach
    assert json.loads((state / "state.json").read_text())["state"] == "completed"


def test_a_hundred_quick_tasks_all_complete(tmp_path: Path) -> None:
    """Polled right after each start: no task is taken for gone while its wrapper starts."""
    b = make(tmp_path)
    bids = []
    for n in range(100, 200):
        bids.append(b.submit(job(tmp_path, n, {"script": "echo hello"})))
        b.poll()  # right after the spawn: the wrapper may still be inside execve
    finals = wait_for(lambda: (s := b.status(bids)) and all(x.state in TERMINAL for x in s.values()) and s, 60)
    assert {bid: st.state for bid, st in finals.items() if st.state is not JobState.COMPLETED} == {}


def test_a_process_inside_execve_counts_as_the_tasks() -> None:
    """Regression: a wrapper polled while still inside execve (empty argv in /proc) was taken for gone and its
    task settled 'failed without an exit code' (about one start in a hundred under load)."""
    job_dir = "/data/jobs/7"
    no_env = lambda: b""  # noqa: E731
    assert is_ours(b"", no_env, job_dir)
    assert is_ours(b"bash\0-c\0...\0aif-task\0/data/jobs/7\0" + b"0\0", no_env, job_dir)
    assert is_ours(b"python\0train.py\0", lambda: b"PATH=/bin\0AIF_JOB_DIR=/data/jobs/7\0", job_dir)
    assert not is_ours(b"python\0train.py\0", lambda: b"AIF_JOB_DIR=/data/jobs/70\0", job_dir)
    assert not is_ours(b"bash\0/data/jobs/70\0", no_env, job_dir)


def test_failing_exit_code(tmp_path: Path) -> None:
    b = make(tmp_path)
    bid = b.submit(job(tmp_path, 2, {"command": ["bash", "-c", "echo bad >&2; exit 3"]}))
    st = final(b, bid)
    assert st.state is JobState.FAILED and st.exit_code == 3


def test_time_limit_gives_timeout(tmp_path: Path) -> None:
    b = make(tmp_path)
    bid = b.submit(job(tmp_path, 3, {"command": ["sleep", "60"], "resources": {"time": 1}}))
    st = final(b, bid)
    assert st.state is JobState.TIMEOUT and st.tasks == {0: JobState.TIMEOUT}


def test_sigkill_after_grace_when_sigterm_is_ignored(tmp_path: Path) -> None:
    b = make(tmp_path)
    script = "trap '' TERM\necho stubborn\nfor n in $(seq 300); do sleep 0.1; done\n"  # bounded
    bj = job(tmp_path, 4, {"script": script, "resources": {"time": 1}})
    bid = b.submit(bj)
    wait_for(lambda: read(b, bid, bj))
    assert final(b, bid).state is JobState.TIMEOUT
    assert job_processes(bj.job_dir) == []


def test_what_a_finished_command_leaves_behind_is_killed(tmp_path: Path) -> None:
    b = make(tmp_path)
    bj = job(tmp_path, 7, {"script": "sleep 30 &\necho $! > background\n"})
    bid = b.submit(bj)
    assert final(b, bid).state is JobState.COMPLETED
    wait_for(lambda: not job_processes(bj.job_dir))


def test_torchrun_on_one_node_uses_a_standalone_rendezvous(tmp_path: Path) -> None:
    b = make(tmp_path, gpu_slots=2)
    b.submit(
        job(
            tmp_path,
            8,
            {
                "command": ["train.py", "--lr", "0.1; rm -rf /"],
                "launcher": "torchrun",
                "resources": {"gpus_per_node": 2, "time": 1},
            },
        )
    )
    launch = (private(tmp_path, 8) / "launch.sh").read_text()
    assert "torchrun --standalone --nproc-per-node=2 train.py --lr '0.1; rm -rf /'" in launch
    assert "srun" not in launch and "SLURM_ARRAY_TASK_ID" not in launch


def test_cancel_running_and_queued(tmp_path: Path) -> None:
    b = make(tmp_path, gpu_slots=1)
    running = b.submit(job(tmp_path, 5, {"command": ["sleep", "60"], "resources": {"gpus_per_node": 1}}))
    queued = b.submit(job(tmp_path, 6, {"command": ["sleep", "60"], "resources": {"gpus_per_node": 1}}))
    states = b.status([running, queued])
    assert states[running].state is JobState.RUNNING and states[queued].state is JobState.QUEUED
    b.cancel([running, queued])
    assert final(b, running).state is JobState.CANCELLED
    assert final(b, queued).state is JobState.CANCELLED
    assert not (private(tmp_path, 6) / "started-0").exists()  # never ran
    assert b.usage([queued])[queued].elapsed_seconds == 0


def test_gpu_slots_queue_and_distinct_devices(tmp_path: Path) -> None:
    b = make(tmp_path, gpu_slots=2)
    script = f'echo "$CUDA_VISIBLE_DEVICES"\n{wait_gate()}\n'
    jobs = [job(tmp_path, 10 + n, {"script": script, "resources": {"gpus_per_node": 1}}) for n in range(3)]
    ids = [b.submit(j) for j in jobs]
    wait_for(lambda: all(read(b, i, j) for i, j in zip(ids[:2], jobs[:2], strict=True)))
    states = b.status(ids)
    assert [states[i].state for i in ids] == [JobState.RUNNING, JobState.RUNNING, JobState.QUEUED]
    devices = {read(b, i, j).strip() for i, j in zip(ids[:2], jobs[:2], strict=True)}
    assert devices == {b"0", b"1"}
    open_gate(*jobs)
    for i in ids:
        assert final(b, i).state is JobState.COMPLETED
    assert read(b, ids[2], jobs[2]).strip() in devices


def test_more_gpus_than_slots_or_nodes_is_refused(tmp_path: Path) -> None:
    b = make(tmp_path, gpu_slots=2)
    with pytest.raises(InvalidInput) as err:
        b.submit(job(tmp_path, 20, {"command": ["true"], "resources": {"gpus_per_node": 4}}))
    assert err.value.errors[0].field == "resources.gpus_per_node"
    with pytest.raises(InvalidInput) as err:
        b.submit(job(tmp_path, 21, {"command": ["true"], "resources": {"nodes": 2}}))
    assert err.value.errors[0].field == "resources.nodes" and "one node" in str(err.value)


def test_array_and_grid_tasks_get_their_parameters(tmp_path: Path) -> None:
    b = make(tmp_path)
    grid = job(
        tmp_path,
        30,
        {
            "script": 'echo "$AIF_TASK_INDEX $AIF_PARAM_lr $AIF_PARAM_depth $AIF_JOB_ID"\n',
            "array": {"grid": {"lr": [0.1, 0.01], "depth": [3, HOSTILE]}, "max_parallel": 2},
        },
    )
    bid = b.submit(grid)
    st = final(b, bid)
    assert st.state is JobState.COMPLETED and set(st.tasks) == {0, 1, 2, 3}
    outputs = [read(b, bid, grid, task=i).decode() for i in range(4)]
    assert outputs == ["0 0.1 3 30\n", f"1 0.1 {HOSTILE} 30\n", "2 0.01 3 30\n", f"3 0.01 {HOSTILE} 30\n"]
    rng = job(
        tmp_path,
        31,
        {"command": ["bash", "-c", "exit $(( AIF_TASK_INDEX == 4 ? 5 : 0 ))"], "array": {"range": "2-6:2"}},
    )
    st = final(b, b.submit(rng))
    assert st.state is JobState.FAILED and st.exit_code == 5
    assert st.tasks == {2: JobState.COMPLETED, 4: JobState.FAILED, 6: JobState.COMPLETED}


def test_restart_readopts_running_and_finished_without_duplicates(tmp_path: Path) -> None:
    script = f"echo started\n{wait_gate()}\necho done\n"
    docs = {
        40: {"script": script, "resources": {"gpus_per_node": 1}},
        41: {"script": "echo second", "resources": {"gpus_per_node": 1}},
        42: {"command": ["echo", "quick"]},
    }
    running, waiting, done = (job(tmp_path, n, d) for n, d in docs.items())
    server = (  # the first "server" is another process, killed (SIGKILL) after its submits
        "import json, os, sys, time; from pathlib import Path; sys.path.insert(0, sys.argv[1])\n"
        "from tests.support.local_jobs import job, make\n"
        "root, docs = Path(sys.argv[2]), json.loads(sys.argv[3])\n"
        "b = make(root, gpu_slots=1)\nids = [b.submit(job(root, int(n), d)) for n, d in docs.items()]\n"
        "for _ in range(600):\n    if (root / 'state/tasks/local-42/exit-0').exists(): break\n    time.sleep(0.05)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", server, str(REPO), str(tmp_path), json.dumps(docs)],
        timeout=30,
        check=False,
    )
    assert proc.returncode == -9
    ids = ["local-40", "local-41", "local-42"]
    second = make(tmp_path, gpu_slots=1)
    wait_for(lambda: read(second, ids[0], running))
    states = second.status(ids)
    assert [states[i].state for i in ids] == [JobState.RUNNING, JobState.QUEUED, JobState.COMPLETED]
    assert second.submit(running) == ids[0]  # a retried submit is not a second job
    open_gate(running)
    third = make(tmp_path, gpu_slots=1)
    assert final(third, ids[0]).state is JobState.COMPLETED
    assert final(third, ids[1]).state is JobState.COMPLETED
    assert read(third, ids[0], running) == b"started\ndone\n"  # ran once
    assert read(third, ids[1], waiting) == b"second\n"
    assert read(third, ids[2], done) == b"quick\n"


def test_a_start_interrupted_before_the_spawn_is_queued_again_and_runs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server died between marking a task started and spawning it (or took the child down with its
    process group): after the start grace the task is queued again and runs; a stale wrapper runs nothing."""

    def die(*_: Any) -> int:
        raise KeyboardInterrupt  # the "crash" right after started-0 is written

    monkeypatch.setattr(local_tasks, "spawn", die)
    b = make(tmp_path, start_grace_seconds=0.5)
    bj = job(tmp_path, 50, {"command": ["echo", "once"]})
    with pytest.raises(KeyboardInterrupt):
        b.submit(bj)
    d = private(tmp_path, 50)
    stale = json.loads((d / "started-0").read_text())["token"]
    monkeypatch.undo()
    assert b.status(["local-50"])["local-50"].state is JobState.RUNNING  # within the grace: maybe starting
    st = final(b, "local-50")
    assert st.state is JobState.COMPLETED and read(b, "local-50", bj) == b"once\n"
    assert (d / "requeued-0").exists()
    late = subprocess.run(
        ["bash", "-c", WRAPPER, "aif-task", str(d), "0", stale, bj.job_dir, "bash", "/dev/fd/4"],
        timeout=10,
        check=False,
    )  # the first start's wrapper, arriving late
    assert late.returncode == 0 and read(b, "local-50", bj) == b"once\n"  # ran nothing


def test_logs_with_offsets(tmp_path: Path) -> None:
    b = make(tmp_path)
    bj = job(tmp_path, 50, {"script": f"echo abcdef\n{wait_gate()}\necho ghi\n"})
    bid = b.submit(bj)
    first = wait_for(lambda: (c := b.logs(bid, bj.job_dir, "stdout", 0, limit=4)).data and c)
    assert first.data == b"abcd" and first.offset == 4 and not first.complete
    rest = b.logs(bid, bj.job_dir, "stdout", first.offset)
    assert rest.data == b"ef\n" and not rest.complete
    open_gate(bj)
    final(b, bid)
    tail = b.logs(bid, bj.job_dir, "stdout", rest.offset, limit=2)
    assert tail.data == b"gh" and not tail.complete  # over, but not everything read yet
    last = b.logs(bid, bj.job_dir, "stdout", tail.offset)
    assert last.data == b"i\n" and last.complete and last.offset == 11
    assert b.logs(bid, bj.job_dir, "stderr", 0).data == b""


def test_usage_measures_wall_time_and_gpus(tmp_path: Path) -> None:
    b = make(tmp_path, gpu_slots=2)
    bid = b.submit(job(tmp_path, 60, {"command": ["sleep", "1.2"], "resources": {"gpus_per_node": 2}}))
    final(b, bid)
    u = b.usage([bid, "local-999", "nonsense/../x"])
    assert set(u) == {bid}
    use = u[bid]
    assert use.gpus == 2 and use.nodes == 1 and use.elapsed_seconds >= 1
    assert use.started_at is not None and use.ended_at is not None and use.ended_at >= use.started_at


def test_hostile_strings_are_inert(tmp_path: Path) -> None:
    b = make(tmp_path)
    work = "work dir $(touch PWNED)"
    bj = job(
        tmp_path, 70, {"command": ["printf", "%s|%s", HOSTILE, "$EVIL"], "env": {"EVIL": HOSTILE}, "workdir": work}
    )
    bid = b.submit(bj)
    assert final(b, bid).state is JobState.COMPLETED
    assert read(b, bid, bj).decode() == f"{HOSTILE}|$EVIL"
    env_job = job(tmp_path, 71, {"command": ["bash", "-c", 'printf %s "$EVIL"'], "env": {"EVIL": HOSTILE}})
    bid2 = b.submit(env_job)
    final(b, bid2)
    assert read(b, bid2, env_job).decode() == HOSTILE
    assert not any(p.name == "PWNED" for p in tmp_path.rglob("*"))
    assert not (Path.cwd() / "PWNED").exists()


def test_server_secrets_do_not_reach_the_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIFACTORY_DATABASE_URL", "postgresql://secret")
    b = make(tmp_path)
    bj = job(tmp_path, 75, {"command": ["bash", "-c", 'echo "${AIFACTORY_DATABASE_URL:-none}"']})
    bid = b.submit(bj)
    final(b, bid)
    assert read(b, bid, bj) == b"none\n"


def test_container_without_apptainer_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin") + os.pathsep + "/usr/bin:/bin")
    if any((Path(p) / "apptainer").exists() for p in ("/usr/bin", "/bin")):
        pytest.skip("apptainer is installed here")
    b = make(tmp_path)
    with pytest.raises(InvalidInput) as err:
        b.submit(job(tmp_path, 80, {"command": ["python"], "container": {"image": "/images/x.sif"}}))
    assert err.value.errors[0].field == "container.image" and "apptainer" in str(err.value).lower()
    assert not (tmp_path / "jobs" / "80").exists()


def test_container_runs_through_apptainer_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "apptainer").write_text('#!/bin/bash\necho "apptainer $*" >&2\nshift 2\nexec "$@"\n')
    (fake / "apptainer").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    # where the operator installed it is bound read-only into the sandbox (AIFACTORY_LOCAL_RO_PATHS)
    b = make(tmp_path, sandbox=SandboxConfig(readonly=(*python_paths(), str(fake))))
    bj = job(tmp_path, 81, {"command": ["echo", "inside"], "container": {"image": "/images/x.sif"}})
    bid = b.submit(bj)
    assert final(b, bid).state is JobState.COMPLETED
    assert read(b, bid, bj) == b"inside\n"
    assert read(b, bid, bj, "stderr") == b"apptainer exec /images/x.sif echo inside\n"


def test_find_by_comment_and_ensure_project(tmp_path: Path) -> None:
    b = make(tmp_path)
    assert b.find_by_comment("aif:test:90") is None
    bid = b.submit(job(tmp_path, 90, {"command": ["true"]}))
    assert make(tmp_path).find_by_comment("aif:test:90") == bid
    assert b.find_by_comment("aif:test:91") is None
    b.ensure_project(ProjectAccount("p7"))
    assert b.status(["local-12345", "bogus"]) == {}


def test_an_executor_whose_files_cannot_be_used_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file where the executor's folder should be")
    b = make(tmp_path)
    with pytest.raises(BackendUnavailable, match="cannot be used"):
        b.submit(job(tmp_path, 95, {"command": ["true"]}))
    with pytest.raises(BackendUnavailable):
        b.status(["local-95"])
    assert not (private(tmp_path, 95) / "started-0").exists()
