"""Ids the store sets: an entity's ``id`` (and a parent's id on its children) is None until its row is
written, and set for good once it is. Code that holds a stored entity asks for ``stored_id``."""

from __future__ import annotations


def stored(value: int | None, what: str) -> int:
    """A key the store has set; None here is a programming error (the entity was never stored)."""
    if value is None:
        raise ValueError(f"{what} is not stored yet")
    return value


class Stored:
    """Mixin of the stored entities (plain dataclasses that declare ``id: int | None = None``)."""

    id: int | None

    @property
    def stored_id(self) -> int:
        return stored(self.id, f"this {type(self).__name__}")
