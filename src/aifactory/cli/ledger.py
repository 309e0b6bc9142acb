"""``aifactory allocations show|ledger|adjust|suspend|resume`` and ``aifactory admin check-ledger``."""

from __future__ import annotations

from typing import Annotated

import typer

from .local import DataDir, admin_app, local_settings, local_store
from .output import Col, done, emit, record, show_page, show_record, status_style, table
from .projects import allocations_app
from .state import CliError, api

AllocationId = Annotated[int, typer.Argument(help="allocation id")]
Reason = Annotated[str, typer.Option("--reason", help="why (kept in the ledger and the audit log)")]


BALANCE_FIELDS = [
    Col("ID", "id"),
    Col("Project", "project_id", names="project"),
    Col("Resource", "resource_id", names="resource"),
    Col("Period", lambda a: f"{a['start_date']} – {a['end_date']}"),
    Col("Status", "status", style=status_style),
    Col("Reason", "status_reason"),
    Col("Granted GPU-h", "granted_gpu_hours"),
    Col("Used GPU-h", "used_gpu_hours"),
    Col("Reserved GPU-h", "reserved_gpu_hours"),
    Col("Available GPU-h", "available_gpu_hours"),
    Col("Used", lambda a: f"{a['used_percent']:.1f} %"),
    Col("Priority", lambda a: "low (quota overdrawn)" if a["low_priority"] else "normal"),
]


ENTRY_COLS = [
    Col("ID", "id", justify="right"),
    Col("At", "at"),
    Col("Kind", "kind"),
    Col("GPU-h", "gpu_hours", justify="right"),
    Col("Job", "job_id", justify="right"),
    Col("Source", "source", optional=True),
    Col("Period", "period", optional=True),
    Col("Reason", "reason", wrap=True),
]


@allocations_app.command("show")
def show(allocation_id: AllocationId) -> None:
    """An allocation's balance: granted, used, reserved by open jobs, available."""
    a = api().get_allocation(allocation_id)
    show_record(a, BALANCE_FIELDS, title=f"Allocation {a['id']}")


@allocations_app.command("ledger")
def ledger(
    allocation_id: AllocationId,
    kind: Annotated[str | None, typer.Option(help="grant, reserve, charge, release or adjust")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """The allocation's ledger entries, newest first."""
    show_page(
        api().list_ledger(allocation_id, kind=kind, limit=limit, offset=offset),
        ENTRY_COLS,
        title=f"Ledger of allocation {allocation_id}",
    )


@allocations_app.command("adjust")
def adjust(
    allocation_id: AllocationId,
    gpu_hours: Annotated[float, typer.Option("--gpu-hours", help="+ top-up, - correction")],
    reason: Reason,
    key: Annotated[str | None, typer.Option(help="idempotency key")] = None,
) -> None:
    """Top up (+) or correct (-) an allocation (operators)."""
    a = api().adjust_allocation(allocation_id, gpu_hours, reason, key=key)
    done(a, f"Allocation {allocation_id}: {gpu_hours:+,} GPU-hours; {a['available_gpu_hours']:,} available")


@allocations_app.command("suspend")
def suspend(allocation_id: AllocationId, reason: Reason) -> None:
    """Suspend: no new jobs; running ones finish and are charged (operators)."""
    api().suspend_allocation(allocation_id, reason)
    done({"id": allocation_id, "status": "suspended"}, f"Allocation {allocation_id} suspended")


@allocations_app.command("resume")
def resume(allocation_id: AllocationId) -> None:
    """Lift a suspension (operators)."""
    api().resume_allocation(allocation_id)
    done({"id": allocation_id, "status": "active"}, f"Allocation {allocation_id} resumed")


@admin_app.command("check-ledger")
def check_ledger(data_dir: DataDir = None) -> None:
    """Prove the ledger reconciles: stored balances = sums of entries, every reservation released once."""
    from ..services.ledger import check_ledger as check

    settings = local_settings(data_dir=data_dir)
    with local_store(settings) as uow_factory, uow_factory(write=False) as uow:
        checked, problems = check(uow)
    rows = [{"allocation": p.allocation_id, "job": p.job_id, "problem": p.problem} for p in problems]
    data = {"allocations_checked": checked, "problems": rows, "consistent": not problems}
    if problems:
        emit(
            data,
            table(
                rows,
                [Col("Allocation", "allocation"), Col("Job", "job"), Col("Problem", "problem")],
                title="Ledger problems",
            ),
        )
        raise CliError(f"the ledger does not reconcile: {len(problems)} problem(s)")
    emit(
        data,
        record(
            data,
            [Col("Allocations checked", "allocations_checked"), Col("Consistent", "consistent")],
            title="Ledger check",
        ),
    )
