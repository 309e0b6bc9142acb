from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ...domain.access import Page as DomainPage

T = TypeVar("T")

#: ids are INTEGER columns (32-bit on PostgreSQL): a larger number cannot name anything and is refused as
#: invalid input instead of reaching the database driver
MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]


class In(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error naming the field."""

    model_config = ConfigDict(extra="forbid")


def refuse_null(value: Any) -> Any:
    """A before-validator for fields that may be left out (to keep their value) but are not nullable:
    an explicit null is an error naming the field, not a NULL for the database to refuse."""
    if value is None:
        raise ValueError("must not be null; leave the field out to keep its value")
    return value


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def page_of(page: DomainPage[Any], convert: Callable[[Any], Any]) -> dict[str, Any]:
    """A domain Page as the API's page body, each item converted (e.g. ``XOut.model_validate``)."""
    return {"items": [convert(i) for i in page.items], "total": page.total, "limit": page.limit, "offset": page.offset}
