"""Whether a spec may run on a resource under a call and an allocation: every problem names its field."""

from __future__ import annotations

from datetime import date

from ..enums import AllocationStatus
from ..errors import FieldError, InvalidInput
from ..projects import Allocation
from ..sites import Resource
from .spec import JobSpec


def worst_case_gpu_hours(spec: JobSpec) -> float:
    """GPUs × nodes × time limit × tasks: what a job could consume at most (the ledger's reservation)."""
    r = spec.resources
    return r.nodes * r.gpus_per_node * (r.time_minutes / 60) * spec.tasks


def check_admission(spec: JobSpec, *, resource: Resource, max_wall_hours: int, allocation: Allocation,
                    used_gpu_hours: float, today: date) -> None:
    r = spec.resources
    errs: list[FieldError] = []
    if r.gpus_per_node > resource.gpus_per_node:
        errs.append(FieldError("resources.gpus_per_node",
                               f"{r.gpus_per_node} GPUs per node; {resource.name!r} nodes have {resource.gpus_per_node}"))
    if r.nodes > resource.nodes:
        errs.append(FieldError("resources.nodes", f"{r.nodes} nodes; {resource.name!r} has {resource.nodes}"))
    if r.cpus_per_task > resource.cpus_per_node:
        errs.append(FieldError("resources.cpus_per_task",
                               f"{r.cpus_per_task} CPUs; {resource.name!r} nodes have {resource.cpus_per_node}"))
    if r.memory_mb is not None and r.memory_mb > resource.memory_gb_per_node * 1024:
        errs.append(FieldError("resources.memory", f"more than the {resource.memory_gb_per_node} GB of a node"))
    if r.time_minutes > max_wall_hours * 60:
        errs.append(FieldError("resources.time", f"{r.time_minutes} minutes exceeds the call's maximum wall time "
                                                 f"of {max_wall_hours} h"))
    status = allocation.effective_status(today)
    if status is not AllocationStatus.ACTIVE or today < allocation.start_date:
        errs.append(FieldError("project", f"the project's allocation is {status.value}"
                               + (" (it starts on " + allocation.start_date.isoformat() + ")"
                                  if today < allocation.start_date else "")))
    else:
        need, left = worst_case_gpu_hours(spec), allocation.gpu_hours - used_gpu_hours
        if need > left:
            errs.append(FieldError("resources", f"the job may use {need:,.1f} GPU-hours; the allocation has "
                                                f"{max(left, 0):,.1f} left"))
    if errs:
        raise InvalidInput(f"the job cannot run: {errs[0].field}: {errs[0].message}", errs)
