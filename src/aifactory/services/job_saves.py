"""A finished job's output saved into its project's storage, and (``publish_saved``) saved and published as a
dataset or model in one step.

The artifact goes the way an upload goes (``services.uploads``): an upload under way is created for it (its
name checked, the quota checked with the declared size: 413 and nothing written when it does not fit), the
bytes are copied into the private part file, then the upload completes (sha256 checked, quota checked again,
the file moved into place by one rename and recorded in one transaction). Until then no listing, download or
job sees it; whatever fails on the way discards the upload.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..domain.catalog import CatalogKind, CatalogLink, Relation, Visibility
from ..domain.errors import Conflict, InvalidInput
from ..domain.storage import StoredFile, check_name
from . import catalog, datasets, uploads
from .catalog_review import check_slug_free
from .context import Actor
from .jobs import Gateway, get_job
from .ports import Clock, UnitOfWorkFactory
from .storage_disk import BLOCK, StorageArea


def _project_of(uow_factory: UnitOfWorkFactory, actor: Actor, job_id: int) -> int:
    with uow_factory(write=False) as uow:
        return get_job(uow, actor, job_id).project_id


def save_output(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    gw: Gateway,
    area: StorageArea,
    job_id: int,
    *,
    path: str,
    to: str,
) -> StoredFile:
    """The artifact ``path`` of a completed job of the actor's project, stored as ``to`` in that project's
    storage (replacing a file of that name, as an upload would)."""
    to = check_name(to, "to")
    source = catalog.finished_artifact(uow_factory, actor, gw, job_id, path)
    project_id = _project_of(uow_factory, actor, job_id)
    with source:
        size = source.seek(0, 2)
        source.seek(0)
        with uow_factory() as uow:
            upload, _ = uploads.create(uow, clock, actor, area, project_id, name=to, size=size)
        upload_id = upload.stored_id
        try:
            digest = _copy(area, upload_id, source, size)
            with uow_factory() as uow:
                found = uow.storage.upload(upload_id)
                if found is None:
                    raise Conflict(f"the save into {to!r} was cancelled meanwhile")
                found.received, found.updated_at = size, clock.now()
                uow.commit()
            return uploads.complete(uow_factory, clock, actor, area, project_id, upload_id, digest)
        except BaseException:
            uploads.discard(uow_factory, area, upload_id)
            raise


def _copy(area: StorageArea, upload_id: int, source: Any, size: int) -> str:
    digest, offset = hashlib.sha256(), 0
    with area.locked_part(upload_id) as fd:
        while offset < size:
            block = source.read(min(BLOCK, size - offset))
            if not block:
                raise Conflict("the artifact changed while it was saved; save it again")
            area.write_at(fd, block, offset)
            digest.update(block)
            offset += len(block)
    return digest.hexdigest()


def publish_saved(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    gw: Gateway,
    area: StorageArea,
    job_id: int,
    *,
    save_to: str,
    path: str,
    kind: str = "model",
    **fields: Any,
) -> catalog.Entry:
    """Save the artifact into the project's storage, then publish it: a dataset is registered from the stored
    file (its content fixed, its preview, usable as a job input) and linked ``produced-by`` the job; a model is
    published from the artifact as before, with where it was saved. The slug is checked before anything is
    saved."""
    if kind not in (CatalogKind.MODEL.value, CatalogKind.DATASET.value):
        raise InvalidInput.on("kind", f"{kind!r}: a job's output is published as a model or a dataset")
    catalog._check_item(
        kind, fields.get("slug"), fields.get("title"), fields.get("tags", ()), fields.get("visibility", "organization")
    )
    with uow_factory(write=False) as uow:
        visibility = Visibility(fields.get("visibility", Visibility.ORGANIZATION))
        check_slug_free(uow, CatalogKind(kind), fields["slug"], catalog._owner(actor), visibility)
    stored = save_output(uow_factory, clock, actor, gw, area, job_id, path=path, to=save_to)
    saved = {"project_id": stored.project_id, "path": stored.name}
    if kind == CatalogKind.MODEL.value:
        return catalog.publish_job_output(
            uow_factory, clock, actor, gw, job_id, path=path, kind=kind, saved_to=saved, **fields
        )
    licence = (fields.pop("details", None) or {}).get("licence")
    fields.pop("sha256", None)
    entry = datasets.register(
        uow_factory, clock, actor, area, stored.project_id, path=stored.name, licence=licence, job_id=job_id, **fields
    )
    with uow_factory() as uow:
        link = uow.catalog.add_link(
            CatalogLink(
                from_item_id=entry.item.stored_id, relation=Relation.PRODUCED_BY, job_id=job_id, created_at=clock.now()
            )
        )
        uow.commit()
    return catalog.Entry(entry.item, [*entry.links, link])
