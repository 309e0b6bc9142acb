from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from ...domain.catalog import SHA256_RE, SLUG_RE, TAG_RE, Approval, CatalogKind, Relation, Visibility
from .common import Id, In, LongText, Out, Text200

Slug = Annotated[
    str,
    Field(pattern=SLUG_RE, description="lowercase letters, digits and -; unique per kind in your organization"),
]
Tag = Annotated[str, Field(pattern=TAG_RE)]
Tags = Annotated[
    list[Tag],
    Field(
        max_length=32,
        description="application fields (health, energy-climate, "
        "mobility, education, finance, manufacturing, food) and free tags",
    ),
]
Summary = Annotated[str, Field(max_length=1000)]


class CatalogItemOut(Out):
    id: int
    kind: CatalogKind
    slug: str
    title: str
    summary: str
    tags: list[str]
    visibility: Visibility
    approval: Approval = Field(
        description="public items of non-operators are listed once approved; pending and rejected ones are "
        "seen by their organization and operators only"
    )
    approval_reason: str | None = Field(description="why it was rejected")
    owner_organization_id: int | None
    job_id: int | None
    created_at: datetime
    updated_at: datetime


class CatalogLinkOut(Out):
    from_item_id: int
    relation: Relation
    to_item_id: int | None
    job_id: int | None
    created_at: datetime


class CatalogEntryOut(CatalogItemOut):
    body: str = Field(description="markdown")
    details: dict[str, Any] = Field(
        description="per kind: a template's parameters schema, defaults, resources "
        "and job; a model's version, framework, licence, metrics, sha256…"
    )
    created_by: int | None
    links: list[CatalogLinkOut] = Field(description="provenance: used-in, produced-by, trained-on")


class ItemFields(In):
    """What describes any published item (a model, a dataset, a story)."""

    slug: Slug
    title: Text200
    summary: Summary = ""
    body: LongText = ""
    tags: Tags = []
    visibility: Visibility = Visibility.ORGANIZATION


class PublishIn(ItemFields):
    kind: Literal["model", "dataset", "story"]
    details: dict[str, Any] = Field(default_factory=dict, description="per kind (see the catalog docs)")


class TemplateRunIn(In):
    project: Annotated[
        Id | Annotated[str, Field(min_length=1, max_length=30)],
        Field(description="project id or its Slurm account name"),
    ]
    params: dict[str, Any] = Field(default_factory=dict, description="checked against the template's schema")
    name: Annotated[
        str | None,
        Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="job name (default: the template's)"),
    ] = None
    idempotency_key: Annotated[str | None, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")] = None


class JobPublishIn(ItemFields):
    path: Annotated[str, Field(min_length=1, max_length=1024, description="one of the job's artifacts")]
    kind: Literal["model", "dataset"] = "model"
    sha256: Annotated[str | None, Field(pattern=SHA256_RE, description="expected checksum (verified)")] = None
    details: dict[str, Any] = Field(default_factory=dict, description="version, framework, licence, metrics…")
    save_to: Annotated[
        str | None,
        Field(min_length=1, max_length=1024, description="also save it under this name in the project's storage"),
    ] = None


def entry_out(entry: Any) -> CatalogEntryOut:
    item = CatalogItemOut.model_validate(entry.item).model_dump()
    return CatalogEntryOut(
        **item,
        body=entry.item.body,
        details=entry.item.details,
        created_by=entry.item.created_by,
        links=[CatalogLinkOut.model_validate(link) for link in entry.links],
    )


class ApprovalIn(In):
    decision: Literal["approve", "reject"]
    reason: Annotated[str, Field(max_length=2000, description="required to reject; the publisher reads it")] = ""
