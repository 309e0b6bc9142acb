"""The password policy, one rule for sign-up, change, reset and user creation: at least 12 characters, not the
e-mail address nor its name part, and not guessable (zxcvbn's estimate: common passwords, words, names,
keyboard patterns, repeats, sequences and dates; computed locally, nothing downloaded)."""

from __future__ import annotations

from dataclasses import dataclass

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from .errors import FieldError, InvalidInput

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MIN_SCORE = 3  # zxcvbn's 0..4: 3 is "safely unguessable" (about 10^8 guesses and more), online and offline
_ESTIMATED = 72  # zxcvbn looks at this many characters at most (it refuses longer ones; its cost grows with length)

# why a password is refused: reason -> the English message (the portal translates by reason)
REASONS = {
    "short": f"must be at least {MIN_PASSWORD} characters long",
    "long": f"must be at most {MAX_PASSWORD} characters long",
    "email": "must not contain your e-mail address or its name part",
    "repeat": "is too easy to guess: it repeats characters or words (like aaa or abcabc)",
    "sequence": "is too easy to guess: it is a sequence (like abcd or 1234)",
    "keyboard": "is too easy to guess: it is a keyboard pattern (like qwerty)",
    "common": "is too easy to guess: it is a common password, word or name",
    "date": "is too easy to guess: it is a date or a year",
    "guessable": "is too easy to guess: use a few unrelated words, or a password manager",
}
_PATTERNS = {"repeat": "repeat", "sequence": "sequence", "spatial": "keyboard", "dictionary": "common"}


class WeakPassword(InvalidInput):
    """A password the policy refuses; ``reason`` is a key of ``REASONS`` (the error names the field)."""

    reason: str = "guessable"

    @classmethod
    def because(cls, reason: str, field_name: str = "password") -> WeakPassword:
        message = REASONS[reason]
        error = cls(f"{field_name}: {message}", [FieldError(field_name, message)])
        error.reason = reason
        return error


@dataclass(frozen=True)
class Person:
    """What a password must not be built on: the account's e-mail address and name."""

    email: str = ""
    name: str = ""

    @property
    def local_part(self) -> str:
        return self.email.strip().lower().split("@", 1)[0]


def _weakest_pattern(matches: list[dict[str, object]]) -> str:
    """The reason of the longest guessable piece zxcvbn found (brute force is no pattern)."""
    pieces = [m for m in matches if m.get("pattern") not in (None, "bruteforce")]
    if not pieces:
        return "guessable"
    longest = max(pieces, key=lambda m: len(str(m.get("token", ""))))
    pattern = str(longest.get("pattern"))
    if pattern in ("date", "regex"):
        return "date"
    return _PATTERNS.get(pattern, "guessable")


def check_password(password: str, person: Person | None = None, field_name: str = "password") -> None:
    """Raise :class:`WeakPassword` naming ``field_name`` unless the policy accepts ``password``."""
    person = person or Person()
    if len(password) < MIN_PASSWORD:
        raise WeakPassword.because("short", field_name)
    if len(password) > MAX_PASSWORD:
        raise WeakPassword.because("long", field_name)
    lowered = password.lower()
    local = person.local_part
    if person.email and (person.email.strip().lower() in lowered or (len(local) >= 3 and local in lowered)):
        raise WeakPassword.because("email", field_name)
    hints = [h for h in (local, person.name.strip(), *person.name.split()) if len(h) >= 3]
    estimate = zxcvbn(password[:_ESTIMATED], user_inputs=hints)
    if int(estimate["score"]) < MIN_SCORE:
        raise WeakPassword.because(_weakest_pattern(list(estimate.get("sequence", []))), field_name)
