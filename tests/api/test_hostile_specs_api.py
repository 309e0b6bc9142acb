"""Hostile job specs cost the server nothing before they are refused: the outside test's 303-byte grid, a grid
of 10^48 combinations and YAML alias bombs get 422 or 413 with the server's memory flat; the caller's
membership is checked before a grid is expanded; specs are parsed off the event loop (API and portal), so
/health answers while one is being parsed. (How fast: bench/hostile_specs.py.)"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from aifactory.api.routes import jobs as job_routes
from aifactory.domain.jobs import spec as spec_module
from tests.support.api import API, Api, assert_problem
from tests.support.hostile import BOMB, while_parsing


def grid(keys: int, values: int, project: int | str = 1) -> dict[str, Any]:
    return {
        "name": "g",
        "project": project,
        "command": ["true"],
        "array": {"grid": {f"k{i}": list(range(values)) for i in range(keys)}},
    }


HOSTILE = {
    "303-byte-grid": (json.dumps(grid(6, 10, 99999), separators=(",", ":")), "application/json"),
    "10^48-grid": (json.dumps(grid(16, 1000)), "application/json"),
    "yaml-alias-bomb": (BOMB, "application/yaml"),
    "yaml-merge-alias": ("base: &b {name: t}\n<<: *b\nproject: 1\ncommand: [true]\n", "application/yaml"),
    "deep-json": ("[" * 50_000 + "]" * 50_000, "application/json"),
}


def peak_during(call: Callable[[], Any]) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_spec_is_refused_with_memory_flat(api: Api, name: str) -> None:
    body, kind = HOSTILE[name]
    before = api.counts()
    r, peak = peak_during(lambda: api.post("/jobs", "anna", content=body, headers={"Content-Type": kind}))
    assert r.status_code in (413, 422), r.text
    assert_problem(r, r.status_code)
    assert peak < 24 << 20, f"{peak / 2**20:.1f} MiB while refusing {name}"  # the 303-byte grid took ~285 MB
    assert api.counts() == before


def test_membership_is_checked_before_a_grid_is_expanded(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_expansion(*_: object) -> None:
        raise AssertionError("the grid was expanded before the caller's membership was checked")

    monkeypatch.setattr(spec_module, "_array", no_expansion)
    gridwise = api.project_of("gridwise")
    assert_problem(api.post("/jobs", "anna", json=grid(2, 100, gridwise)), 404)  # 10,000 tasks: within the limit
    assert_problem(api.post("/jobs", "anna", json=grid(2, 100, 99999)), 404)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_health_answers_while_a_hostile_spec_is_handled(api: Api, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    body, kind = HOSTILE[name]
    health, submitted = while_parsing(
        lambda gate: monkeypatch.setattr(job_routes, "load_document", gate(job_routes.load_document)),
        lambda: api.post("/jobs", "anna", content=body, headers={"Content-Type": kind}),
        lambda: api.client.get(f"{API}/health"),
    )
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert submitted.status_code in (413, 422), submitted.text
