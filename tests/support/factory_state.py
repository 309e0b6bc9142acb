"""What a factory is made of, taken before and after an attack to prove that nothing changed: every table's rows
(split into the tenant's own — the rows its legitimate jobs add — and everyone else's, counted and hashed),
the sensitive tables hashed whole, and file trees hashed (contents, modes and owners)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, select

from aifactory.store.engine import make_engine

Row = dict[str, Any]
SENSITIVE = ("users", "api_tokens", "organizations", "web_sessions", "project_members", "posix_users")
VOLATILE = {"api_tokens": ("last_used_at",)}  # changes whenever a token is used: not part of any hash


@dataclass(frozen=True)
class TenantKeys:
    """Who the tenant is: its user and its project."""

    user_id: int
    project_id: int


@dataclass(frozen=True)
class TableState:
    count: int
    sha256: str


@dataclass(frozen=True)
class DbState:
    """``others``: every table's rows that are not the tenant's; ``tenant``: how many are; ``sensitive``: whole
    tables (the tenant's rows included) hashed; ``tenant_audit``: the tenant's audit events (action, entity)."""

    others: dict[str, TableState]
    tenant: dict[str, int]
    sensitive: dict[str, str]
    tenant_audit: list[tuple[str, str]]


def digest(rows: Iterable[Row], drop: tuple[str, ...] = ()) -> str:
    lines = sorted(json.dumps({k: v for k, v in r.items() if k not in drop}, default=str, sort_keys=True) for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def all_rows(url: str) -> dict[str, list[Row]]:
    """Every table of the database as it is (reflected: also tables the models do not name), row by row."""
    engine = make_engine(url)
    try:
        found = MetaData()
        found.reflect(engine)
        with engine.connect() as conn:
            return {t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in found.tables.values()}
    finally:
        engine.dispose()


def tenant_rule(rows: dict[str, list[Row]], keys: TenantKeys) -> dict[str, Callable[[Row], bool]]:
    """Per table, whether a row is the tenant's own: its project's jobs and everything that follows from them
    (their states, charges, audit events, its allocation's running sums, its notifications)."""
    jobs = {r["id"] for r in rows["jobs"] if r["project_id"] == keys.project_id}
    allocations = {r["id"] for r in rows["allocations"] if r["project_id"] == keys.project_id}
    entities = {("job", j) for j in jobs} | {("allocation", a) for a in allocations}
    entities.add(("project", keys.project_id))
    return {
        "jobs": lambda r: r["id"] in jobs,
        "job_events": lambda r: r["job_id"] in jobs,
        "allocations": lambda r: r["id"] in allocations,
        "notifications": lambda r: r["project_id"] == keys.project_id,
        "ledger_entries": lambda r: r["allocation_id"] in allocations or r["job_id"] in jobs,
        "audit_events": lambda r: r["actor_id"] == keys.user_id or (r["entity_type"], r["entity_id"]) in entities,
        "catalog_links": lambda r: r["job_id"] in jobs,
    }


def db_state(url: str, keys: TenantKeys) -> DbState:
    rows = all_rows(url)
    rules = tenant_rule(rows, keys)
    others: dict[str, TableState] = {}
    tenant: dict[str, int] = {}
    for name, table_rows in rows.items():
        mine = rules.get(name, lambda _: False)
        theirs = [r for r in table_rows if not mine(r)]
        others[name] = TableState(len(theirs), digest(theirs, VOLATILE.get(name, ())))
        tenant[name] = len(table_rows) - len(theirs)
    sensitive = {name: digest(rows[name], VOLATILE.get(name, ())) for name in SENSITIVE}
    audit = sorted((r["action"], r["entity_type"]) for r in rows["audit_events"] if rules["audit_events"](r))
    return DbState(others, tenant, sensitive, audit)


def tree_state(root: Path, skip: Callable[[str], bool] = lambda _: False) -> dict[str, str]:
    """Relative path -> what it is (type, mode, owner, and the sha256 of a file's contents or a link's target),
    the root included, without following links; ``skip``\\ ped paths (relative) and what lies under them left out."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        dirs[:] = [d for d in dirs if not skip(os.path.normpath(os.path.join(rel_folder, d)))]
        found[rel_folder] = _entry(Path(folder))
        for name in files:
            rel = os.path.normpath(os.path.join(rel_folder, name))
            if not skip(rel):
                found[rel] = _entry(Path(folder) / name)
    return found


def _entry(path: Path) -> str:
    st = path.lstat()
    what = f"{stat.filemode(st.st_mode)} {st.st_uid}:{st.st_gid}"
    if stat.S_ISLNK(st.st_mode):
        return f"{what} -> {os.readlink(path)}"
    if stat.S_ISREG(st.st_mode):
        return f"{what} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return what
