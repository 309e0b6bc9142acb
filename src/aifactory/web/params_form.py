"""A catalog template's parameters (a JSON Schema) as form fields, and the posted strings back as values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class ParamField:
    name: str
    kind: str  # integer | number | boolean | string | choice
    default: Any
    description: str
    required: bool
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def input_name(self) -> str:
        return f"params.{self.name}"

    @property
    def step(self) -> str:
        return "1" if self.kind == "integer" else "any"


def param_fields(schema: dict[str, Any]) -> list[ParamField]:
    required = set(schema.get("required", []))
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = "choice" if "enum" in prop else str(prop.get("type", "string"))
        if kind not in ("integer", "number", "boolean", "string", "choice"):
            kind = "string"
        low = prop.get("minimum", prop.get("exclusiveMinimum"))
        high = prop.get("maximum", prop.get("exclusiveMaximum"))
        out.append(
            ParamField(
                name,
                kind,
                prop.get("default"),
                str(prop.get("description", "")),
                name in required,
                low,
                high,
                tuple(str(c) for c in prop.get("enum", ())),
            )
        )
    return out


def _convert(f: ParamField, raw: str) -> Any:
    if f.kind == "integer":
        return int(raw)
    if f.kind == "number":
        return float(raw)
    return raw


def coerce(fields: list[ParamField], form: dict[str, str]) -> dict[str, Any]:
    """Posted strings as typed values; empty fields are left out (the template's default applies). Every
    problem is named ``params.<name>``, like the template's own checks."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for f in fields:
        if f.kind == "boolean":
            values[f.name] = form.get(f.input_name) in ("on", "true", "1")
            continue
        raw = form.get(f.input_name, "").strip()
        if raw == "":
            continue
        try:
            values[f.name] = _convert(f, raw)
        except ValueError:
            what = "a whole number" if f.kind == "integer" else "a number"
            errors.append(FieldError(f.input_name, f"must be {what}, not {raw[:40]!r}"))
    if errors:
        raise InvalidInput(f"invalid parameters: {errors[0].field}: {errors[0].message}", errors)
    return values
