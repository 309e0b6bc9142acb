"""Sites and resources (operators only)."""

from __future__ import annotations

import re

from ..domain.errors import Conflict, FieldError, InvalidInput
from ..domain.identity import normalize_country
from ..domain.sites import Resource, Site
from .audit import record, snapshot
from .context import Actor, found
from .ports import Clock, UnitOfWork

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_slug(value: str, field_name: str = "slug") -> str:
    if not _SLUG.match(value or ""):
        raise InvalidInput.on(field_name, "use 1–64 lowercase letters, digits, '-' or '_'")
    return value


def create_site(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    *,
    slug: str,
    name: str,
    country: str,
    holiday_subdivision: str | None = None,
    description: str = "",
) -> Site:
    actor.require_operator()
    check_slug(slug)
    if uow.sites.by_slug(slug) is not None:
        raise Conflict(f"a site with slug {slug!r} already exists")
    site = uow.sites.add(
        Site(
            slug=slug,
            name=name,
            country=normalize_country(country),
            holiday_subdivision=holiday_subdivision,
            description=description,
            created_at=clock.now(),
        )
    )
    record(uow, clock, actor, "site.created", site, None, snapshot(site))
    uow.commit()
    return site


def _validate_resource(r: Resource) -> None:
    errs = []
    for name, lo, hi in (
        ("nodes", 1, 100_000),
        ("gpus_per_node", 0, 64),
        ("cpus_per_node", 1, 4096),
        ("memory_gb_per_node", 1, 1_000_000),
    ):
        if not lo <= getattr(r, name) <= hi:
            errs.append(FieldError(name, f"must be between {lo} and {hi}"))
    for name in ("gpu_billing_weight", "cpu_billing_weight", "memory_billing_weight"):
        if not 0 <= getattr(r, name) <= 1000:
            errs.append(FieldError(name, "must be between 0 and 1000"))
    if errs:
        raise InvalidInput("invalid resource", errs)


def add_resource(uow: UnitOfWork, clock: Clock, actor: Actor, site_id: int, **fields: object) -> Resource:
    actor.require_operator()
    site = found(uow.sites.get(site_id), "site", site_id)
    name = check_slug(str(fields.get("name", "")), "name")
    if any(r.name == name for r in site.resources):
        raise Conflict(f"site {site.slug!r} already has a resource named {name!r}")
    res = Resource(site_id=site.id, **fields)  # type: ignore[arg-type]
    _validate_resource(res)
    site.resources.append(res)
    uow.flush()
    record(uow, clock, actor, "resource.created", res, None, snapshot(res))
    uow.commit()
    return res
