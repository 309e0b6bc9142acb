"""The catalog: templates, models, datasets and stories, with their provenance (links between items and the
jobs that used or produced them). Plain dataclasses and the per-kind rules; no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from jsonschema import Draft202012Validator

from .enums import ApplicationField
from .errors import FieldError, InvalidInput
from .stored import Stored

SLUG_RE = r"^[a-z0-9][a-z0-9-]{0,63}$"
TAG_RE = r"^[a-z0-9][a-z0-9-]{0,39}$"
SHA256_RE = r"^[0-9a-f]{64}$"
#: the strategic application fields, suggested as tags (free tags are allowed too)
FIELD_TAGS = tuple(f.value for f in ApplicationField if f is not ApplicationField.OTHER)


class CatalogKind(StrEnum):
    TEMPLATE = "template"
    MODEL = "model"
    DATASET = "dataset"
    STORY = "story"


class Visibility(StrEnum):
    PUBLIC = "public"  # every signed-in user
    ORGANIZATION = "organization"  # the owning organization's users (and operators)


class Approval(StrEnum):
    """Whether a public item may be listed: a non-operator's public item waits for an operator's approval
    (until then only its organization and operators see it). Organization items never wait (``approved``)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Relation(StrEnum):
    USED_IN = "used-in"  # template or dataset -> job
    PRODUCED_BY = "produced-by"  # model or dataset -> job
    TRAINED_ON = "trained-on"  # model -> dataset


@dataclass(eq=False, kw_only=True)
class CatalogItem(Stored):
    kind: CatalogKind
    slug: str
    title: str
    summary: str = ""
    body: str = ""  # markdown
    owner_organization_id: int | None = None  # None: built in or a site's own
    visibility: Visibility = Visibility.ORGANIZATION
    tags: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    job_id: int | None = None  # the job that produced it (models, datasets)
    created_by: int | None = None
    created_at: datetime
    updated_at: datetime
    approval: Approval = Approval.APPROVED
    approval_reason: str | None = None  # why it was rejected (shown to its organization)
    decided_by: int | None = None
    decided_at: datetime | None = None
    id: int | None = None

    @property
    def listed(self) -> bool:
        """Public and approved: what everyone (anonymous visitors included) sees."""
        return self.visibility is Visibility.PUBLIC and self.approval is Approval.APPROVED

    def owned_by(self, organization_id: int | None) -> bool:
        return self.owner_organization_id is not None and self.owner_organization_id == organization_id

    def visible_to(self, organization_id: int | None, operator: bool) -> bool:
        return operator or self.listed or self.owned_by(organization_id)


@dataclass(eq=False, kw_only=True)
class CatalogLink:
    from_item_id: int
    relation: Relation
    to_item_id: int | None = None
    job_id: int | None = None
    created_at: datetime
    id: int | None = None


@dataclass(frozen=True)
class CatalogScope:
    """Items visible to a viewer: all (operators), or the public ones and its organization's."""

    everything: bool = False
    organization_id: int | None = None


_text = {"type": "string", "maxLength": 200}
_size = {"type": "integer", "minimum": 0}
_sha = {"type": "string", "pattern": SHA256_RE, "description": "64 lowercase hex digits"}
_metrics = {"type": "object", "maxProperties": 64, "additionalProperties": {"type": ["number", "string"]}}
_texts = {  # per language ("de"), the words shown instead of title, summary and body: {"de": {"title": …}}
    "type": "object",
    "maxProperties": 8,
    "propertyNames": {"pattern": "^[a-z]{2}$"},
    "additionalProperties": {
        "type": "object",
        "additionalProperties": False,
        "properties": {k: {"type": "string", "maxLength": 20000} for k in ("title", "summary", "body")},
    },
}
DETAILS_SCHEMAS: dict[CatalogKind, dict[str, Any]] = {
    CatalogKind.MODEL: {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "version": _text,
            "framework": _text,
            "licence": _text,
            "metrics": _metrics,
            "sha256": _sha,
            "size": _size,
            "url": {"type": "string", "maxLength": 2000},
        },
    },
    CatalogKind.DATASET: {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "origin": _text,
            "licence": _text,
            "format": _text,
            "size": _size,
            "sha256": _sha,
            "url": {"type": "string", "maxLength": 2000},
            "texts": _texts,
        },
    },
    CatalogKind.STORY: {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "results": {"type": "string", "maxLength": 20000},
            "organization": _text,
            "metrics": _metrics,
            "texts": _texts,
        },
    },
}


def json_field(error: Any, prefix: str) -> str:
    """The dotted field a jsonschema error concerns, under ``prefix`` (e.g. ``params.epochs``)."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        path += extra[:1]
    elif error.validator == "required":
        path += [error.message.split("'")[1]] if "'" in error.message else []
    return ".".join([prefix, *path])


def json_message(error: Any) -> str:
    if error.validator == "additionalProperties":
        return "unknown field"
    if error.validator == "required":
        return "is required"
    if error.validator == "pattern":
        desc = error.schema.get("description")
        return f"{error.instance!r} has the wrong form" + (f" ({desc})" if desc else "")
    return str(error.message)


def schema_errors(schema: dict[str, Any], value: Any, prefix: str) -> list[FieldError]:
    found = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    return [FieldError(json_field(e, prefix), json_message(e)) for e in found]


def check_details(kind: CatalogKind, details: Any) -> None:
    """A published item's details, by kind: every problem named ``details.<field>``."""
    if kind not in DETAILS_SCHEMAS:
        raise InvalidInput.on("kind", f"{kind.value}s are not published by hand (templates come from folders)")
    errors = schema_errors(DETAILS_SCHEMAS[kind], details, "details")
    if errors:
        raise InvalidInput(f"{errors[0].field}: {errors[0].message}", errors)
