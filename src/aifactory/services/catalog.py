"""The catalog's use cases: templates synced from folders, search and show (public items to every signed-in
user, organization items to their organization and operators), publishing models, datasets and stories,
running a template as an ordinary job, and publishing a finished job's artifact with its provenance."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from ..catalog.loader import Template
from ..domain.access import Page, PageRequest
from ..domain.catalog import (
    SHA256_RE,
    SLUG_RE,
    TAG_RE,
    Approval,
    CatalogItem,
    CatalogKind,
    CatalogLink,
    CatalogScope,
    Relation,
    Visibility,
    check_details,
)
from ..domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from ..domain.jobs.model import Job
from ..domain.jobs.states import JobState
from ..domain.templates import check_params, data_params, inputs_as_params, job_document, run_datasets
from . import job_outputs, jobs
from .audit import record
from .catalog_review import check_slug_free, first_approval
from .context import Actor, found
from .ports import Clock, UnitOfWork, UnitOfWorkFactory

PUBLISHED_KINDS = (CatalogKind.MODEL, CatalogKind.DATASET, CatalogKind.STORY)


@dataclass(frozen=True)
class Entry:
    """An item with its provenance links (from and to it)."""

    item: CatalogItem
    links: list[CatalogLink]


def scope_of(actor: Actor | None) -> CatalogScope:
    """All items (operators), the public ones and the actor's organization's, or (no one signed in) the
    public ones only."""
    if actor is None:
        return CatalogScope()
    return CatalogScope(everything=actor.is_operator, organization_id=actor.user.organization_id)


def find_visible(uow: UnitOfWork, actor: Actor | None, kind: CatalogKind | str, slug: str) -> CatalogItem | None:
    """The item a slug names for this viewer: their organization's own first, then the listed (public and
    approved) one, then, for operators, any (the oldest). Other organizations' items never answer."""
    scope = scope_of(actor)
    items = uow.catalog.with_slug(CatalogKind(kind), slug)
    ranked = (
        [i for i in items if i.owned_by(scope.organization_id)]
        + [i for i in items if i.listed]
        + (items if scope.everything else [])
    )
    return ranked[0] if ranked else None


def visible_item(uow: UnitOfWork, actor: Actor | None, kind: CatalogKind | str, slug: str) -> CatalogItem:
    item = find_visible(uow, actor, kind, slug)
    if item is None:
        raise NotFound(f"{CatalogKind(kind).value} {slug!r} not found")  # not confirmed to other tenants
    return item


# -- templates from folders ---------------------------------------------------------------------------


def sync_templates(uow_factory: UnitOfWorkFactory, clock: Clock, templates: Iterable[Template]) -> int:
    """Create or update the templates' catalog items (public, owned by the site); idempotent. Returns how
    many items were created or changed."""
    changed = 0
    with uow_factory() as uow:
        for t in templates:
            fields = {
                "title": t.doc["title"],
                "summary": t.doc.get("summary", ""),
                "body": t.readme,
                "tags": list(t.doc.get("tags", [])),
                "details": t.details(),
            }
            item = next(
                (i for i in uow.catalog.with_slug(CatalogKind.TEMPLATE, t.name) if i.owner_organization_id is None),
                None,
            )
            if item is None:
                uow.catalog.add(
                    CatalogItem(
                        kind=CatalogKind.TEMPLATE,
                        slug=t.name,
                        visibility=Visibility.PUBLIC,
                        created_at=clock.now(),
                        updated_at=clock.now(),
                        **fields,
                    )
                )
            elif any(getattr(item, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(item, k, v)
                item.updated_at = clock.now()
            else:
                continue
            changed += 1
        uow.commit()
    return changed


class TemplateSync:
    """Syncs the loaded templates into the catalog once per process, on the first catalog request (start-up
    touches no database: ``serve`` migrates it first, tests create it after the app)."""

    def __init__(self, templates: list[Template]):
        self.templates, self._done, self._lock = templates, False, threading.Lock()

    def ensure(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        if self._done:
            return
        with self._lock:
            if not self._done:
                sync_templates(uow_factory, clock, self.templates)
                self._done = True


# -- reading ------------------------------------------------------------------------------------------


def search(
    uow: UnitOfWork,
    actor: Actor | None,
    page: PageRequest,
    *,
    q: str | None = None,
    kind: CatalogKind | None = None,
    tags: Sequence[str] = (),
    approval: Approval | None = None,
) -> Page[CatalogItem]:
    """``approval``: e.g. the organization's items still waiting (others' unlisted items are never found)."""
    return uow.catalog.search(page, scope_of(actor), q=q or None, kind=kind, tags=tuple(tags), approval=approval)


def show(uow: UnitOfWork, actor: Actor, kind: CatalogKind | str, slug: str) -> Entry:
    item = visible_item(uow, actor, kind, slug)
    links = [link for link in uow.catalog.links_of(item.stored_id) if _link_visible(uow, actor, link)]
    return Entry(item, links)


def _link_visible(uow: UnitOfWork, actor: Actor, link: CatalogLink) -> bool:
    """A link shows only items the actor may see (a private dataset stays unconfirmed)."""
    ends = [uow.catalog.get(i) for i in (link.from_item_id, link.to_item_id) if i is not None]
    return all(e is not None and e.visible_to(actor.user.organization_id, actor.is_operator) for e in ends)


# -- publishing ---------------------------------------------------------------------------------------


def _check_item(kind: Any, slug: Any, title: Any, tags: Any, visibility: Any) -> None:
    errors = []
    if kind not in [k.value for k in PUBLISHED_KINDS]:
        errors.append(FieldError("kind", f"{kind!r}: one of model, dataset, story (templates come from folders)"))
    if not isinstance(slug, str) or not re.fullmatch(SLUG_RE, slug):
        errors.append(FieldError("slug", f"{slug!r}: lowercase letters, digits and -, at most 64"))
    if not isinstance(title, str) or not 1 <= len(title.strip()) <= 200:
        errors.append(FieldError("title", "between 1 and 200 characters"))
    if not isinstance(tags, (list, tuple)) or len(tags) > 32:
        errors.append(FieldError("tags", "a list of at most 32 tags"))
    else:
        errors += [
            FieldError(f"tags.{i}", f"{t!r}: lowercase letters, digits and -, at most 40")
            for i, t in enumerate(tags)
            if not isinstance(t, str) or not re.fullmatch(TAG_RE, t)
        ]
    if visibility not in [v.value for v in Visibility]:
        errors.append(FieldError("visibility", f"{visibility!r}: public or organization"))
    if errors:
        raise InvalidInput(f"{errors[0].field}: {errors[0].message}", errors)


def _owner(actor: Actor) -> int:
    if actor.user.organization_id is None:
        raise Forbidden("only users of an organization publish to the catalog (the item belongs to it)")
    return actor.user.organization_id


def _new_item(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    *,
    kind: Any,
    slug: Any,
    title: Any,
    summary: str = "",
    body: str = "",
    tags: Any = (),
    visibility: Any = Visibility.ORGANIZATION,
    details: Any = None,
    job_id: int | None = None,
) -> CatalogItem:
    _check_item(kind, slug, title, tags, visibility)
    details = {} if details is None else details
    check_details(CatalogKind(kind), details)
    owner = _owner(actor)
    check_slug_free(uow, CatalogKind(kind), slug, owner, Visibility(visibility))
    now = clock.now()
    item = uow.catalog.add(
        CatalogItem(
            kind=CatalogKind(kind),
            slug=slug,
            title=title.strip(),
            summary=summary,
            body=body,
            tags=list(tags),
            owner_organization_id=owner,
            visibility=Visibility(visibility),
            details=details,
            job_id=job_id,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
            approval=first_approval(actor, Visibility(visibility)),
        )
    )
    record(
        uow,
        clock,
        actor,
        "catalog.published",
        item,
        None,
        {"kind": item.kind.value, "slug": slug, "visibility": item.visibility.value, "approval": item.approval.value},
    )
    return item


def publish(uow: UnitOfWork, clock: Clock, actor: Actor, **fields: Any) -> CatalogItem:
    """A model, dataset or story owned by the actor's organization (fields as in :func:`_new_item`)."""
    item = _new_item(uow, clock, actor, **fields)
    uow.commit()
    return item


# -- running a template -------------------------------------------------------------------------------


def run_template(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    gw: jobs.Gateway,
    name: str,
    params: Any,
    project: int | str,
    name_override: str | None = None,
    idempotency_key: str | None = None,
) -> Job:
    """Check the parameters (defaults applied; errors name ``params.<field>``), build an ordinary job spec
    and submit it through the gateway: admitted and charged like any other job. The template and the
    datasets it declares are linked to the job (``used-in``)."""
    with uow_factory(write=False) as uow:
        template = visible_item(uow, actor, CatalogKind.TEMPLATE, name)
        details, template_id = template.details, template.stored_id
    values = check_params(details["parameters"], params)
    document = job_document(
        details, project=project, name=name_override or name, params=values, idempotency_key=idempotency_key
    )
    try:
        job = jobs.submit_job(uow_factory, clock, actor, gw, document)
    except InvalidInput as exc:  # a data parameter's dataset or file: named as the parameter given
        raise inputs_as_params(exc, data_params(details["parameters"])) from exc
    _link_run(uow_factory, clock, actor, template_id, run_datasets(details, document), job.stored_id)
    return job


def _link_run(
    uow_factory: UnitOfWorkFactory, clock: Clock, actor: Actor, template_id: int, datasets: list[str], job_id: int
) -> None:
    with uow_factory() as uow:
        used = [find_visible(uow, actor, CatalogKind.DATASET, slug) for slug in datasets]
        ids = [template_id] + [d.stored_id for d in used if d is not None]
        for item_id in ids:
            if uow.catalog.find_link(item_id, Relation.USED_IN, job_id=job_id) is None:  # idempotent replays
                uow.catalog.add_link(
                    CatalogLink(from_item_id=item_id, relation=Relation.USED_IN, job_id=job_id, created_at=clock.now())
                )
        uow.commit()


# -- publishing a job's output ------------------------------------------------------------------------


def _sha256(fh: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def finished_artifact(
    uow_factory: UnitOfWorkFactory, actor: Actor, gw: jobs.Gateway, job_id: int, path: str
) -> BinaryIO:
    with uow_factory(write=False) as uow:
        job = jobs.get_job(uow, actor, job_id)
        project = found(uow.projects.get(job.project_id), "project", job.project_id)
        if project.role_of(actor.id) is None:
            raise Forbidden("only the project's members publish its jobs' outputs")
        if job.state is not JobState.COMPLETED:
            raise Conflict(f"job {job_id} is {job.state.value}; only a completed job's outputs are published")
        return job_outputs.open_artifact(uow, actor, gw, job_id, path).file


def publish_job_output(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    gw: jobs.Gateway,
    job_id: int,
    *,
    path: str,
    kind: str = "model",
    slug: str,
    title: str,
    summary: str = "",
    body: str = "",
    tags: Sequence[str] = (),
    visibility: str = "organization",
    sha256: str | None = None,
    details: dict[str, Any] | None = None,
    saved_to: dict[str, Any] | None = None,
) -> Entry:
    """One artifact of a completed job of the actor's project as a model or dataset: its sha256 and size,
    computed now (and compared with ``sha256`` when given), go into the details; the item is linked
    ``produced-by`` the job and ``trained-on`` the datasets the job's template declared. One transaction."""
    if kind not in (CatalogKind.MODEL.value, CatalogKind.DATASET.value):
        raise InvalidInput.on("kind", f"{kind!r}: a job's output is published as a model or a dataset")
    if sha256 is not None and not re.fullmatch(SHA256_RE, sha256):
        raise InvalidInput.on("sha256", "64 lowercase hex digits")
    file = finished_artifact(uow_factory, actor, gw, job_id, path)
    digest, size = _sha256(file)
    if sha256 is not None and sha256 != digest:
        raise InvalidInput.on("sha256", f"the artifact's sha256 is {digest}, not {sha256}")
    facts = {**(details or {}), "sha256": digest, "size": size}
    with uow_factory() as uow:
        item = _new_item(
            uow,
            clock,
            actor,
            kind=kind,
            slug=slug,
            title=title,
            summary=summary,
            body=body,
            tags=list(tags),
            visibility=visibility,
            details=facts,
            job_id=job_id,
        )
        item.details = {**facts, "artifact": {"job_id": job_id, "path": path}} | (
            {"saved_to": saved_to} if saved_to else {}
        )
        links = [
            uow.catalog.add_link(
                CatalogLink(
                    from_item_id=item.stored_id, relation=Relation.PRODUCED_BY, job_id=job_id, created_at=clock.now()
                )
            )
        ]
        for dataset_id in _datasets_used(uow, job_id):
            links.append(
                uow.catalog.add_link(
                    CatalogLink(
                        from_item_id=item.stored_id,
                        relation=Relation.TRAINED_ON,
                        to_item_id=dataset_id,
                        created_at=clock.now(),
                    )
                )
            )
        uow.commit()
        return Entry(item, links)


def _datasets_used(uow: UnitOfWork, job_id: int) -> list[int]:
    used = [uow.catalog.get(link.from_item_id) for link in uow.catalog.links_to_job(job_id, Relation.USED_IN)]
    return [i.stored_id for i in used if i is not None and i.kind is CatalogKind.DATASET]
