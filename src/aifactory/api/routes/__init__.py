"""One router per resource; handlers parse, call one service function, and shape the answer."""

from . import (
    accounts,
    auth,
    calls,
    catalog,
    jobs,
    ledger,
    notifications,
    organizations,
    projects,
    proposal_files,
    proposals,
    reports,
    sso,
    storage,
    teams,
)

ROUTERS = [
    auth.router,
    accounts.router,
    sso.router,
    organizations.router,
    calls.router,
    proposals.router,
    proposal_files.router,
    projects.router,
    ledger.router,
    notifications.router,
    jobs.router,
    reports.router,
    catalog.router,
    storage.router,
    teams.router,
]
