"""Names beside ids in the CLI's tables: a column that holds the id of a project, call, site, resource or
organization declares it (``Col(..., names="project")``) and shows ``3 Bakery forecasting``. Each kind is
looked up with one cheap listing, at most once per command and only when a table shows it (``--json``
prints the API's answer unchanged, without lookups). A lookup the caller may not make leaves the bare ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from ..client import AifactoryClient, AifactoryError

Kind = Literal["project", "call", "site", "resource", "organization"]


def _projects(client: AifactoryClient) -> dict[int, str]:
    return {p["id"]: str(p["name"]) for p in client.list_projects(limit=200)["items"]}


def _calls(client: AifactoryClient) -> dict[int, str]:
    return {c["id"]: str(c["slug"]) for c in client.list_calls(limit=200)["items"]}


def _sites(client: AifactoryClient) -> dict[int, str]:
    return {s["id"]: str(s["name"]) for s in client.list_sites()}


def _resources(client: AifactoryClient) -> dict[int, str]:
    return {r["id"]: f"{r['name']} ({s['slug']})" for s in client.list_sites() for r in s["resources"]}


def _organizations(client: AifactoryClient) -> dict[int, str]:
    return {o["id"]: str(o["name"]) for o in client.list_organizations(limit=200)["items"]}


FETCHERS: dict[Kind, Callable[[AifactoryClient], dict[int, str]]] = {
    "project": _projects,
    "call": _calls,
    "site": _sites,
    "resource": _resources,
    "organization": _organizations,
}


def fetch(client: AifactoryClient, kind: Kind) -> dict[int, str]:
    """The names of the ``kind`` the caller may see, by id; none when the lookup fails or is not allowed."""
    try:
        return FETCHERS[kind](client)
    except AifactoryError:
        return {}
