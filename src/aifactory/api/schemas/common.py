from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]


class In(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error naming the field."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def page_of(page, convert: Callable[[Any], Any]) -> dict:  # type: ignore[no-untyped-def]
    """A domain Page as the API's page body, each item converted (e.g. ``XOut.model_validate``)."""
    return {"items": [convert(i) for i in page.items], "total": page.total, "limit": page.limit,
            "offset": page.offset}
