"""Slurm's commands as a job's owner, and the owner's job folder.

``sbatch`` and ``scancel`` run as the job's POSIX user (``domain.posix.RunAs``), never as one shared user:

* ``runuser`` (the server runs as root, as in CI): ``runuser -u USER -g GROUP -- env -i NAME=VALUE... sbatch ...``.
  ``-g`` makes the project's group the primary group (Slurm runs the job with the submitter's gid; the nodes
  add the user's other groups). ``env -i`` with a short allowlist: sbatch hands its whole environment to the
  job, and the server's (its secret key, its database URL) is none of the job's business.
* ``sudo`` (a non-root service account): ``sudo -n -u USER -g GROUP -- sbatch ...``, allowed by a sudoers rule
  limited to sbatch and scancel (docs/security.md has the rule); sudo resets the environment itself.

The job folder is the owner's, with the project's group and mode 2770 (nothing for others); the files the
gateway writes there (the batch script, the user's script) are the owner's too, mode 0640.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...domain.posix import IdentityPolicy, RunAs
from ...services.ports import BackendUnavailable

KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SLURM_CONF")  # what sbatch may pass on of the server's environment
JOB_UMASK = "0007"  # the job's files: owner and project group, nothing for others
FOLDER_MODE = 0o2770
FILE_MODE = 0o640
MODES = ("runuser", "sudo")


@dataclass(frozen=True)
class OwnerCommands:
    """How a command runs as a job's owner: ``runuser`` or ``sudo``."""

    mode: str

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown way to run as a job's owner: {self.mode!r} (valid: {', '.join(MODES)})")

    @classmethod
    def for_setting(cls, setting: str, *, root: bool | None = None) -> OwnerCommands:
        """``auto``: runuser when the server runs as root, else sudo."""
        if setting != "auto":
            return cls(setting)
        return cls("runuser" if (os.geteuid() == 0 if root is None else root) else "sudo")

    def prefix(self, user: str, group: str | None, *, home: str | None = None) -> list[str]:
        """The argv that goes before the Slurm command (names checked: nothing else reaches the argv)."""
        who = ["-u", IdentityPolicy.checked(user)]
        if group is not None:
            who += ["-g", IdentityPolicy.checked(group)]
        if self.mode == "sudo":
            return ["sudo", "-n", *who, "--"]
        env = [f"{name}={os.environ[name]}" for name in KEPT_ENV if name in os.environ]
        env.append(f"SLURM_UMASK={JOB_UMASK}")
        if home is not None:
            env.append(f"HOME={home}")
        return ["runuser", *who, "--", "env", "-i", *env]


def prepare_folder(job_dir: Path, run_as: RunAs, files: Sequence[Path]) -> None:
    """The folder and the gateway's files in it become the owner's (as root; a service account can only give
    them the project's group, which it must then belong to), then the folder 2770 and the files 0640."""
    uid = run_as.user.uid if os.geteuid() == 0 else -1
    gid = run_as.group.gid
    try:
        os.chown(job_dir, uid, gid)
        os.chmod(job_dir, FOLDER_MODE)
        for path in files:
            os.chown(path, uid, gid)
            os.chmod(path, FILE_MODE)
    except OSError as exc:
        raise BackendUnavailable(f"the job folder cannot be given to {run_as.user.name}: {exc}") from exc
    check_reachable(job_dir)


def check_reachable(job_dir: Path) -> None:
    """Every folder above the job's must let others through (o+x), or Slurm cannot even open the job's log:
    the data folder and the jobs root are 0711 (``Settings.ensure_dirs``); so must be the folders above them."""
    for parent in job_dir.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise BackendUnavailable(
                f"job identities cannot reach {job_dir}: {parent} is mode {stat.S_IMODE(mode):04o}, it needs o+x "
                "(AIFACTORY_DATA_DIR and every folder above it must be traversable; the data folder itself is 0711)"
            )
