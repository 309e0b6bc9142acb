"""Ids the store sets: asking a stored entity for its id gives an int; asking one never stored is an error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aifactory.domain.identity import User
from aifactory.domain.stored import stored


def test_stored_id_of_a_stored_entity_and_of_a_new_one() -> None:
    user = User(email="ada@example.org", name="Ada", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="this User is not stored yet"):
        _ = user.stored_id
    user.id = 7
    assert user.stored_id == 7


def test_stored_key() -> None:
    assert stored(3, "the project") == 3
    with pytest.raises(ValueError, match="the project is not stored yet"):
        stored(None, "the project")
