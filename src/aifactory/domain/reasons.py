"""Why a proposal was decided, or waits for an operator, when the factory (not a person) decided it: a code and
its figures. ``text`` is the English sentence that is stored in ``decision_reason`` / ``held_reason`` and
returned by the API unchanged; the portal renders the code in the viewer's language instead. ``read`` turns a
stored sentence back into its code, so that reasons stored before the codes existed are rendered too; anything
else (an operator's own words) is ``OPERATOR`` and shown as written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

AUTO_APPROVED = "auto_approved"  # requested ≤ the call's auto-approval limit
HELD_MAX_PROPOSALS = "held_max_proposals"  # the organization already has `live` proposals in the call (cap)
HELD_MAX_GPU_HOURS = "held_max_gpu_hours"  # `used` + `requested` auto-approved GPU-hours exceed `cap`
OPERATOR = "operator"  # a person's own words


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    values: dict[str, int] = field(default_factory=dict)


def auto_approved(requested: int, limit: int) -> Reason:
    return Reason(
        AUTO_APPROVED,
        f"auto-approved: {requested} ≤ {limit} GPU-hours",
        {"requested": requested, "limit": limit},
    )


def held_max_proposals(live: int, cap: int) -> Reason:
    return Reason(
        HELD_MAX_PROPOSALS,
        f"over the self-service limit: the organization already has {live} open or accepted "
        f"proposal{'s' if live != 1 else ''} in this call (limit {cap})",
        {"live": live, "cap": cap},
    )


def held_max_gpu_hours(used: int, months: int, requested: int, cap: int) -> Reason:
    return Reason(
        HELD_MAX_GPU_HOURS,
        f"over the self-service limit: {used:,} GPU-hours auto-approved to the organization in this call in "
        f"the last {months} months, plus {requested:,} requested, exceeds {cap:,}",
        {"used": used, "months": months, "requested": requested, "cap": cap},
    )


_N = r"([0-9][0-9,]*)"
_PATTERNS = (
    (re.compile(rf"^auto-approved: {_N} ≤ {_N} GPU-hours$"), auto_approved),
    (
        re.compile(rf"^over the self-service limit: the organization already has {_N} open .* \(limit {_N}\)$"),
        held_max_proposals,
    ),
    (
        re.compile(
            rf"^over the self-service limit: {_N} GPU-hours .* the last {_N} months, plus {_N} requested, "
            rf"exceeds {_N}$"
        ),
        held_max_gpu_hours,
    ),
)


def read(text: str) -> Reason:
    """A stored reason as its code and figures (``OPERATOR`` when a person wrote it)."""
    for pattern, make in _PATTERNS:
        m = pattern.match(text)
        if m:
            made = make(*(int(g.replace(",", "")) for g in m.groups()))
            if made.text == text:
                return made
    return Reason(OPERATOR, text)
