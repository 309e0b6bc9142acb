"""The portal on the real app and the demo database (SQLite and PostgreSQL, like tests/api): a ``portal``
fixture gives browser-like clients (own cookie jar each) signed in as demo people with their password."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.portal import Portal


@pytest.fixture
def portal(api: Api) -> Portal:
    return Portal(api)
