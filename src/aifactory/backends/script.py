"""The parts of a job's launch script every backend renders alike (pure functions, golden-file tested through
the Slurm script): the environment lines, the line that enters the working directory, and the command line.

Nothing user-supplied reaches a script unquoted: every user value (env values, paths, argv, grid parameters)
goes through ``shlex.quote``. A ``script`` job's text is never embedded: the backend writes it to its own
file (``user-script.sh``) and the launch script runs ``bash`` on that file.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..domain.jobs.execution import WORK_SUBDIR
from ..domain.jobs.spec import JobSpec
from . import launchers

USER_SCRIPT = "user-script.sh"  # a script job's text, written by the backend into the job folder


@dataclass(frozen=True)
class BatchContext:
    """What the gateway decides for a job (never the user)."""

    job_id: int
    account: str
    partition: str
    job_dir: str  # absolute; logs and the user's script live here
    comment: str  # marks the job as ours, for reconciliation after a crash
    inputs: tuple[tuple[str, str], ...] = ()  # (AIF_INPUT_<NAME>, the staged path), see backends.staging

    @property
    def job_name(self) -> str:
        return f"aif-{self.job_id}"


def cd_line(workdir: str | None, job_dir: str) -> str:
    """The shell line that creates and enters the job's working directory: ``<job_dir>/work``, or the spec's
    ``workdir`` inside it (a relative path without '..', checked by the spec)."""
    inside = f"/{workdir}" if workdir and workdir != "." else ""
    target = shlex.quote(f"{job_dir}/{WORK_SUBDIR}{inside}")
    return f"mkdir -p {target} && cd {target}"


def environment(spec: JobSpec, ctx: BatchContext, *, task_index: str) -> list[str]:
    """The ``export`` lines (quoted): gateway variables, the user's env, AIF_TASK_INDEX from the shell
    expression ``task_index`` (trusted text, never user input), and the grid's AIF_PARAM_* per index."""
    lines = [f"export AIF_JOB_ID={ctx.job_id}", f"export AIF_JOB_DIR={shlex.quote(ctx.job_dir)}"]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(spec.env.items())]
    lines += [f"export {key}={shlex.quote(path)}" for key, path in ctx.inputs]
    lines.append(f"export AIF_TASK_INDEX={task_index}")  # 0 for a job that is no sweep
    if spec.array and spec.array.grid:
        lines.append('case "$AIF_TASK_INDEX" in')
        for index, params in zip(spec.array.indices, spec.array.grid, strict=True):
            exports = "; ".join(f"export AIF_PARAM_{k}={shlex.quote(str(v))}" for k, v in params.items())
            lines.append(f"  {index}) {exports} ;;")
        lines.append("esac")
    return lines


def command_line(spec: JobSpec, job_dir: str, *, multi_node_wrapper: bool = True) -> str:
    """The shell text that runs the user's work (container, launcher), quoted throughout."""
    r = spec.resources
    prefix = launchers.container_prefix(spec.container_image, spec.container_binds, r.gpus_per_node > 0)
    if spec.script is not None:
        argv = [*prefix, "bash", f"{job_dir}/{USER_SCRIPT}"]
    else:
        assert spec.command is not None
        argv = [*prefix, *spec.command]
    if spec.launcher == "torchrun":
        return launchers.torchrun(list(spec.command or ()), r.nodes, r.gpus_per_node, prefix)
    if r.nodes > 1 and multi_node_wrapper:
        return launchers.srun_per_node(argv, r.nodes)
    return launchers.plain(argv)
