"""The portal's words for the account rules: why a password is refused (``domain.passwords``) and how long a
lockout lasts (``services.throttle``), in the viewer's language."""

from __future__ import annotations

import math

from ..domain.errors import DomainError
from ..domain.passwords import WeakPassword
from .i18n import Translator


def password_reason(t: Translator, reason: str) -> str:
    texts = {
        "short": t.gettext("must be at least 12 characters long"),
        "long": t.gettext("must be at most 1024 characters long"),
        "email": t.gettext("must not contain your e-mail address or its name part"),
        "repeat": t.gettext("is too easy to guess: it repeats characters or words (like aaa or abcabc)"),
        "sequence": t.gettext("is too easy to guess: it is a sequence (like abcd or 1234)"),
        "keyboard": t.gettext("is too easy to guess: it is a keyboard pattern (like qwerty)"),
        "common": t.gettext("is too easy to guess: it is a common password, word or name"),
        "date": t.gettext("is too easy to guess: it is a date or a year"),
        "guessable": t.gettext("is too easy to guess: use a few unrelated words, or a password manager"),
    }
    return texts.get(reason, texts["guessable"])


def form_errors(t: Translator, exc: DomainError, field: str, errors: dict[str, str]) -> dict[str, str]:
    """``errors`` with a refused password's reason translated, under the form's ``field``."""
    if isinstance(exc, WeakPassword):
        return {**{k: v for k, v in errors.items() if k != "_"}, field: password_reason(t, exc.reason)}
    return errors


def wait_message(t: Translator, seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return t.gettext("Too many attempts. Please try again in %(minutes)s minute(s).", minutes=minutes)
