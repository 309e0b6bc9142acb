"""What a local job can reach, tried from inside real bubblewrap sandboxes: not the server's processes or
environment, not the data dir, the database or another job's folder, nothing to write outside its own folder,
no network unless the operator allows it; hidden paths stay hidden under bound ones; unprivileged servers get the
same sandbox in a user namespace."""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aifactory.backends import local_tasks
from aifactory.backends.local import LocalBackend
from aifactory.backends.local_sandbox import SandboxConfig, group_text, host_policy, identity, passwd_text
from aifactory.backends.sandbox import Mount, TaskSandbox, bwrap_argv
from aifactory.config import Settings
from aifactory.domain.jobs.states import JobState
from tests.support.local_jobs import MINUTE, final, job, make, read
from tests.support.sandbox import owners, require_bwrap, world_traversable

pytestmark = pytest.mark.usefixtures("_bwrap")


@pytest.fixture
def _bwrap() -> None:
    require_bwrap()


def factory(tmp_path: Path, **settings: Any) -> tuple[LocalBackend, Path]:
    """The local backend as ``serve`` builds it, on a data dir with a database file in it."""
    data = tmp_path / "data"
    built = Settings(data_dir=data, gpu_slots=0, **settings)
    built.ensure_dirs()
    (data / "aifactory.db").write_text("SECRET-DATABASE")
    backend = LocalBackend.from_settings(built)
    backend.timing = local_tasks.Timing(MINUTE, 1.0, 10.0)
    return backend, data


def run(backend: LocalBackend, root: Path, job_id: int, script: str, **doc: Any) -> str:
    bj = job(root, job_id, {"script": script, **doc})
    backend_id = backend.submit(bj)
    status = final(backend, backend_id)
    assert status.state is JobState.COMPLETED, (status, read(backend, backend_id, bj, "stderr"))
    return read(backend, backend_id, bj).decode()


def test_a_job_sees_neither_the_servers_processes_nor_their_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"s3cret-{secrets.token_hex(8)}"
    monkeypatch.setenv("AIFACTORY_SECRET_KEY", secret)
    backend, data = factory(tmp_path)
    needles = data / "jobs" / "1"
    needles.mkdir(parents=True)
    (needles / "needles").write_text(f"{secret}\n")  # read by grep -f: in no argv inside
    out = run(
        backend,
        data,
        1,
        'ls /proc | grep -cE "^[0-9]+$"\n'
        'cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n" '
        '| grep -c -F -f "$AIF_JOB_DIR/needles" || true\n'
        "tr '\\0' ' ' < /proc/1/cmdline | cut -d' ' -f1\n",
    )
    processes, found, init = out.split()
    assert int(processes) <= 8  # the sandbox's own: bubblewrap's init, bash and these commands
    assert found == "0" and os.path.basename(init) == "bwrap"


def test_a_job_cannot_see_the_data_dir_the_database_or_another_jobs_folder(tmp_path: Path) -> None:
    backend, data = factory(tmp_path)
    run(backend, data, 1, 'echo secret-of-job-1 > "$AIF_JOB_DIR/secret"\n')
    probes = [data / "aifactory.db", data / "jobs" / "1", data / "local-executor", data / "logs", "/etc/shadow"]
    probes += [Path.home() / ".ssh", Path.home() / ".bash_history"]
    out = run(
        backend,
        data,
        2,
        "".join(f'[ -e "{p}" ] && echo "seen {p}"\n' for p in probes)
        + f"ls -A {data}; echo --; ls -A {data}/jobs; echo --; cat /etc/passwd | cut -d: -f1\n",
    )
    assert "seen" not in out
    listing, jobs, users = (part.split() for part in out.split("--"))
    assert listing == ["jobs"] and jobs == ["2"] and users == ["root", "nobody"]
    assert (data / "jobs" / "1" / "secret").read_text() == "secret-of-job-1\n"


def test_a_job_writes_only_in_its_own_folder(tmp_path: Path) -> None:
    backend, data = factory(tmp_path)
    private = f"/tmp/aif-private-{secrets.token_hex(6)}"
    targets = ["/usr/pwned", "/etc/pwned", "/pwned", f"{sys.prefix}/pwned", f"{data}/pwned", f"{data}/jobs/pwned"]
    out = run(
        backend,
        data,
        3,
        "".join(f'touch "{t}" 2>/dev/null && echo "wrote {t}"\n' for t in targets)
        + f'echo private > {private} && cat {private}\necho mine > "$AIF_JOB_DIR/mine"\n',
    )
    # the sandbox's root is read-only; under /tmp (its own tmpfs, where pytest's data dir lies) a write stays in it
    assert [line for line in out.splitlines() if not line.startswith("wrote /tmp/")] == ["private"]
    assert not any(Path(t).exists() for t in targets) and not Path(private).exists()
    assert (data / "jobs" / "3" / "mine").read_text() == "mine\n"


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def connects(port: int) -> str:
    return f"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo connected-{port} || echo refused-{port}\n"


def test_no_network_by_default_not_even_the_databases_loopback(tmp_path: Path, listener: int) -> None:
    backend, data = factory(tmp_path)
    out = run(backend, data, 4, connects(listener) + connects(5432) + "getent hosts $(hostname)\n")
    assert out.split() == [f"refused-{listener}", "refused-5432", "127.0.0.1", "localhost", "aifactory-job"]
    allowed, _ = factory(tmp_path / "net", local_network=True)  # the operator's choice, weaker isolation
    assert run(allowed, tmp_path / "net" / "data", 5, connects(listener)).split() == [f"connected-{listener}"]


def test_hidden_paths_under_a_bound_folder_stay_hidden(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "private").mkdir(parents=True)
    (shared / "ok.txt").write_text("ok\n")
    (shared / "private" / "secret.txt").write_text("secret\n")
    (shared / "factory.db").write_text("database\n")
    hidden = (str(shared / "private"), str(shared / "factory.db"), str(tmp_path / "state"))
    backend = make(tmp_path, sandbox=SandboxConfig(readonly=(str(shared),), hidden=hidden))
    out = run(
        backend,
        tmp_path,
        6,
        f"cat {shared}/ok.txt; ls -A {shared}/private | wc -l; wc -c < {shared}/factory.db\n"
        f'touch {shared}/new 2>/dev/null && echo "wrote"; [ -e {tmp_path}/state ] && echo "seen state"; true\n',
    )
    assert out.split() == ["ok", "0", "0"]
    assert not (shared / "new").exists()


def test_an_unprivileged_server_gets_the_same_sandbox_in_a_user_namespace(tmp_path: Path, listener: int) -> None:
    """What a non-root server runs (bubblewrap unprivileged, no user namespaces inside), run as a real user."""
    with owners(1) as (owner,):
        folder = tmp_path / "jobs" / "1"
        folder.mkdir(parents=True)
        os.chown(folder, owner.user.uid, owner.group.gid)
        world_traversable(folder)
        who = identity(owner)
        (tmp_path / "passwd").write_text(passwd_text(who, str(folder)))
        (tmp_path / "group").write_text(group_text(who))
        policy = dataclasses.replace(host_policy(SandboxConfig(readonly=())), privileged=False)
        task = TaskSandbox(Mount(str(folder), str(folder)), str(tmp_path / "passwd"), str(tmp_path / "group"))
        script = (
            f"id -u; id -g; ls /proc | grep -cE '^[0-9]+$'; touch {folder}/mine && echo wrote-own\n"
            "touch /usr/pwned 2>/dev/null && echo wrote-usr; unshare -U true 2>/dev/null && echo nested-userns\n"
            + connects(listener)
        )
        argv = ["runuser", "-u", owner.user.name, "--", *bwrap_argv(policy, task), "bash", "-c", script]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        uid, gid, processes, *rest = done.stdout.split()
        assert (int(uid), int(gid)) == (owner.user.uid, owner.group.gid) and int(processes) <= 6
        assert rest == ["wrote-own", f"refused-{listener}"]
        assert (folder / "mine").stat().st_uid == owner.user.uid
