"""Bounded work on a job spec before anything is admitted: the sweep's size from the lengths of its values,
the text's size, depth and values, YAML aliases refused, and a working directory that stays in the job's
folder."""

from __future__ import annotations

import contextlib
import json
import tracemalloc
from typing import Any

import pytest

from aifactory.domain.errors import InvalidInput, TooLarge
from aifactory.domain.jobs.document import MAX_DEPTH, MAX_SPEC_BYTES, load_document, load_yaml_or_json
from aifactory.domain.jobs.spec import check_spec, grid_size, parse_spec

BASE: dict[str, Any] = {"name": "t", "project": 1, "command": ["true"]}
YAML = "application/yaml"
JSON = "application/json"


def grid(keys: int, values: int) -> dict[str, Any]:
    return {**BASE, "array": {"grid": {f"k{i}": list(range(values)) for i in range(keys)}}}


def peak_bytes(call: Any) -> int:
    tracemalloc.start()
    with contextlib.suppress(InvalidInput, TooLarge):
        call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize(("keys", "values", "tasks"), [(6, 10, 10**6), (16, 1000, 10**48)])
def test_a_huge_grid_is_refused_from_its_size_alone(keys: int, values: int, tasks: int) -> None:
    doc = grid(keys, values)
    assert grid_size(doc["array"]["grid"]) == tasks
    with pytest.raises(InvalidInput) as exc:
        check_spec(doc)
    assert exc.value.errors[0].field == "array" and str(tasks) in str(exc.value)
    # nothing was expanded: far below one task's dict per combination (the 10^6 grid once took ~285 MB)
    assert peak_bytes(lambda: parse_spec(doc)) < 8 << 20


def test_the_303_byte_body_of_the_outside_test_is_refused_cheaply() -> None:
    body = json.dumps(grid(6, 10), separators=(",", ":"))
    assert len(body) < 400
    assert peak_bytes(lambda: parse_spec(load_document(body.encode(), JSON))) < 4 << 20


def test_a_grid_at_the_limit_still_expands() -> None:
    spec = parse_spec(grid(2, 100))
    assert spec.tasks == 10_000 and spec.array is not None and spec.array.grid[-1] == {"k0": 99, "k1": 99}


BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8)]
    + ["name: t", "project: 1", "command: [true]", "env: {X: *i}"]
)


@pytest.mark.parametrize(
    "text",
    [BOMB, "name: &n t\nproject: 1\ncommand: [*n]\n", "base: &b {x: 1}\nother:\n  <<: *b\n"],
    ids=["billion-laughs", "one-alias", "merge-key"],
)
def test_yaml_aliases_are_refused_before_anything_is_built(text: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        load_document(text.encode(), YAML)
    assert exc.value.errors[0].field == "spec" and "alias" in str(exc.value)
    assert peak_bytes(lambda: load_document(text.encode(), YAML)) < 4 << 20


@pytest.mark.parametrize("kind", [YAML, JSON])
def test_deep_nesting_is_refused(kind: str) -> None:
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(TooLarge, match="nested deeper"):
        load_document(deep.encode(), kind)
    very_deep = "[" * 100_000 + "]" * 100_000  # past Python's (and libyaml's) limits: still a clear answer
    with pytest.raises((TooLarge, InvalidInput)):
        load_document(very_deep.encode(), kind)
    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert load_document(deepest.encode(), kind) == json.loads(deepest)


@pytest.mark.parametrize("kind", [YAML, JSON])
def test_size_and_value_count_are_bounded(kind: str) -> None:
    with pytest.raises(TooLarge, match="bytes"):
        load_document(b" " * (MAX_SPEC_BYTES + 1), kind)
    many = json.dumps(list(range(60_000)))
    with pytest.raises(TooLarge, match="values"):
        load_document(many.encode(), kind)


@pytest.mark.parametrize(
    ("text", "kind"),
    [('{"a": NaN}', JSON), ("a: .nan", YAML), ("a: .inf", YAML), ("{", JSON), ("a: [", YAML), (b"\xff", YAML)],
)
def test_bad_texts_are_422_naming_the_spec(text: str | bytes, kind: str) -> None:
    raw = text if isinstance(text, bytes) else text.encode()
    with pytest.raises(InvalidInput) as exc:
        load_document(raw, kind)
    assert exc.value.errors[0].field == "spec"


def test_a_form_text_is_yaml_or_json_with_the_same_bounds() -> None:
    assert load_yaml_or_json('{"name": "t", "project": 1}') == {"name": "t", "project": 1}
    with pytest.raises(InvalidInput, match="alias"):
        load_yaml_or_json(BOMB)


@pytest.mark.parametrize("workdir", ["/", "/tmp", "../x", "a/../../b", "~", "~root/x", "..", "a\\..\\..\\b"])
def test_workdir_must_stay_inside_the_job_folder(workdir: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_spec({**BASE, "workdir": workdir})
    assert exc.value.errors[0].field == "workdir"


@pytest.mark.parametrize(("workdir", "kept"), [("src", "src"), ("./a/b/", "a/b"), (".", ".")])
def test_relative_workdirs_are_kept_normalized(workdir: str, kept: str) -> None:
    assert parse_spec({**BASE, "workdir": workdir}).workdir == kept


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"env": {"BIG": "x" * 40_000}}, "env.BIG"),  # one value over what a process may be given
        ({"env": {f"V{i}": "x" * 30_000 for i in range(10)}}, "env"),  # all of them together
        ({"command": ["echo"] + ["y" * 9_000] * 40}, "command"),
    ],
)
def test_command_and_environment_fit_what_a_process_can_be_given(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_spec({**BASE, **extra})
    assert exc.value.errors[0].field == field
