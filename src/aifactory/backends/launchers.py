"""Launchers wrap the user's command for the allocation (Parsl's idea): independent of the scheduler.

Each returns shell text in which every user-supplied word is quoted with shlex.quote.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

APPTAINER = "apptainer"


def container_prefix(image: str | None, binds: Sequence[str], gpus: bool) -> list[str]:
    """``apptainer exec [--nv] [--bind b]... IMAGE`` as argv words (unquoted; callers quote)."""
    if image is None:
        return []
    words = [APPTAINER, "exec"] + (["--nv"] if gpus else [])
    for bind in binds:
        words += ["--bind", bind]
    return words + [image]


def plain(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def srun_per_node(argv: Sequence[str], nodes: int) -> str:
    """One task per node: how a multi-node job without a launcher runs its command everywhere."""
    return shlex.join(["srun", f"--nodes={nodes}", "--ntasks-per-node=1", *argv])


TORCHRUN_RENDEZVOUS = """\
nodes=( $(scontrol show hostnames "$SLURM_JOB_NODELIST") )
export MASTER_ADDR="${nodes[0]}"
export MASTER_PORT=$(( 29500 + SLURM_JOB_ID % 1000 ))"""


def torchrun(argv: Sequence[str], nodes: int, gpus_per_node: int, prefix: Sequence[str] = ()) -> str:
    """Multi-node PyTorch: MASTER_ADDR/PORT from the allocation, one srun task per node, and torchrun on
    each with its node rank from ``$SLURM_NODEID``. The user's argv reaches torchrun as positional
    arguments of ``bash -c``, never as shell text."""
    per_node = max(gpus_per_node, 1)
    head = [*prefix, "torchrun"]
    n = len(head)
    inner = (
        f'prog=("$@"); exec "${{prog[@]:0:{n}}}" --nnodes="$SLURM_NNODES" --nproc-per-node={per_node} '
        '--node-rank="$SLURM_NODEID" --master-addr="$MASTER_ADDR" --master-port="$MASTER_PORT" '
        f'"${{prog[@]:{n}}}"'
    )
    words = ["srun", f"--nodes={nodes}", "--ntasks-per-node=1", "bash", "-c", inner, "torchrun-launch", *head, *argv]
    return TORCHRUN_RENDEZVOUS + "\n" + shlex.join(words)
