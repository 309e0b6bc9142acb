"""A job spec's ``inputs``: data the job reads, each a catalog dataset (its slug) or a path in the job's project
storage, under a name that becomes ``AIF_INPUT_<NAME>``. Shape only here; which datasets and paths the
submitter may use is decided at submission (``services.job_inputs``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput

INPUT_NAME_RE = r"^[a-z][a-z0-9_]{0,31}$"
MAX_INPUTS = 32

INPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "maxProperties": MAX_INPUTS,
    "propertyNames": {"pattern": INPUT_NAME_RE},
    "additionalProperties": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "dataset": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,63}$", "description": "a slug"},
            "storage": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1024,
                "pattern": r"^[^\x00\n\r]+$",
                "description": "a path in the project's storage",
            },
        },
        "oneOf": [{"required": ["dataset"]}, {"required": ["storage"]}],
    },
    "description": "read-only data staged into the job, each exposed as AIF_INPUT_<NAME>",
}


@dataclass(frozen=True)
class InputRef:
    """One input as asked: a catalog dataset (its slug) or a path in the job's project storage."""

    name: str
    kind: str  # "dataset" or "storage"
    ref: str

    @property
    def env_key(self) -> str:
        return f"AIF_INPUT_{self.name.upper()}"


def parse_inputs(raw: dict[str, dict[str, str]]) -> tuple[InputRef, ...]:
    """The inputs by name (``raw`` passed the schema); a storage path relative, without '..'."""
    found = []
    for name, source in sorted(raw.items()):
        kind = "dataset" if "dataset" in source else "storage"
        ref = source[kind]
        if kind == "storage" and (ref.startswith("/") or ".." in ref.replace("\\", "/").split("/")):
            raise InvalidInput.on(f"inputs.{name}.storage", f"{ref!r} must be a relative path in the project's storage")
        found.append(InputRef(name, kind, ref))
    return tuple(found)
