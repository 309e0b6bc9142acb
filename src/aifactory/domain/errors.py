"""The error tree every layer raises; the API maps each class to a problem+json status."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field (dotted path, e.g. ``ethics.risk_category``)."""

    field: str
    message: str


@dataclass
class DomainError(Exception):
    """Base of all expected errors: a clear message, optionally per-field details."""

    message: str
    errors: list[FieldError] = field(default_factory=list)
    status = 400
    title = "Bad request"

    def __str__(self) -> str:
        details = [f"{e.field}: {e.message}" for e in self.errors]
        details = [d for d in details if d not in self.message]
        return f"{self.message} ({'; '.join(details)})" if details else self.message


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"

    @classmethod
    def on(cls, field_name: str, message: str) -> InvalidInput:
        """An error about a single field; the message names the field."""
        return cls(f"{field_name}: {message}", [FieldError(field_name, message)])


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Conflict(DomainError):
    """The request is well-formed but not allowed in the current state."""

    status = 409
    title = "Conflict"


class TooLarge(DomainError):
    """An input over a size or shape limit (bytes, nesting, elements): refused before any work is done."""

    status = 413
    title = "Payload too large"


class Unavailable(DomainError):
    """A collaborator (scheduler, backend) does not answer right now; retrying later may work."""

    status = 503
    title = "Service unavailable"
