"""A catalog template's parameters (a JSON Schema) as form fields, and the posted strings back as values. The
words come from the template: ``title`` (the label), ``description`` (one line of help) and ``x-unit``, each in
the viewer's language where the template has it (``x-title-de``, ``x-description-de``, ``x-unit-de``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class ParamField:
    name: str
    kind: str  # integer | number | boolean | string | choice | date | dataset (``"format": "dataset"``: a picker)
    default: Any
    description: str
    required: bool
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    label: str = ""
    unit: str = ""

    @property
    def input_name(self) -> str:
        return f"params.{self.name}"

    @property
    def step(self) -> str:
        return "1" if self.kind == "integer" else "any"

    def shown(self, value: Any, lang: str) -> str:
        """A number as the viewer writes it (``0,4`` in German); anything else as it is."""
        if value is None:
            return ""
        text = str(value)
        return text.replace(".", ",") if lang == "de" and self.kind == "number" else text


def text_of(prop: dict[str, Any], key: str, lang: str) -> str:
    """A parameter's ``title``/``description``/``unit`` in ``lang`` (``x-<key>-<lang>``), else its own."""
    own = prop.get(key, prop.get(f"x-{key}", ""))
    return str(prop.get(f"x-{key}-{lang}", own) or "")


def _kind(prop: dict[str, Any]) -> str:
    kind = "choice" if "enum" in prop else str(prop.get("type", "string"))
    if kind not in ("integer", "number", "boolean", "string", "choice"):
        kind = "string"
    if kind == "string" and prop.get("format") == "dataset":
        kind = "dataset"  # @slug of a dataset, or a path in the project's storage
    if kind == "string" and prop.get("format") == "date":
        kind = "date"
    return kind


def param_fields(schema: dict[str, Any], lang: str = "en") -> list[ParamField]:
    required = set(schema.get("required", []))
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        out.append(
            ParamField(
                name,
                _kind(prop),
                prop.get("default"),
                text_of(prop, "description", lang),
                name in required,
                prop.get("minimum", prop.get("exclusiveMinimum")),
                prop.get("maximum", prop.get("exclusiveMaximum")),
                tuple(str(c) for c in prop.get("enum", ())),
                text_of(prop, "title", lang) or name,
                text_of(prop, "unit", lang),
            )
        )
    return out


def _convert(f: ParamField, raw: str) -> Any:
    if f.kind == "integer":
        return int(raw)
    if f.kind == "number":
        return float(raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw)  # 0,4 in German
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
