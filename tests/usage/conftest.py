"""Fixtures: the hand-written traces of tests.support.traces as files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.traces import ALIBABA, SWF


@pytest.fixture
def swf_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.swf"
    path.write_bytes(SWF)
    return path


@pytest.fixture
def alibaba_file(tmp_path: Path) -> Path:
    path = tmp_path / "pods.csv"
    path.write_text(ALIBABA)
    return path
