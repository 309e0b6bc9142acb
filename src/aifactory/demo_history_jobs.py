"""The demo history's usage: an allocation's jobs, each in a terminal state and settled, and their ledger entries
(reserve at submission; charge and release at settlement), as the gateway and the reconciler write them.

Every job holds whole GH200 nodes (4 GPUs, billing weight 1), so a node-second bills 4 GPU-seconds; a job that
never started is charged nothing, one killed at its limit is charged its limit (``domain.ledger.settle``)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .domain.jobs.model import job_comment
from .domain.jobs.states import JobState
from .domain.ledger import EntryKind, billed_seconds, month_key, settle

GPUS_PER_NODE = 4
MARGIN_S = 5 * 3600  # a job's wait in the queue and its settlement end before the allotment's end
Row = dict[str, Any]

# per access mode: nodes a job takes, its time limit (hours; within the call's max_wall_hours), how many at most
SHAPES = {
    "playground": ((1,), 4, 60),
    "fast_lane": ((1, 2, 4, 8), 24, 60),
    "large_scale": ((16, 32, 64), 48, 60),
}
WORK = ("train", "finetune", "eval", "preprocess", "sweep", "infer")
ENDINGS = (  # state, exit code, weight
    (JobState.COMPLETED, 0, 78),
    (JobState.FAILED, 1, 10),
    (JobState.TIMEOUT, None, 6),
    (JobState.CANCELLED, None, 6),
)


@dataclass
class Allotment:
    """One allocation's usage to generate: who submits, when, and how much to use at most."""

    allocation_id: int
    project_id: int
    resource_id: int
    resource: str
    slurm_account: str
    submitter_id: int
    mode: str
    granted_seconds: int
    start: datetime  # the decision: no job before it
    end: datetime  # the allocation's end or now, whichever comes first
    target_seconds: int  # billing seconds to charge, roughly
    hard: bool  # the call's enforcement: hard quotas admit no job beyond the grant


@dataclass
class Ids:
    """The next id of each table the usage writes."""

    job: int
    job_event: int
    ledger: int
    audit: int


@dataclass
class Usage:
    jobs: list[Row]
    job_events: list[Row]
    ledger: list[Row]
    audit: list[Row]
    charged: int  # billing seconds charged in all


def _ending(rng: random.Random) -> tuple[JobState, int | None]:
    state, code, _w = rng.choices(ENDINGS, weights=[e[2] for e in ENDINGS])[0]
    return state, code


def _job_times(rng: random.Random, a: Allotment, limit_s: int) -> tuple[datetime, datetime, int]:
    """Submitted, started and the seconds it ran (within its limit and the allotment's window)."""
    window = (a.end - a.start).total_seconds() - limit_s - MARGIN_S
    first = min(rng.uniform(0.3, 4.0) * 86400, window / 3)  # a first job within a few days of the award
    submitted = a.start + timedelta(seconds=round(first + rng.random() * (window - first)))
    started = submitted + timedelta(seconds=rng.randint(30, 3 * 3600))
    return submitted, started, rng.randint(max(60, limit_s // 8), limit_s)


def allocation_usage(rng: random.Random, a: Allotment, ids: Ids, site: str) -> Usage:
    """Jobs one after another (in submission order) until the allotment's target is charged; none when the
    allotment's window is shorter than one job's limit."""
    shapes, limit_h, most = SHAPES[a.mode]
    limit_s = limit_h * 3600
    out = Usage([], [], [], [], 0)
    if (a.end - a.start).total_seconds() < 2 * (limit_s + MARGIN_S):
        return out
    planned: list[tuple[datetime, datetime, int, int]] = []
    charged = 0
    while charged < a.target_seconds and len(planned) < most:
        nodes = rng.choice(shapes)
        submitted, started, ran = _job_times(rng, a, limit_s)
        planned.append((submitted, started, ran, nodes))
        charged += billed_seconds(GPUS_PER_NODE, nodes, ran)
    for n, (submitted, started, ran, nodes) in enumerate(sorted(planned)):
        state, code = _ending(rng)
        if a.hard and out.charged + GPUS_PER_NODE * nodes * limit_s > a.granted_seconds:
            break  # hard enforcement admits a job only while its worst case fits in what is left
        _one_job(rng, a, ids, site, out, n, submitted, started, ran, nodes, limit_s, state, code)
    return out


def _spec(a: Allotment, name: str, nodes: int, limit_h: int) -> dict[str, Any]:
    return {
        "name": name,
        "project": a.slurm_account,
        "resource": a.resource,
        "resources": {"nodes": nodes, "gpus_per_node": GPUS_PER_NODE, "cpus_per_task": 72, "time": limit_h * 60},
        "command": ["python3", f"{name.split('-')[0]}.py"],
    }


def _one_job(
    rng: random.Random,
    a: Allotment,
    ids: Ids,
    site: str,
    out: Usage,
    n: int,
    submitted: datetime,
    started: datetime,
    ran: int,
    nodes: int,
    limit_s: int,
    state: JobState,
    code: int | None,
) -> None:
    job_id = ids.job
    ids.job += 1
    reserved = GPUS_PER_NODE * nodes * limit_s
    never_ran = state is JobState.CANCELLED and rng.random() < 0.5
    s = settle(
        reserved=reserved,
        rate=GPUS_PER_NODE,
        nodes=nodes,
        gpus_per_node=GPUS_PER_NODE,
        tasks_elapsed=ran,
        started=not never_ran,
        timed_out=state is JobState.TIMEOUT,
        time_limit_seconds=limit_s,
        tasks=1,
    )
    finished = (submitted + timedelta(minutes=rng.randint(1, 30))) if never_ran else started + timedelta(seconds=ran)
    if state is JobState.TIMEOUT:
        finished = started + timedelta(seconds=limit_s)
    settled = finished + timedelta(seconds=rng.randint(20, 300))
    name = f"{rng.choice(WORK)}-{n + 1:03d}"
    reason = {JobState.FAILED: "exit code 1", JobState.TIMEOUT: "time limit reached", JobState.CANCELLED: ""}
    out.jobs.append(
        {
            "id": job_id,
            "project_id": a.project_id,
            "allocation_id": a.allocation_id,
            "resource_id": a.resource_id,
            "submitted_by": a.submitter_id,
            "name": name,
            "spec": _spec(a, name, nodes, limit_s // 3600),
            "backend": "local",
            "tasks": 1,
            "reserved_gpu_seconds": reserved,
            "state": state,
            "backend_id": f"local-{job_id}",
            "exit_code": code,
            "reason": reason.get(state, ""),
            "idempotency_key": None,
            "comment": job_comment(site, job_id, f"{rng.getrandbits(48):012x}"),
            "created_at": submitted,
            "updated_at": settled,
            "submitted_at": submitted,
            "started_at": None if never_ran else started,
            "finished_at": finished,
            "settled_at": settled,
            "cancel_requested_at": finished if state is JobState.CANCELLED else None,
            "cancel_requested_by": a.submitter_id if state is JobState.CANCELLED else None,
            "submit_attempts": 1,
            "next_attempt_at": None,
        }
    )
    steps = [(submitted, JobState.SUBMITTED, "")]
    if not never_ran:
        steps.append((started, JobState.RUNNING, ""))
    steps.append((finished, state, reason.get(state, "")))
    for at, st, detail in steps:
        out.job_events.append({"id": ids.job_event, "job_id": job_id, "at": at, "state": st, "detail": detail})
        ids.job_event += 1
    out.audit.append(
        audit_row(
            ids.audit,
            submitted,
            a.submitter_id,
            "job.created",
            ("job", job_id),
            None,
            {"name": name, "project_id": a.project_id},
        )
    )
    ids.audit += 1
    used = f"{s.elapsed_seconds} s used ({state.value})"
    _entries(a, ids, out, job_id, reserved, (submitted, settled, started, finished), s.charge, s.gpu_seconds, used)


def _entries(
    a: Allotment,
    ids: Ids,
    out: Usage,
    job_id: int,
    reserved: int,
    times: tuple[datetime, datetime, datetime, datetime],  # submitted, settled, started, finished
    charge: int,
    gpu_seconds: int,
    used: str,
) -> None:
    submitted, settled, started, finished = times
    todo: list[tuple[EntryKind, int, datetime, str, str, int]] = [
        (EntryKind.RESERVE, reserved, submitted, "worst case of the job", month_key(submitted), 0)
    ]
    if charge > 0:
        todo.append((EntryKind.CHARGE, charge, settled, used, month_key(finished), gpu_seconds))
    todo.append((EntryKind.RELEASE, reserved, settled, "reservation released at settlement", month_key(settled), 0))
    for kind, amount, at, reason, period, gpu_s in todo:
        charged = kind is EntryKind.CHARGE
        out.ledger.append(
            ledger_row(
                ids.ledger,
                (a.allocation_id, a.project_id, a.resource_id),
                kind,
                amount,
                at,
                f"{kind.value}:job:{job_id}",
                period=period,
                job_id=job_id,
                gpu_seconds=gpu_s,
                usage=(started, finished) if charged else (None, None),
                reason=reason,
            )
        )
        ids.ledger += 1
    out.charged += charge


def ledger_row(
    entry_id: int,
    owner: tuple[int, int, int],  # allocation, project, resource
    kind: EntryKind,
    amount: int,
    at: datetime,
    key: str,
    *,
    period: str,
    source: str = "gateway",
    job_id: int | None = None,
    gpu_seconds: int = 0,
    usage: tuple[datetime | None, datetime | None] = (None, None),
    actor_id: int | None = None,
    reason: str = "",
) -> Row:
    """A ledger entry's row (what ``services.ledger.post`` appends)."""
    allocation_id, project_id, resource_id = owner
    return {
        "id": entry_id,
        "allocation_id": allocation_id,
        "project_id": project_id,
        "resource_id": resource_id,
        "kind": kind,
        "amount": amount,
        "gpu_seconds": gpu_seconds,
        "job_id": job_id,
        "source": source,
        "external_id": None,
        "scenario": None,
        "usage_start": usage[0],
        "usage_end": usage[1],
        "period": period,
        "at": at,
        "actor_id": actor_id,
        "reason": reason,
        "key": key,
    }


def audit_row(
    event_id: int,
    at: datetime,
    actor: int | None,
    action: str,
    entity: tuple[str, int],  # type, id
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> Row:
    """An audit event's row (what ``services.audit.record`` appends)."""
    return {
        "id": event_id,
        "occurred_at": at,
        "actor_id": actor,
        "action": action,
        "entity_type": entity[0],
        "entity_id": entity[1],
        "before": before,
        "after": after,
    }
