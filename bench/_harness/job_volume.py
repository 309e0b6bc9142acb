"""The portal's jobs: jobs over the allocations (the busy project's share apart), their events, the ledger's
reserve/charge/release entries and ``job.created`` audit events, in creation order, a batch at a time; then the
allocations' running sums, kept equal to their entries (``check_ledger`` proves it)."""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aifactory.domain.jobs.admission import worst_case_billing
from aifactory.domain.jobs.spec import parse_spec
from aifactory.domain.ledger import billing_rate, month_key, settle

from .seeding import BATCH, Audit, Ids, Row, Sink, pick

# job templates per access mode: (gpus_per_node, nodes, time limit in minutes, cpus_per_task)
Template = tuple[int, int, int, int]
TEMPLATES: dict[str, list[Template]] = {
    "playground": [(1, 1, 30, 8), (1, 1, 60, 16), (2, 1, 120, 32), (4, 1, 240, 72)],
    "fast_lane": [(1, 1, 120, 16), (4, 1, 240, 72), (4, 2, 480, 72), (4, 4, 720, 72), (4, 8, 1440, 72)],
    "large_scale": [(4, 8, 1440, 72), (4, 32, 1440, 72), (4, 64, 2880, 72), (4, 128, 2880, 72)],
}
JOB_MODE_WEIGHT = {"playground": 1.0, "fast_lane": 3.0, "large_scale": 8.0}
OUTCOME_WEIGHTS = {"completed": 78, "failed": 10, "cancelled": 7, "timeout": 5}
JOB_WORDS = ["train", "finetune", "eval", "forecast", "preprocess", "infer", "sweep", "pretrain", "distill", "embed"]
MODELS = ["resnet50", "vit-b16", "llama-8b", "mistral-7b", "gnn", "unet", "xgb", "tft", "bert-base", "whisper"]
REASONS = {"failed": "NonZeroExitCode", "timeout": "TimeLimit", "cancelled": "cancelled by the user"}


@dataclass
class Allocation:
    """An allocation jobs run on, and what the jobs put on it so far."""

    project: int
    mode: str
    start: date
    end: date
    resource: int
    granted: int
    team: list[int]
    new: bool  # inserted in bulk (not the demo's)
    budget: float = 0.0  # the charge aimed at per job
    charged: int = 0
    reserved: int = 0


@dataclass(frozen=True)
class _Shape:
    """A template on a resource: the billing rate, the reservation, the parsed resources and their document."""

    rate: float
    reserve: int
    resources: Any
    doc: Row


@dataclass
class _Run:
    """How a job went: its state and times."""

    state: str
    per_task: float
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass
class _Batch:
    jobs: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    entries: list[Row] = field(default_factory=list)


class JobVolume:
    def __init__(
        self,
        sink: Sink,
        ids: Ids,
        audit: Audit,
        rng: random.Random,
        now: datetime,
        resources: dict[int, Any],
        allocations: dict[int, Allocation],
    ) -> None:
        self.sink, self.ids, self.audit, self.rng, self.now = sink, ids, audit, rng, now
        self.resources, self.allocations = resources, allocations
        self.shapes: dict[tuple[Template, int, int], _Shape] = {}
        self.backend_id = 4_000_000

    def run(self, n_jobs: int, busy_project: int, busy_share: float) -> int:
        """``n_jobs`` jobs, ``busy_share`` of them small forecasting runs in ``busy_project``: how many those are."""
        busy = min(a for a, info in self.allocations.items() if info.project == busy_project)
        n_busy = min(n_jobs, round(n_jobs * busy_share))
        others = [a for a in self.allocations if a != busy]
        weights = [JOB_MODE_WEIGHT[self.allocations[a].mode] * self.rng.lognormvariate(0, 1) for a in others]
        picks = [busy] * n_busy + (self.rng.choices(others, weights, k=n_jobs - n_busy) if others else [])
        self._budgets(picks, busy)
        batch = _Batch()
        for created, a in self._creation_times(picks):
            self._job(created, a, batch, busy=a == busy)
            if len(batch.jobs) >= BATCH:
                self._flush(batch)
                batch = _Batch()
        self._flush(batch)
        self._running_sums()
        return n_busy

    def _creation_times(self, picks: list[int]) -> list[tuple[datetime, int]]:
        """(created_at, allocation) of every job, in creation order: within the allocation's window."""
        out = []
        for a in picks:
            info = self.allocations[a]
            lo = datetime.combine(info.start, datetime.min.time(), UTC) + timedelta(hours=8)
            hi = min(self.now, datetime.combine(info.end, datetime.max.time(), UTC))
            span = max(60.0, (hi - lo).total_seconds())
            out.append((lo + timedelta(seconds=span * self.rng.random()), a))
        return sorted(out, key=lambda s: s[0])

    def _budgets(self, picks: list[int], busy: int) -> None:
        """The usage aimed at: a share of each grant, spread over its jobs (the busy project's: 60 %)."""
        per_alloc: dict[int, int] = {}
        for a in picks:
            per_alloc[a] = per_alloc.get(a, 0) + 1
        today = self.now.date()
        for a, info in self.allocations.items():
            n = per_alloc.get(a, 0)
            total_days = max(1, (info.end - info.start).days)
            elapsed = min(1.0, max(0.05, (today - info.start).days / total_days))
            used = self.rng.uniform(0.45, 0.98) * (1.0 if info.end < today else elapsed)
            if a == busy:
                used = 0.6
            info.budget = used * info.granted / n if n else 0

    def _shape(self, tpl: Template, tasks: int, resource_id: int) -> _Shape:
        key = (tpl, tasks, resource_id)
        if key not in self.shapes:
            g, nodes, minutes, cpus = tpl
            res = self.resources[resource_id]
            doc: Row = {
                "name": "x",
                "project": 1,
                "resource": res.name,
                "resources": {"nodes": nodes, "gpus_per_node": g, "cpus_per_task": cpus, "time": minutes},
                "command": ["python", "train.py"],
            }
            if tasks > 1:
                doc["array"] = {"range": f"0-{tasks - 1}"}
            spec = parse_spec(doc)  # the documents the pages will read are valid specs
            r = spec.resources
            rate = billing_rate(res, gpus=r.gpus_per_node, cpus=r.cpus_per_task, memory_mb=r.memory_mb)
            self.shapes[key] = _Shape(rate, worst_case_billing(spec, res), r, doc["resources"])
        return self.shapes[key]

    def _template(self, info: Allocation, busy: bool) -> tuple[_Shape, int]:
        """The smallest template whose reservation covers 1.5 x the job's share; 10 tasks for some 1-node jobs."""
        templates = TEMPLATES["playground"][:2] if busy else TEMPLATES[info.mode]
        tpl = next((t for t in templates if self._shape(t, 1, info.resource).reserve >= 1.5 * info.budget), None)
        tpl = tpl or templates[-1]
        tasks = 10 if tpl[1] == 1 and self.rng.random() < 0.06 else 1
        return self._shape(tpl, tasks, info.resource), tasks

    def _run(self, created: datetime, shape: _Shape, tasks: int, budget: float) -> _Run:
        rng, r = self.rng, shape.resources
        limit_s = r.time_minutes * 60
        outcome = pick(rng, OUTCOME_WEIGHTS)
        per_task = budget / max(1e-9, shape.rate * r.nodes) / tasks * rng.uniform(0.2, 1.8)
        per_task = min(limit_s, max(20.0, per_task))
        started = True
        if outcome == "timeout":
            per_task = limit_s
        elif outcome == "failed":
            per_task *= rng.uniform(0.01, 0.5)
        elif outcome == "cancelled":
            started = rng.random() < 0.5
            per_task *= rng.uniform(0.05, 0.8)
        submitted_at = created + timedelta(seconds=rng.uniform(0.2, 2.0))
        wait = min(36_000.0, rng.lognormvariate(5.5, 1.6))  # median ~4 min, long tail
        started_at = submitted_at + timedelta(seconds=wait) if started else None
        wall = per_task * (tasks if tasks == 1 else math.ceil(tasks / 4))  # array: 4 tasks at a time
        if started_at is not None:
            finished_at = started_at + timedelta(seconds=wall)
        else:
            finished_at = submitted_at + timedelta(seconds=rng.uniform(30, wait + 60))
        if started_at is not None and started_at > self.now:
            return _Run("queued", per_task, submitted_at, None, None)
        if finished_at > self.now:
            return _Run("running" if started_at else "queued", per_task, submitted_at, started_at, None)
        return _Run(outcome, per_task, submitted_at, started_at, finished_at)

    def _job(self, created: datetime, a: int, batch: _Batch, busy: bool) -> None:
        rng, info = self.rng, self.allocations[a]
        jid = self.ids.take("jobs")
        shape, tasks = self._template(info, busy)
        run = self._run(created, shape, tasks, info.budget)
        name = f"{rng.choice(JOB_WORDS)}-{rng.choice(MODELS)}-{jid % 1000:03d}"
        doc: Row = {
            "name": name,
            "project": info.project,
            "resource": self.resources[info.resource].name,
            "resources": shape.doc,
            "command": ["python", "train.py", "--config", f"configs/{name.split('-')[1]}.yaml"],
        }
        if tasks > 1:
            doc["array"] = {"range": f"0-{tasks - 1}"}
        submitter = rng.choice(info.team)
        settled_at = run.finished_at + timedelta(seconds=rng.uniform(1, 30)) if run.finished_at else None
        self.backend_id += 1
        exit_code = 0 if run.state == "completed" else rng.choice([1, 1, 2, 137]) if run.state == "failed" else None
        batch.jobs.append(
            {
                "id": jid,
                "project_id": info.project,
                "allocation_id": a,
                "resource_id": info.resource,
                "submitted_by": submitter,
                "name": name,
                "spec": doc,
                "backend": "slurm",
                "tasks": tasks,
                "reserved_gpu_seconds": shape.reserve,
                "state": run.state,
                "backend_id": str(self.backend_id),
                "exit_code": exit_code,
                "reason": REASONS.get(run.state, ""),
                "idempotency_key": None,
                "comment": f"aif:bench:{jid}:{secrets.token_hex(6)}",
                "created_at": created,
                "updated_at": settled_at or run.started_at or run.submitted_at,
                "submitted_at": run.submitted_at,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "settled_at": settled_at,
            }
        )
        for state, at in (("submitted", run.submitted_at), ("running", run.started_at), (run.state, run.finished_at)):
            if at is not None:
                event = {"id": self.ids.take("job_events"), "job_id": jid, "at": at, "state": state, "detail": ""}
                batch.events.append(event)
        self._entries(jid, a, created, shape, tasks, run, settled_at, batch)
        self.audit.event(created, submitter, "job.created", "job", jid, {"name": name, "project_id": info.project})

    def _entries(
        self,
        jid: int,
        a: int,
        created: datetime,
        shape: _Shape,
        tasks: int,
        run: _Run,
        settled_at: datetime | None,
        batch: _Batch,
    ) -> None:
        """The reservation at submission; at settlement, the charge (if any) and the release."""
        info, r = self.allocations[a], shape.resources
        base = {"allocation_id": a, "project_id": info.project, "resource_id": info.resource, "job_id": jid}
        base |= {"source": "gateway", "external_id": None, "scenario": None, "actor_id": None}

        def entry(kind: str, amount: int, at: datetime, reason: str, usage: Row | None = None) -> None:
            """An entry at ``at``; ``usage``: the GPU-seconds measured, and when (the month is the usage's)."""
            row = {"id": self.ids.take("ledger_entries"), "kind": kind, "amount": amount, "at": at, "reason": reason}
            row |= {"period": month_key(usage["usage_end"] if usage else at), "key": f"{kind}:job:{jid}"}
            batch.entries.append(base | row | (usage or {"gpu_seconds": 0, "usage_start": None, "usage_end": None}))

        entry("reserve", shape.reserve, created, "worst case of the job")
        info.reserved += shape.reserve
        if run.finished_at is None or settled_at is None:
            return
        s = settle(
            reserved=shape.reserve,
            rate=shape.rate,
            nodes=r.nodes,
            gpus_per_node=r.gpus_per_node,
            tasks_elapsed=run.per_task * tasks,
            started=run.started_at is not None,
            timed_out=run.state == "timeout",
            time_limit_seconds=r.time_minutes * 60,
            tasks=tasks,
        )
        if s.charge > 0:
            used = {"gpu_seconds": s.gpu_seconds, "usage_start": run.started_at, "usage_end": run.finished_at}
            entry("charge", s.charge, settled_at, f"{s.elapsed_seconds} s used ({run.state})", used)
            info.charged += s.charge
        entry("release", s.release, settled_at, "reservation released at settlement")
        info.reserved -= s.release

    def _flush(self, batch: _Batch) -> None:
        from aifactory.store import tables as t

        if not batch.jobs:
            return
        self.sink.insert(t.jobs, batch.jobs)
        self.sink.insert(t.job_events, batch.events)
        self.sink.insert(t.ledger_entries, batch.entries)
        self.sink.insert(t.audit_events, self.audit.take(self.ids))
        if self.sink.counts["jobs"] % 20_000 < BATCH:
            self.sink.log(f"  {self.sink.counts['jobs']:,} jobs inserted")

    def _running_sums(self) -> None:
        """The allocations' running sums: equal to the entries' sums; a spent new allocation is exhausted."""
        from sqlalchemy import update

        from aifactory.store import tables as t

        a = t.allocations
        for aid, info in self.allocations.items():
            if not (info.charged or info.reserved):
                continue
            values: Row = {
                "charged_seconds": a.c.charged_seconds + info.charged,
                "reserved_seconds": a.c.reserved_seconds + info.reserved,
            }
            if info.new and info.end >= self.now.date() and info.charged >= info.granted:
                values["status"] = "exhausted"
            self.sink.conn.execute(update(a).where(a.c.id == aid).values(**values))
