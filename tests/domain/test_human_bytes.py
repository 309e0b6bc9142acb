"""One wording for sizes, the CLI's and the portal's: binary units, whole bytes below 1 KiB, one decimal above."""

from __future__ import annotations

import pytest

from aifactory.domain.storage import human_bytes


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1,023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (19_149, "18.7 KiB"),
        (1024**2 - 52, "1023.9 KiB"),
        (1024**2 - 1, "1.0 MiB"),  # rounds up into the next unit, never "1024.0 KiB"
        (5 * 1024**2, "5.0 MiB"),
        (10 * 1024**3, "10.0 GiB"),
        (3 * 1024**4 + 1024**4 // 2, "3.5 TiB"),
        (1024**5, "1.0 PiB"),
        (2048 * 1024**5, "2048.0 PiB"),  # the largest unit goes on counting
        (-2048, "-2.0 KiB"),
    ],
)
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text
