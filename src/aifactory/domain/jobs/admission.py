"""Whether a spec may run on a resource under a call and an allocation: every problem names its field."""

from __future__ import annotations

from datetime import date

from ..enums import AllocationStatus
from ..errors import FieldError, InvalidInput
from ..ledger import billed_seconds, billing_rate, gpu_hours
from ..projects import Allocation
from ..sites import Resource
from .spec import JobSpec


def worst_case_billing(spec: JobSpec, resource: Resource) -> int:
    """A job's reservation in billing GPU-seconds: every task runs to its time limit on all its nodes."""
    r = spec.resources
    rate = billing_rate(resource, gpus=r.gpus_per_node, cpus=r.cpus_per_task, memory_mb=r.memory_mb)
    return billed_seconds(rate, r.nodes, r.time_minutes * 60) * spec.tasks


def check_admission(
    spec: JobSpec,
    *,
    resource: Resource,
    max_wall_hours: int,
    allocation: Allocation,
    today: date,
    need_seconds: int,
    enforce_budget: bool = True,
) -> None:
    """Everything a job must satisfy to be admitted, all problems at once. The budget check (hard
    enforcement) compares the job's worst case with the allocation's balance, so the caller locks it."""
    r = spec.resources
    errs: list[FieldError] = []
    if r.gpus_per_node > resource.gpus_per_node:
        errs.append(
            FieldError(
                "resources.gpus_per_node",
                f"{r.gpus_per_node} GPUs per node; {resource.name!r} nodes have {resource.gpus_per_node}",
            )
        )
    if r.nodes > resource.nodes:
        errs.append(FieldError("resources.nodes", f"{r.nodes} nodes; {resource.name!r} has {resource.nodes}"))
    if r.cpus_per_task > resource.cpus_per_node:
        errs.append(
            FieldError(
                "resources.cpus_per_task",
                f"{r.cpus_per_task} CPUs; {resource.name!r} nodes have {resource.cpus_per_node}",
            )
        )
    if r.memory_mb is not None and r.memory_mb > resource.memory_gb_per_node * 1024:
        errs.append(FieldError("resources.memory", f"more than the {resource.memory_gb_per_node} GB of a node"))
    if r.time_minutes > max_wall_hours * 60:
        errs.append(
            FieldError(
                "resources.time", f"{r.time_minutes} minutes exceeds the call's maximum wall time of {max_wall_hours} h"
            )
        )
    status = allocation.effective_status(today)
    if status is not AllocationStatus.ACTIVE or today < allocation.start_date:
        errs.append(
            FieldError(
                "project",
                f"the project's allocation is {status.value}"
                + (
                    " (it starts on " + allocation.start_date.isoformat() + ")" if today < allocation.start_date else ""
                ),
            )
        )
    else:
        left = allocation.balance.available
        if enforce_budget and need_seconds > left:
            errs.append(
                FieldError(
                    "resources",
                    f"the job may use {gpu_hours(need_seconds):,.1f} GPU-hours (its "
                    f"worst case); the allocation has {gpu_hours(max(left, 0)):,.1f} left",
                )
            )
    if errs:
        raise InvalidInput(f"the job cannot run: {errs[0].field}: {errs[0].message}", errs)
