"""The API load's requests: the application's mix of endpoint groups, and the bare baseline's one request."""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable

from _harness.http_load import Requester, get_request

from .seed import Fixture

DEFAULT_MIX = "list=30,show=40,calls=15,projects=15"
GROUPS = ("list", "show", "calls", "projects")
OPERATOR = "operator@jaif.example"
APPLICANTS = ("anna@backhaus-kiel.example", "daan@gridwise.example")  # members of the demo's two projects


def parse_mix(text: str) -> dict[str, int]:
    mix: dict[str, int] = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in GROUPS or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(f"bad mix entry {part!r}: use e.g. {DEFAULT_MIX}")
        mix[name.strip()] = int(weight)
    if not any(mix.values()):
        raise argparse.ArgumentTypeError("the mix needs at least one positive weight")
    return mix


def app_requester(port: int, fixture: Fixture, mix: dict[str, int], page: int) -> Requester:
    """``GET /api/v1/proposals?limit=<page>&offset=<random>`` and ``/proposals/<random id>`` as the operator,
    ``/calls`` and ``/projects`` as applicants, drawn with the mix's weights."""

    def build(path: str, email: str) -> bytes:
        return get_request(port, path, {"Authorization": f"Bearer {fixture.tokens[email]}"})

    ids = fixture.proposal_ids
    max_offset = max(0, fixture.total_proposals - page)
    calls_reqs = [build("/api/v1/calls", e) for e in APPLICANTS]
    projects_reqs = [build("/api/v1/projects", e) for e in APPLICANTS]
    makers: dict[str, Callable[[random.Random], bytes]] = {
        "list": lambda r: build(f"/api/v1/proposals?limit={page}&offset={r.randint(0, max_offset)}", OPERATOR),
        "show": lambda r: build(f"/api/v1/proposals/{r.choice(ids)}", OPERATOR),
        "calls": lambda r: r.choice(calls_reqs),
        "projects": lambda r: r.choice(projects_reqs),
    }
    names = [g for g in makers if mix.get(g, 0) > 0]
    weights = [mix[g] for g in names]

    def requester(r: random.Random) -> tuple[str, bytes]:
        group = r.choices(names, weights)[0]
        return group, makers[group](r)

    return requester


def bare_requester(port: int, path: str) -> Requester:
    request = get_request(port, path)
    return lambda _r: ("bare", request)
