"""The catalog: search and show templates, models, datasets and stories; publish; run a template as a job;
publish a finished job's artifact with its provenance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from starlette.concurrency import run_in_threadpool

from ...domain.catalog import SLUG_RE, TAG_RE, Approval, CatalogKind
from ...services import catalog, catalog_review, job_saves
from ..deps import Ctx, CurrentActor, IdPath, Paging, Uow
from ..schemas.catalog import (
    ApprovalIn,
    CatalogEntryOut,
    CatalogItemOut,
    JobPublishIn,
    PublishIn,
    TemplateRunIn,
    entry_out,
)
from ..schemas.common import Page, page_of
from ..schemas.jobs import JobOut


def _templates_synced(request: Request, ctx: Ctx) -> None:
    request.app.state.templates.ensure(ctx.uow_factory, ctx.clock)


router = APIRouter(tags=["catalog"], dependencies=[Depends(_templates_synced)])
SlugPath = Annotated[str, Path(pattern=SLUG_RE)]


@router.get(
    "/catalog",
    response_model=Page[CatalogItemOut],
    summary="Search the catalog (public items, and your organization's)",
)
def search(
    actor: CurrentActor,
    uow: Uow,
    page: Paging,
    q: Annotated[str | None, Query(max_length=200, description="in titles, summaries and tags")] = None,
    kind: CatalogKind | None = None,
    tag: Annotated[
        list[Annotated[str, Query(pattern=TAG_RE)]], Query(max_length=16, description="every tag given")
    ] = [],  # noqa: B006 - FastAPI copies a list query parameter's default per request
    approval: Annotated[
        Approval | None, Query(description="e.g. pending: your organization's public items awaiting approval")
    ] = None,
) -> dict[str, Any]:
    found = catalog.search(uow, actor, page, q=q, kind=kind, tags=tag, approval=approval)
    return page_of(found, CatalogItemOut.model_validate)


@router.get(
    "/catalog/pending",
    response_model=Page[CatalogItemOut],
    summary="Public items awaiting an operator's approval (operators)",
)
def pending(actor: CurrentActor, uow: Uow, page: Paging) -> dict[str, Any]:
    return page_of(catalog_review.pending(uow, actor, page), CatalogItemOut.model_validate)


@router.post(
    "/catalog/items/{item_id}/decision",
    response_model=CatalogItemOut,
    summary="Approve a waiting public item (listed at once) or reject it with a reason (operators)",
)
def decide(item_id: IdPath, body: ApprovalIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> CatalogItemOut:
    item = catalog_review.review_item(
        uow, ctx.clock, actor, item_id, approve=body.decision == "approve", reason=body.reason
    )
    return CatalogItemOut.model_validate(item)


@router.get("/catalog/{kind}/{slug}", response_model=CatalogEntryOut, summary="One item with its provenance")
def show(kind: CatalogKind, slug: SlugPath, actor: CurrentActor, uow: Uow) -> CatalogEntryOut:
    return entry_out(catalog.show(uow, actor, kind, slug))


@router.post(
    "/catalog",
    status_code=status.HTTP_201_CREATED,
    response_model=CatalogEntryOut,
    summary="Publish a model, dataset or story (owned by your organization)",
)
def publish(body: PublishIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> CatalogEntryOut:
    item = catalog.publish(uow, ctx.clock, actor, **body.model_dump())
    return entry_out(catalog.Entry(item, []))


@router.post(
    "/templates/{name}/run",
    status_code=status.HTTP_201_CREATED,
    response_model=JobOut,
    summary="Run a template as a job of your project (admitted and charged like any job)",
)
async def run_template(name: SlugPath, body: TemplateRunIn, actor: CurrentActor, ctx: Ctx) -> JobOut:
    job = await run_in_threadpool(
        catalog.run_template,
        ctx.uow_factory,
        ctx.clock,
        actor,
        ctx.gateway,
        name,
        body.params,
        body.project,
        body.name,
        body.idempotency_key,
    )
    if ctx.reconciler is not None:
        ctx.reconciler.kick()
    return JobOut.model_validate(job)


@router.post(
    "/jobs/{job_id}/publish",
    status_code=status.HTTP_201_CREATED,
    response_model=CatalogEntryOut,
    summary="Publish a completed job's artifact as a model or dataset (sha256 verified, provenance linked)",
)
def publish_output(job_id: IdPath, body: JobPublishIn, actor: CurrentActor, ctx: Ctx) -> CatalogEntryOut:
    fields = body.model_dump()
    save_to = fields.pop("save_to")
    if save_to is not None:  # saved into the project's storage and published in one step
        saved = job_saves.publish_saved(
            ctx.uow_factory, ctx.clock, actor, ctx.gateway, ctx.storage, job_id, save_to=save_to, **fields
        )
        return entry_out(saved)
    return entry_out(catalog.publish_job_output(ctx.uow_factory, ctx.clock, actor, ctx.gateway, job_id, **fields))
