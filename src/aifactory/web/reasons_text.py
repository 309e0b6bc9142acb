"""A decision reason for people, in the viewer's language: the factory's own reasons (domain.reasons: a code
and its figures) as a sentence, figures in the language's style; a person's words as they wrote them."""

from __future__ import annotations

from collections.abc import Callable

from ..domain import reasons
from .charts_units import number


def reason_text(text: str | None, t: Callable[..., str], lang: str) -> str:
    """``text`` as stored (``decision_reason`` / ``held_reason``) in words for the viewer (``t``: gettext)."""
    if not text:
        return ""
    r = reasons.read(text)
    v = {k: number(n, lang, 0) for k, n in r.values.items()}
    if r.code == reasons.AUTO_APPROVED:
        return t(
            "Approved automatically: %(requested)s GPU-hours asked for, within the %(limit)s GPU-hours this call "
            "approves without review.",
            **v,
        )
    if r.code == reasons.HELD_MAX_PROPOSALS and r.values["live"] == 1:
        return t(
            "An operator decides: your organization already has one open or accepted proposal in this call, and "
            "at most %(cap)s are approved automatically.",
            **v,
        )
    if r.code == reasons.HELD_MAX_PROPOSALS:
        return t(
            "An operator decides: your organization already has %(live)s open or accepted proposals in this call, "
            "and at most %(cap)s are approved automatically.",
            **v,
        )
    if r.code == reasons.HELD_MAX_GPU_HOURS:
        return t(
            "An operator decides: %(used)s GPU-hours were approved automatically to your organization in this call "
            "in the last %(months)s months; with the %(requested)s asked for now that is more than the %(cap)s "
            "approved without review.",
            **v,
        )
    return r.text
