"""The portal's routers, one module per audience."""

from __future__ import annotations

from . import auth, operator, projects, proposals, public, reviews

ROUTERS = [public.router, auth.router, proposals.router, reviews.router, projects.router, operator.router]
