"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator

from ..domain.questions import Question


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes everywhere (SQLite drops the offset: re-attach it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(TypeDecorator[StrEnum]):
    """A StrEnum stored as its value in a VARCHAR (no native ENUM to migrate)."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum]):
        super().__init__()
        self.enum_cls = enum_cls

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum_cls(value)


class QuestionsType(TypeDecorator[list[Question]]):
    """A call's questions (domain.questions) as a JSON list."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[Question] | None, dialect: Dialect) -> list[dict[str, Any]]:
        return [q.to_json() for q in value or []]

    def process_result_value(self, value: list[dict[str, Any]] | None, dialect: Dialect) -> list[Question]:
        return [Question.from_json(d) for d in value or []]
