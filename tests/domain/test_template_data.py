"""Template data parameters (``"format": "dataset"``) and parameter errors, as pure rules: every bad parameter
at once, ``@slug`` or a storage path as a job input of the same name, a refused input named as its parameter,
and a template whose data parameter could not be an input refused when it is loaded."""

from __future__ import annotations

from typing import Any

import pytest

from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.spec import parse_spec
from aifactory.domain.templates import (
    check_params,
    check_template,
    data_params,
    inputs_as_params,
    job_document,
    run_datasets,
)

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "sales": {"type": "string", "format": "dataset", "default": ""},
        "weather": {"type": "string", "format": "dataset"},
        "unit": {"type": "string", "default": "pieces"},
        "rounds": {"type": "integer", "minimum": 1, "default": 100},
    },
}
TEMPLATE = {
    "name": "t",
    "title": "T",
    "summary": "",
    "parameters": PARAMETERS,
    "job": {"command": ["python3", "-m", "x"]},
    "datasets": ["shipped"],
}


def test_every_bad_parameter_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as bad:
        check_params(PARAMETERS, {"a": 1, "b": 2, "rounds": 0, "sales": "@Bad Slug", "weather": "../x.csv"})
    fields = [e.field for e in bad.value.errors]
    assert fields == ["params.a", "params.b", "params.rounds", "params.sales", "params.weather"]
    assert "params.a: unknown field; params.b: unknown field" in bad.value.message


def test_data_parameters_become_inputs_and_never_param_variables() -> None:
    values = check_params(PARAMETERS, {"sales": "@my-shop", "weather": "data/w.csv"})
    doc = job_document(TEMPLATE, project=1, name="t", params=values)
    assert doc["inputs"] == {"sales": {"dataset": "my-shop"}, "weather": {"storage": "data/w.csv"}}
    assert set(doc["env"]) == {"AIF_PARAM_unit", "AIF_PARAM_rounds"}
    assert [(i.name, i.kind, i.env_key) for i in parse_spec(doc).inputs] == [
        ("sales", "dataset", "AIF_INPUT_SALES"),
        ("weather", "storage", "AIF_INPUT_WEATHER"),
    ]
    assert run_datasets(TEMPLATE, doc) == ["my-shop"]
    plain = job_document(TEMPLATE, project=1, name="t", params=check_params(PARAMETERS, {}))
    assert "inputs" not in plain and run_datasets(TEMPLATE, plain) == ["shipped"]  # empty: no input


def test_a_refused_input_is_named_as_the_parameter_given() -> None:
    refused = InvalidInput.on("inputs.sales", "dataset 'x' not found")
    renamed = inputs_as_params(refused, data_params(PARAMETERS))
    assert [e.field for e in renamed.errors] == ["params.sales"] and "params.sales" in renamed.message
    other = InvalidInput.on("resources", "too many")
    assert inputs_as_params(other, ["sales"]) is other


def test_a_data_parameter_that_could_not_be_an_input_is_refused() -> None:
    bad = {**PARAMETERS, "properties": {"Sales": {"type": "string", "format": "dataset"}}}
    with pytest.raises(InvalidInput) as refused:
        check_template({**TEMPLATE, "parameters": bad})
    assert refused.value.errors[0].field == "parameters.properties.Sales"
    check_template(TEMPLATE)  # the good one loads
