"""CPU time from Linux's /proc: of a process, of the PostgreSQL backends serving a database, of the machine."""

from __future__ import annotations

import os


def _proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (Linux; empty when the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def process_cpu_seconds(pid: int, children: bool = False) -> float:
    """user + system CPU time of one process so far, or of its exited children (0 when it is gone)."""
    fields = _proc_stat(pid)
    if len(fields) < 15:
        return 0.0
    i = 13 if children else 11  # cutime, cstime / utime, stime
    return (int(fields[i]) + int(fields[i + 1])) / os.sysconf("SC_CLK_TCK")


def process_group(pgid: int) -> list[int]:
    """The processes of a process group (a server started with start_new_session and its workers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids or [pgid]


def database_cpu_seconds(database: str | None) -> float:
    """CPU time so far of the PostgreSQL backends serving ``database`` (their command line names it), plus
    that of the postmaster's exited children: the short-lived parallel workers that sort for those backends
    (exited backends of other databases would count too; on a quiet server there are none)."""
    if not database:
        return 0.0
    needle = f" {database} ".encode()
    total, postmasters = 0.0, set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmdline = fh.read()
            except OSError:
                continue
            if cmdline.startswith(b"postgres:") and needle in cmdline:
                total += process_cpu_seconds(int(entry))
                fields = _proc_stat(int(entry))
                if fields:
                    postmasters.add(int(fields[1]))  # ppid
    return total + sum(process_cpu_seconds(pm, children=True) for pm in postmasters)


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
