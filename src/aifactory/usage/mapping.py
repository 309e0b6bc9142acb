"""Which project a trace record is charged to: a small mapping file and its resolution to project ids.

A mapping file is CSV (``key,project`` per line; a first line ``key,project`` is a header; ``#`` starts a
comment) or YAML (``.yaml``/``.yml``: a mapping of key to project). A key is ``user:N`` or ``group:N``
(SWF user and group ids) or ``pod:NAME`` or ``qos:CLASS`` (Alibaba pods); a project is its Slurm account
or its numeric id. Lookup order: user, then group (SWF); pod, then qos (Alibaba); then the default project.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..domain.errors import InvalidInput

if TYPE_CHECKING:
    from ..services.ports import UnitOfWork

KINDS = {"swf": ("user", "group"), "alibaba": ("pod", "qos")}


def read_mapping(path: str | Path) -> dict[str, str]:
    """``{key: project reference}`` from a CSV or YAML mapping file."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput.on("map", f"mapping file {str(p)!r} not found")
    text = p.read_text(encoding="utf-8", errors="replace")
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise InvalidInput.on("map", f"{p.name}: not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise InvalidInput.on("map", f"{p.name}: expected a mapping of key to project")
        return {str(k).strip(): str(v).strip() for k, v in data.items()}
    out: dict[str, str] = {}
    for no, row in enumerate(csv.reader(text.splitlines()), 1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 2:
            raise InvalidInput.on("map", f"{p.name} line {no}: expected 'key,project'")
        key, project = row[0].strip(), row[1].strip()
        if no == 1 and key.lower() == "key":
            continue
        out[key] = project
    return out


@dataclass
class ProjectMap:
    """Resolved mapping: per key kind, the native key (int id or name) to the project id."""

    first: dict[object, int] = field(default_factory=dict)  # user (SWF) / pod (Alibaba)
    second: dict[object, int] = field(default_factory=dict)  # group (SWF) / qos (Alibaba)
    default: int | None = None

    def project_for(self, first: object, second: object) -> int | None:
        return self.first.get(first) or self.second.get(second) or self.default


def resolve_project(uow: UnitOfWork, ref: str, where: str) -> int:
    """A project id from its Slurm account or numeric id; InvalidInput naming ``where`` if it is unknown."""
    ref = ref.strip()
    project = uow.projects.by_account(ref)
    if project is None and ref.isdigit():
        project = uow.projects.get(int(ref))
    if project is None:
        raise InvalidInput.on(where, f"project {ref!r} not found (give its Slurm account or id)")
    return project.stored_id


def resolve_mapping(uow: UnitOfWork, fmt: str, mapping: dict[str, str], default_project: str | None) -> ProjectMap:
    first_kind, second_kind = KINDS[fmt]
    out = ProjectMap()
    cache: dict[str, int] = {}
    for key, ref in mapping.items():
        kind, _, value = key.partition(":")
        kind, value = kind.strip().lower(), value.strip()
        if kind not in (first_kind, second_kind) or not value:
            raise InvalidInput.on("map", f"key {key!r}: expected {first_kind}:… or {second_kind}:… for {fmt}")
        native: object = value
        if fmt == "swf":
            try:
                native = int(value)
            except ValueError:
                raise InvalidInput.on("map", f"key {key!r}: {kind} must be a number") from None
        if ref not in cache:
            cache[ref] = resolve_project(uow, ref, f"map ({key})")
        (out.first if kind == first_kind else out.second)[native] = cache[ref]
    if default_project:
        out.default = resolve_project(uow, default_project, "default_project")
    return out
