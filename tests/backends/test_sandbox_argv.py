"""The sandbox's argv, exactly (``backends.sandbox`` is pure): what is bound, in which order, what is masked,
which namespaces, limits and identity switch. The real thing runs in test_local_sandbox.py."""

from __future__ import annotations

from aifactory.backends.sandbox import (
    ETC,
    Hidden,
    Limits,
    Mount,
    SandboxPolicy,
    TaskSandbox,
    bwrap_argv,
    limits_argv,
    setpriv_argv,
    task_argv,
)
from aifactory.domain.posix import PosixGroup, PosixUser, RunAs

POLICY = SandboxPolicy(
    system_links=(("/bin", "usr/bin"), ("/lib", "usr/lib")),
    system_dirs=("/usr",),
    readonly=(Mount("/opt/py", "/opt/py"), Mount("/srv/data/inner", "/srv/data/inner")),
    hidden=(Hidden("/opt/py/secret", True), Hidden("/opt/py/db.sqlite", False), Hidden("/srv/data", True)),
    network=False,
    privileged=True,
)
TASK = TaskSandbox(
    Mount("/srv/data/jobs/7", "/srv/data/jobs/7"),
    "/srv/data/x/passwd",
    "/srv/data/x/group",
    inputs=(Mount("/srv/inputs/a", "/srv/inputs/a"),),
    gpus=(1,),
    switch_user=True,
    hosts="/srv/data/x/hosts",
)
OWNER = RunAs(PosixUser("aif-ada", 200001), PosixGroup("aif-p7", 300007))

NAMESPACES = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
SYSTEM = [
    *("--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib"),
    *("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm"),
    *(
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
        "--perms",
        "1777",
        "--tmpfs",
        "/var/tmp",
        "--perms",
        "0755",
        "--dir",
        "/etc",
    ),
    *(word for path in ETC for word in ("--ro-bind-try", path, path)),
]


def test_a_root_servers_task_with_an_owner_gpus_inputs_and_hidden_paths() -> None:
    assert bwrap_argv(POLICY, TASK, "/usr/bin/bwrap") == [
        "/usr/bin/bwrap",
        *NAMESPACES,
        *("--unshare-net", "--hostname", "aifactory-job"),  # no network by default; a hostname of its own
        *("--die-with-parent", "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"),
        *SYSTEM,
        *("--perms", "0755", "--dir", "/opt", "--ro-bind", "/opt/py", "/opt/py"),  # /srv/data/inner: hidden, unbound
        *("--perms", "0755", "--tmpfs", "/opt/py/secret", "--remount-ro", "/opt/py/secret"),  # masked folder
        *("--dev-bind", "/dev/null", "/opt/py/db.sqlite"),  # masked file
        *("--ro-bind", "/srv/data/x/passwd", "/etc/passwd", "--ro-bind", "/srv/data/x/group", "/etc/group"),
        *("--ro-bind", "/srv/data/x/hosts", "/etc/hosts"),  # its hostname is its loopback
        *("--dev-bind-try", "/dev/nvidiactl", "/dev/nvidiactl", "--dev-bind-try", "/dev/nvidia-uvm", "/dev/nvidia-uvm"),
        *("--dev-bind-try", "/dev/nvidia-uvm-tools", "/dev/nvidia-uvm-tools"),
        *("--dev-bind-try", "/dev/nvidia-modeset", "/dev/nvidia-modeset"),
        *("--dev-bind-try", "/dev/nvidia1", "/dev/nvidia1", "--ro-bind-try", "/sys", "/sys"),  # its GPU only
        *("--perms", "0755", "--dir", "/srv", "--perms", "0755", "--dir", "/srv/inputs"),
        *("--ro-bind", "/srv/inputs/a", "/srv/inputs/a"),  # inputs read-only, after the masks
        *("--perms", "0755", "--dir", "/srv/data", "--perms", "0755", "--dir", "/srv/data/jobs"),
        *("--bind", "/srv/data/jobs/7", "/srv/data/jobs/7"),  # its folder read-write, at its own path
        *("--remount-ro", "/", "--"),
    ]


def test_an_unprivileged_servers_probe_with_the_network_allowed() -> None:
    policy = SandboxPolicy((("/bin", "usr/bin"), ("/lib", "usr/lib")), ("/usr",), (), (), network=True)
    assert bwrap_argv(policy, None) == [
        "bwrap",
        *NAMESPACES,
        *("--unshare-user", "--disable-userns", "--die-with-parent", "--cap-drop", "ALL"),
        *SYSTEM,
        *("--remount-ro", "/", "--"),
    ]


def test_a_task_without_gpus_sees_only_the_cpu_topology_of_sys() -> None:
    task = TaskSandbox(Mount("/j/1", "/j/1"), "/p", "/g")
    args = bwrap_argv(POLICY, task)
    assert "--cap-add" not in args and "/dev/nvidiactl" not in args
    assert (
        args[-12:]
        == [
            *("--ro-bind", "/p", "/etc/passwd", "--ro-bind", "/g", "/etc/group"),
            *("--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"),
            *("--perms", "0755", "--dir", "/j", "--bind", "/j/1", "/j/1", "--remount-ro", "/", "--"),
        ][-12:]
    )


def test_a_folder_behind_a_symlink_is_bound_where_the_job_knows_it() -> None:
    task = TaskSandbox(Mount("/real/jobs/3", "/data/jobs/3"), "/p", "/g")
    assert bwrap_argv(POLICY, task)[-6:-3] == ["--bind", "/real/jobs/3", "/data/jobs/3"]


def test_limits_pinning_identity_and_launch() -> None:
    limits = Limits(processes=64, open_files=256, memory_bytes=1 << 30, cpus=(0, 3))
    assert limits_argv(limits) == [
        *("prlimit", "--nproc=64", "--nofile=256", f"--as={1 << 30}", "--"),
        *("taskset", "--cpu-list", "0,3"),
    ]
    assert limits_argv(Limits()) == []
    assert setpriv_argv(OWNER) == [
        *("setpriv", "--reuid=200001", "--regid=300007", "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--"),
    ]
    sandbox = bwrap_argv(POLICY, TASK)
    assert task_argv(limits, sandbox, OWNER) == [
        *limits_argv(limits),
        *sandbox,
        *setpriv_argv(OWNER),
        "bash",
        "/dev/fd/4",
    ]
    assert task_argv(Limits(), None, None) == ["bash", "/dev/fd/4"]  # no sandbox could be made
