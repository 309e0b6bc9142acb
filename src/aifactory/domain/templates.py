"""Job templates: a parameterized job spec for a use case. The shape of ``template.yaml``, the parameters'
check (their JSON Schema, defaults applied) and the job spec a run becomes. Parameters reach the job as
environment variables ``AIF_PARAM_<name>`` (JSON for anything but strings), never inside its command.

A *data parameter* (a string property with ``"format": "dataset"``) names data instead: ``@<slug>`` for a catalog
dataset, otherwise a path in the project's storage. It becomes a job input of the same name (``inputs``, staged
read-only, ``AIF_INPUT_<NAME>``), never an ``AIF_PARAM_`` variable; an empty value gives no input."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .catalog import SLUG_RE, TAG_RE, json_field, json_message, schema_errors
from .errors import FieldError, InvalidInput
from .jobs.inputs import INPUT_NAME_RE
from .jobs.spec import parse_spec
from .storage import check_name

DATA_FORMAT = "dataset"  # a parameter's JSON Schema "format" that makes it a data parameter

PARAM_NAME_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
JOB_KEYS = ("command", "script", "outputs", "env", "container", "launcher", "resource", "workdir")

# A parameter's words for people: ``title`` (its label), ``description`` (one line of help), ``x-unit``, each also
# per language (``x-title-de``, ``x-description-de``, ``x-unit-de``); the portal shows them in the viewer's language.
_PARAM_TEXTS = {
    r"^(title|description)$": {"type": "string", "maxLength": 1000},
    r"^x-(title|description|unit)(-[a-z]{2})?$": {"type": "string", "maxLength": 1000},
}

TEMPLATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "title", "summary", "parameters", "job"],
    "patternProperties": {
        r"^(title|summary)_[a-z]{2}$": {"type": "string", "maxLength": 1000, "description": "in a language"},
        r"^how_it_works(_[a-z]{2})?$": {"type": "string", "maxLength": 20000, "description": "Markdown, folded"},
    },
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
                "properties": {
                    "type": "object",
                    "propertyNames": {"pattern": PARAM_NAME_RE},
                    "additionalProperties": {"type": "object", "patternProperties": _PARAM_TEXTS},
                },
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
        if prop.get("format") == DATA_FORMAT and (prop.get("type") != "string" or not re.match(INPUT_NAME_RE, name)):
            out.append(
                FieldError(
                    f"parameters.properties.{name}",
                    "a dataset parameter is a string whose name is lowercase letters, digits and _ (at most 32)",
                )
            )
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


def data_params(parameters: dict[str, Any]) -> list[str]:
    """The names of the template's data parameters (``"format": "dataset"``)."""
    return [k for k, p in parameters.get("properties", {}).items() if p.get("format") == DATA_FORMAT]


def data_source(value: str) -> dict[str, str]:
    """A data parameter's value as a job input: ``@slug`` a dataset, anything else a storage path."""
    return {"dataset": value[1:]} if value.startswith("@") else {"storage": value}


def _param_errors(parameters: dict[str, Any], params: dict[str, Any]) -> list[FieldError]:
    """Every problem, each extra field on its own (JSON Schema reports them all in one error)."""
    errors = []
    for e in Draft202012Validator(parameters).iter_errors(params):
        if e.validator == "additionalProperties" and not e.absolute_path:
            known = e.schema.get("properties", {})
            errors += [FieldError(f"params.{k}", "unknown field") for k in sorted(set(e.instance) - set(known))]
        else:
            errors.append(FieldError(json_field(e, "params"), json_message(e)))
    for name in data_params(parameters):
        value = params.get(name)
        if not isinstance(value, str) or not value or any(f.field == f"params.{name}" for f in errors):
            continue
        if value.startswith("@") and not re.match(SLUG_RE, value[1:]):
            errors.append(FieldError(f"params.{name}", f"{value!r}: a dataset is @ and its slug (e.g. @my-sales)"))
        elif not value.startswith("@"):
            try:
                check_name(value.strip("/"), f"params.{name}")
            except InvalidInput as exc:
                errors += exc.errors
    return sorted(errors, key=lambda f: f.field)


def inputs_as_params(exc: InvalidInput, data: list[str]) -> InvalidInput:
    """A refused run's ``inputs.<name>`` problems (a dataset not found, a storage path missing) as the data
    parameters the user gave (``params.<name>``)."""
    errors = []
    for e in exc.errors:
        parts = e.field.split(".")
        named = parts[0] == "inputs" and len(parts) > 1 and parts[1] in data
        errors.append(FieldError(f"params.{parts[1]}", e.message) if named else e)
    if errors == exc.errors:
        return exc
    return InvalidInput("invalid parameters: " + "; ".join(f"{e.field}: {e.message}" for e in errors), errors)


def check_params(parameters: dict[str, Any], given: Any) -> dict[str, Any]:
    """The run's parameters, defaults applied and checked against the template's JSON Schema: every problem
    is named ``params.<field>``, all of them at once."""
    if not isinstance(given, dict):
        raise InvalidInput.on("params", "parameters are a mapping of name to value")
    params = defaults_of(parameters) | given
    errors = _param_errors(parameters, params)
    if errors:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise InvalidInput(f"invalid parameters: {detail}", errors)
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
    the parameters as ``AIF_PARAM_*`` environment variables, the data parameters as ``inputs``."""
    job = dict(template["job"])
    data = data_params(template["parameters"])
    plain = {k: v for k, v in params.items() if k not in data}
    doc: dict[str, Any] = {"name": name, "project": project, **job, "env": {**job.get("env", {}), **param_env(plain)}}
    inputs = {k: data_source(v) for k, v in params.items() if k in data and isinstance(v, str) and v}
    if inputs:
        doc["inputs"] = inputs
    if template.get("resources"):
        doc["resources"] = template["resources"]
    if idempotency_key is not None:
        doc["idempotency_key"] = idempotency_key
    parse_spec(doc)
    return doc


def run_datasets(template: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """The datasets a run uses: those given to its data parameters, else the ones the template declares."""
    given = [i["dataset"] for i in document.get("inputs", {}).values() if "dataset" in i]
    return given if document.get("inputs") else list(template.get("datasets", []))
