"""The portal's routers, one module per audience."""

from __future__ import annotations

from . import (
    auth,
    jobs,
    operator,
    operator_admin,
    operator_audit,
    operator_catalog,
    operator_kpis,
    projects,
    proposals,
    public,
    reviews,
    templates_run,
)

ROUTERS = [
    public.router,
    auth.router,
    proposals.router,
    reviews.router,
    projects.router,
    templates_run.router,
    jobs.router,
    operator.router,
    operator_admin.router,
    operator_kpis.router,
    operator_audit.router,
    operator_catalog.router,
]
