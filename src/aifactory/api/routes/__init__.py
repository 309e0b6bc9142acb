"""One router per resource; handlers parse, call one service function, and shape the answer."""

from . import auth, calls, organizations, projects, proposals

ROUTERS = [auth.router, organizations.router, calls.router, proposals.router, projects.router]
