"""A job's inputs staged read-only in its folder (``<job_dir>/inputs/<name>``), for every backend alike.

A file keeps its own name (``inputs/<name>/sales.csv``: its suffix tells CSV from Parquet); a folder is
``inputs/<name>``. The gateway resolved each input to the server's path of the bytes (``services.job_inputs``):
a stored file of the job's project, or a registered dataset's content. Those files never change in place (a
new upload replaces a name by a rename; a dataset's content is fixed), so what is staged is a snapshot taken
at submission:

* a **hard link** to the same inode when the job can read it but not write it: the job runs as its owner, the
  file is the server's, group-readable by the job's own project group and writable by nobody but the server
  (a stored file of the job's own project: 0640, the project's group), or the job runs in the local sandbox,
  which binds it read-only on top. No byte is copied; a later upload or removal does not change what the
  job reads.
* else a **copy**, the server's, mode 0440 with the job's project group (another project's dataset, whose
  group the job does not have; a job running as the server's own user outside a sandbox).

The ``inputs`` folder and its sub-folders are the server's, mode 0550: the job lists and reads them, and can
neither write, replace nor remove anything in them.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from ..domain.errors import InvalidInput
from ..domain.jobs.execution import INPUTS_SUBDIR, BackendJob, StagedInput
from ..domain.posix import RunAs

FILE_MODE, DIR_MODE = 0o440, 0o550


def may_link(st: os.stat_result, run_as: RunAs | None, confined: bool) -> bool:
    """Whether a hard link to this inode is read-only for the job (see the module's docstring)."""
    if run_as is None:
        return confined
    return (
        st.st_gid == run_as.group.gid
        and st.st_uid != run_as.user.uid
        and not st.st_mode & 0o022
        and bool(st.st_mode & stat.S_IRGRP)
    )


def stage_inputs(job: BackendJob, *, confined: bool) -> list[str]:
    """Stage every input of ``job`` (idempotent: what is there already stays); the staged paths. An input
    whose source is gone is the job's refusal (``InvalidInput`` naming ``inputs.<name>``)."""
    if not job.inputs:
        return []
    top = Path(job.job_dir) / INPUTS_SUBDIR
    gid = job.run_as.group.gid if job.run_as is not None else -1
    top.mkdir(mode=0o750, exist_ok=True)
    top.chmod(0o750)  # ours to fill (again, after an interrupted submission); closed below
    staged = []
    for item in job.inputs:
        dest = Path(item.path(job.job_dir))
        if not os.path.lexists(dest):
            _stage(item, dest, job.run_as, confined, gid)
        staged.append(str(dest))
    _close(top, gid)
    return staged


def _stage(item: StagedInput, dest: Path, run_as: RunAs | None, confined: bool, gid: int) -> None:
    source = Path(item.source) if item.source else None
    if source is None or not source.exists():
        raise InvalidInput.on(f"inputs.{item.name}", "its file or dataset is no longer there")
    if not source.is_dir():
        dest.parent.mkdir(exist_ok=True)  # inputs/<name>/, closed with the rest
        _file(source, dest, run_as, confined, gid)
        return
    tmp = dest.with_name(f".{dest.name}.staging")
    shutil.rmtree(tmp, ignore_errors=True)
    for folder, _dirs, files in os.walk(source):  # the server's own folder (storage or dataset): trusted
        target = tmp / os.path.relpath(folder, source)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            _file(Path(folder) / name, target / name, run_as, confined, gid)
    _close(tmp, gid)
    tmp.rename(dest)


def _file(source: Path, dest: Path, run_as: RunAs | None, confined: bool, gid: int) -> None:
    st = os.stat(source)
    if may_link(st, run_as, confined):
        try:
            os.link(source, dest)
            return
        except OSError:
            pass  # another filesystem, or links refused: a copy
    tmp = dest.with_name(f".{dest.name}.copy")
    shutil.copyfile(source, tmp)
    os.chown(tmp, -1, gid)
    os.chmod(tmp, FILE_MODE)
    tmp.rename(dest)


def _close(top: Path, gid: int) -> None:
    """Every folder from ``top`` down: the job's group, read and pass only."""
    for folder, dirs, _files in os.walk(top):
        for name in [*dirs, ""]:
            path = os.path.join(folder, name) if name else folder
            os.chown(path, -1, gid)
            os.chmod(path, DIR_MODE)
