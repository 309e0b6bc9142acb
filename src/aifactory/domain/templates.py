"""Job templates: a parameterized job spec for a use case. The shape of ``template.yaml``, the parameters'
check (their JSON Schema, defaults applied) and the job spec a run becomes. Parameters reach the job as
environment variables ``AIF_PARAM_<name>`` (JSON for anything but strings), never inside its command."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .catalog import SLUG_RE, TAG_RE, schema_errors
from .errors import FieldError, InvalidInput
from .jobs.spec import parse_spec

PARAM_NAME_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
JOB_KEYS = ("command", "script", "outputs", "env", "container", "launcher", "resource", "workdir")

TEMPLATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "title", "summary", "parameters", "job"],
    "properties": {
        "name": {"type": "string", "pattern": SLUG_RE, "description": "lowercase letters, digits and -"},
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "summary": {"type": "string", "maxLength": 1000},
        "tags": {"type": "array", "maxItems": 32, "items": {"type": "string", "pattern": TAG_RE}},
        "parameters": {
            "type": "object",
            "required": ["type", "properties", "additionalProperties"],
            "properties": {
                "type": {"const": "object"},
                "additionalProperties": {"const": False},
                "properties": {"type": "object", "propertyNames": {"pattern": PARAM_NAME_RE}},
            },
        },
        "resources": {"type": "object"},
        "job": {"type": "object", "additionalProperties": False, "properties": {k: {} for k in JOB_KEYS}},
        "datasets": {
            "type": "array",
            "maxItems": 64,
            "items": {"type": "string", "pattern": SLUG_RE},
            "description": "slugs of the dataset items the template trains on",
        },
    },
}


def defaults_of(parameters: dict[str, Any]) -> dict[str, Any]:
    return {k: p["default"] for k, p in parameters.get("properties", {}).items() if "default" in p}


def check_template(doc: Any) -> None:
    """Everything about a template document, each problem named by its field (``job.command``, …)."""
    errors = schema_errors(TEMPLATE_SCHEMA, doc, "template")
    errors = [FieldError(e.field.removeprefix("template."), e.message) for e in errors]
    if not errors:
        errors = _parameter_errors(doc["parameters"]) or _job_errors(doc)
    if errors:
        raise InvalidInput(f"{errors[0].field}: {errors[0].message}", errors)


def _parameter_errors(parameters: dict[str, Any]) -> list[FieldError]:
    try:
        Draft202012Validator.check_schema(parameters)
    except SchemaError as exc:
        path = ".".join(map(str, exc.absolute_path))
        return [FieldError(".".join(filter(None, ["parameters", path])), f"not a valid JSON Schema: {exc.message}")]
    out = []
    for name, prop in parameters["properties"].items():
        if "default" in prop:
            out += [
                FieldError(f"parameters.properties.{name}.default", e.message)
                for e in schema_errors(prop, prop["default"], "default")
            ]
    return out


def _job_errors(doc: dict[str, Any]) -> list[FieldError]:
    try:
        job_document(doc, project=1, name=doc["name"], params=defaults_of(doc["parameters"]))
    except InvalidInput as exc:
        return [
            FieldError(e.field if e.field.startswith("resources") else f"job.{e.field}", e.message) for e in exc.errors
        ] or [FieldError("job", exc.message)]
    return []


def param_env(params: dict[str, Any]) -> dict[str, str]:
    return {
        f"AIF_PARAM_{k}": v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
        for k, v in sorted(params.items())
    }


def check_params(parameters: dict[str, Any], given: Any) -> dict[str, Any]:
    """The run's parameters, defaults applied and checked against the template's JSON Schema: every problem
    is named ``params.<field>``."""
    if not isinstance(given, dict):
        raise InvalidInput.on("params", "parameters are a mapping of name to value")
    params = defaults_of(parameters) | given
    errors = schema_errors(parameters, params, "params")
    if errors:
        raise InvalidInput(f"invalid parameters: {errors[0].field}: {errors[0].message}", errors)
    return params


def job_document(
    template: dict[str, Any],
    *,
    project: int | str,
    name: str,
    params: dict[str, Any],
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """The ordinary job spec a run submits (validated here too): the template's job fragment and resources,
    the parameters as ``AIF_PARAM_*`` environment variables."""
    job = dict(template["job"])
    doc: dict[str, Any] = {"name": name, "project": project, **job, "env": {**job.get("env", {}), **param_env(params)}}
    if template.get("resources"):
        doc["resources"] = template["resources"]
    if idempotency_key is not None:
        doc["idempotency_key"] = idempotency_key
    parse_spec(doc)
    return doc
