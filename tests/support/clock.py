"""The tests' fixed time."""

from __future__ import annotations

from datetime import UTC, datetime

#: A Monday; working-day arithmetic in the tests is checked by hand against the NRW holiday calendar.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
