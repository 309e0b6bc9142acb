"""What a project's "Data" page and its template forms offer: the project's stored files with its usage, and the
datasets registered from its storage (visible to the viewer), for listing and for picking as a template's input.
Reading only; uploads, deletes and registering are ``services.uploads``, ``services.storage`` and
``services.datasets``."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.access import PageRequest
from ..domain.catalog import CatalogItem, CatalogKind
from ..domain.storage import StoredFile
from .catalog import search
from .context import Actor
from .ports import UnitOfWork
from .storage import StorageState, list_files, member_project
from .storage_disk import StorageArea

MAX_LISTED = 500  # files and datasets shown on one page


@dataclass(frozen=True)
class ProjectData:
    files: list[StoredFile]
    total_files: int
    state: StorageState
    datasets: list[CatalogItem]


def registered_from(item: CatalogItem, project_id: int) -> bool:
    """A dataset registered from this project's storage (its provenance names the project)."""
    provenance = item.details.get("provenance")
    return isinstance(provenance, dict) and provenance.get("project_id") == project_id


def project_datasets(uow: UnitOfWork, actor: Actor, project_id: int) -> list[CatalogItem]:
    """The datasets registered from the project's storage that the actor sees, newest first."""
    member_project(uow, actor, project_id)
    found = search(uow, actor, PageRequest(limit=MAX_LISTED, offset=0), kind=CatalogKind.DATASET).items
    mine = [i for i in found if registered_from(i, project_id)]
    return sorted(mine, key=lambda i: i.created_at, reverse=True)


def project_data(uow: UnitOfWork, actor: Actor, area: StorageArea, project_id: int) -> ProjectData:
    """The project's files (by name) with its usage against the quota, and its datasets (members only)."""
    member_project(uow, actor, project_id)
    page, state = list_files(uow, actor, area, project_id, PageRequest(limit=MAX_LISTED, offset=0))
    return ProjectData(page.items, page.total, state, project_datasets(uow, actor, project_id))
