"""One router per resource; handlers parse, call one service function, and shape the answer."""

from . import auth, calls, catalog, jobs, ledger, notifications, organizations, projects, proposals, reports

ROUTERS = [
    auth.router,
    organizations.router,
    calls.router,
    proposals.router,
    projects.router,
    ledger.router,
    notifications.router,
    jobs.router,
    reports.router,
    catalog.router,
]
