"""The declarative job spec: a published JSON Schema (unknown keys rejected), parsed into a frozen JobSpec.

Everything user-supplied is validated here by shape (names, env keys, paths); the batch-script renderers
still quote every value, so validation is a first line of defence, not the only one.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator

from ..errors import FieldError, InvalidInput
from .inputs import INPUTS_SCHEMA, InputRef, parse_inputs

NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ENV_KEY_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
MEMORY_RE = r"^[1-9][0-9]{0,8}[KMGT]?$"
TIME_RE = r"^(?:[0-9]+-)?[0-9]{1,3}(?::[0-5][0-9]){0,2}$|^[0-9]+[mh]$"
RESERVED_ENV = ("SLURM_", "AIF_", "CUDA_VISIBLE_DEVICES", "MASTER_ADDR", "MASTER_PORT")

_path = {"type": "string", "minLength": 1, "maxLength": 1024, "pattern": r"^[^\x00\n\r]+$"}
_scalar = {"type": ["string", "number", "integer", "boolean"], "maxLength": 4096}  # grid values become env values

JOB_SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://aifactory.example/schemas/job-spec.json",
    "title": "aifactory job spec",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "project"],
    "properties": {
        "name": {"type": "string", "pattern": NAME_RE, "description": "letters, digits, . _ -; at most 64"},
        "project": {"type": ["integer", "string"], "description": "project id or its Slurm account name"},
        "resource": {
            "type": "string",
            "pattern": NAME_RE,
            "description": "partition of the site; default: the allocation's",
        },
        "resources": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "nodes": {"type": "integer", "minimum": 1, "maximum": 10000},
                "gpus_per_node": {"type": "integer", "minimum": 0, "maximum": 64},
                "cpus_per_task": {"type": "integer", "minimum": 1, "maximum": 4096},
                "memory": {"type": "string", "pattern": MEMORY_RE, "description": "per node, e.g. 16G"},
                "time": {
                    "type": ["string", "integer"],
                    "pattern": TIME_RE,
                    "description": "HH:MM:SS, MM, D-HH:MM, 90m, 2h, or minutes as an integer",
                },
            },
        },
        "command": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {"type": "string", "maxLength": 10000},
            "description": "argv, run without a shell",
        },
        "script": {"type": "string", "minLength": 1, "maxLength": 200000, "description": "a bash script"},
        "container": {
            "type": "object",
            "additionalProperties": False,
            "required": ["image"],
            "properties": {
                "image": {
                    "type": "string",
                    "pattern": r"^(docker://[^\s]+|/[^\x00\n\r]+\.sif)$",
                    "description": "an Apptainer .sif path or a docker:// reference",
                },
                "binds": {"type": "array", "maxItems": 64, "items": {**_path, "pattern": r"^[^\x00\n\r,]+$"}},
            },
        },
        "env": {
            "type": "object",
            "maxProperties": 256,
            "propertyNames": {"pattern": ENV_KEY_RE},
            "additionalProperties": {"type": ["string", "number", "integer", "boolean"], "maxLength": 32768},
        },
        "workdir": {
            **_path,
            "description": "working directory, relative to the job's working folder (default: that folder)",
        },
        "outputs": {
            "type": "array",
            "maxItems": 256,
            "items": _path,
            "description": "artifacts to collect: paths or globs relative to the working directory",
        },
        "array": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "range": {
                    "type": "string",
                    "pattern": r"^[0-9]{1,5}-[0-9]{1,5}(:[1-9][0-9]{0,4})?$",
                    "description": "START-END[:STEP], inclusive",
                },
                "grid": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 16,
                    "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
                    "additionalProperties": {"type": "array", "minItems": 1, "maxItems": 1000, "items": _scalar},
                },
                "max_parallel": {"type": "integer", "minimum": 1, "maximum": 10000},
            },
            "oneOf": [{"required": ["range"]}, {"required": ["grid"]}],
        },
        "inputs": INPUTS_SCHEMA,
        "launcher": {"enum": ["none", "torchrun"], "description": "torchrun: one srun task per node"},
        "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[A-Za-z0-9._:-]+$"},
    },
    "oneOf": [{"required": ["command"]}, {"required": ["script"]}],
}

_VALIDATOR = Draft202012Validator(JOB_SPEC_SCHEMA)
MAX_ARRAY_TASKS = 10000
MAX_EXEC_BYTES = 256 * 1024  # the command's argv and the env's values together


@dataclass(frozen=True)
class Resources:
    nodes: int = 1
    gpus_per_node: int = 0
    cpus_per_task: int = 1
    memory_mb: int | None = None
    time_minutes: int = 60


@dataclass(frozen=True)
class ArraySpec:
    indices: tuple[int, ...]
    max_parallel: int | None = None
    grid: tuple[dict[str, Any], ...] = ()  # parameters per index, when expanded from a grid

    def slurm_range(self) -> str:
        """Compact ``--array`` value: ``0-9`` when contiguous, else a comma list; ``%N`` throttle."""
        idx = self.indices
        contiguous = list(idx) == list(range(idx[0], idx[-1] + 1))
        text = f"{idx[0]}-{idx[-1]}" if contiguous and len(idx) > 1 else ",".join(map(str, idx))
        return text + (f"%{self.max_parallel}" if self.max_parallel else "")


@dataclass(frozen=True)
class JobSpec:
    name: str
    project: int | str
    resources: Resources
    command: tuple[str, ...] | None = None
    script: str | None = None
    resource: str | None = None
    container_image: str | None = None
    container_binds: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    workdir: str | None = None
    outputs: tuple[str, ...] = ()
    array: ArraySpec | None = None
    launcher: str = "none"
    idempotency_key: str | None = None
    inputs: tuple[InputRef, ...] = ()

    @property
    def tasks(self) -> int:
        return len(self.array.indices) if self.array else 1


def _field_of(error: Any) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return ".".join(filter(None, [path, extra[0] if extra else ""]))
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return ".".join(filter(None, [path, missing[0] if missing else ""]))
    return path or "spec"


def _message(error: Any) -> str:
    if error.validator == "additionalProperties":
        return "unknown field (see the job spec schema for the valid ones)"
    if error.validator == "oneOf" and len(error.absolute_path) == 2 and error.absolute_path[0] == "inputs":
        return "give exactly one of 'dataset' (a slug) or 'storage' (a path in the project's storage)"
    if error.validator == "oneOf" and not error.absolute_path:
        return "give exactly one of 'command' (argv list) or 'script'"
    if error.validator == "oneOf":
        return "give exactly one of 'range' or 'grid'"
    if error.validator == "pattern":
        desc = error.schema.get("description")
        return f"{error.instance!r} has the wrong form" + (f" ({desc})" if desc else "")
    return str(error.message)


def validate_document(data: Any) -> None:
    """Schema check; every problem reported with the dotted field it concerns."""
    if not isinstance(data, dict):
        raise InvalidInput.on("spec", "a job spec is a mapping (YAML or JSON object)")
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        fields = [FieldError(_field_of(e), _message(e)) for e in errors]
        raise InvalidInput(f"invalid job spec: {fields[0].field}: {fields[0].message}", fields)


def parse_memory_mb(text: str) -> int:
    units = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
    unit = text[-1] if text[-1] in units else "M"
    number = int(text[:-1] if text[-1] in units else text)
    return max(1, int(number * units[unit]))


def parse_time_minutes(value: str | int) -> int:
    """Slurm's time formats (MM, MM:SS, HH:MM:SS, D-HH[:MM[:SS]]) plus 90m / 2h; rounded up to minutes."""
    if isinstance(value, int):
        minutes = value
    elif value.endswith("m"):
        minutes = int(value[:-1])
    elif value.endswith("h"):
        minutes = int(value[:-1]) * 60
    else:
        days, _, rest = value.rpartition("-")
        parts = [int(p) for p in rest.split(":")]
        if days:
            h, m, s = (parts + [0, 0])[:3]
        elif len(parts) == 3:
            h, m, s = parts
        else:
            h, (m, s) = 0, (parts + [0])[:2]
        minutes = int(days or 0) * 1440 + h * 60 + m + (1 if s else 0)
    if not 1 <= minutes <= 366 * 1440:
        raise InvalidInput.on("resources.time", "must be between 1 minute and 366 days")
    return minutes


def grid_size(grid: dict[str, list[Any]]) -> int:
    """How many tasks a grid expands into: the product of its value lists' lengths (nothing is expanded)."""
    return math.prod(len(values) for values in grid.values())


def _check_tasks(count: int) -> None:
    if count > MAX_ARRAY_TASKS:
        raise InvalidInput.on("array", f"{count} tasks; at most {MAX_ARRAY_TASKS} per sweep")


def check_bounds(data: dict[str, Any]) -> None:
    """The sweep's size from the lengths of its values (a grid: their product; a range: its length), checked
    against the task limit before anything is expanded. ``data`` has passed ``validate_document``."""
    raw = data.get("array")
    if raw is None:
        return
    if "grid" in raw:
        _check_tasks(grid_size(raw["grid"]))
        return
    span, _, step = raw["range"].partition(":")
    start, end = (int(x) for x in span.split("-"))
    _check_tasks(len(range(start, end + 1, int(step or 1))))


def _array(raw: dict[str, Any]) -> ArraySpec:
    if "range" in raw:
        span, _, step = raw["range"].partition(":")
        start, end = (int(x) for x in span.split("-"))
        if end < start:
            raise InvalidInput.on("array.range", "END must not be before START")
        indices = tuple(range(start, end + 1, int(step or 1)))
        grid: tuple[dict[str, Any], ...] = ()
    else:
        keys = list(raw["grid"])
        grid = tuple(
            dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(raw["grid"][k] for k in keys))
        )
        indices = tuple(range(len(grid)))
    return ArraySpec(indices=indices, max_parallel=raw.get("max_parallel"), grid=grid)


def _env(raw: dict[str, Any]) -> dict[str, str]:
    for key in raw:
        if key.startswith(RESERVED_ENV) and not key.startswith("AIF_PARAM_"):  # parameters may be given
            raise InvalidInput.on(f"env.{key}", "is set by the gateway and cannot be overridden")
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in raw.items()}


def _workdir(raw: str | None) -> str | None:
    """The working directory: a relative path inside the job's own working folder (``<job folder>/work``)."""
    if raw is None:
        return None
    path = PurePosixPath(raw.replace("\\", "/"))
    if path.is_absolute() or raw.startswith("~") or ".." in path.parts:
        raise InvalidInput.on(
            "workdir", f"{raw!r} must be a relative path inside the job's folder (no leading '/', '~' or '..')"
        )
    return path.as_posix()


def _outputs(raw: list[str]) -> tuple[str, ...]:
    """Artifact paths: relative to the job's working directory, never out of it (globs allowed)."""
    for i, path in enumerate(raw):
        parts = path.replace("\\", "/").split("/")
        if path.startswith("/") or ".." in parts:
            raise InvalidInput.on(
                f"outputs.{i}", f"{path!r} must be a path inside the job's working directory (relative, without '..')"
            )
    return tuple(raw)


def _check_exec_size(data: dict[str, Any]) -> None:
    """The command and the environment together fit what the OS passes to a new process (``execve``: 128 KiB
    per string, a few MiB in all), with room for the gateway's own variables: a launch never fails on it."""
    env = sum(len(str(k)) + len(str(v)) + 2 for k, v in data.get("env", {}).items())
    argv = sum(len(str(a)) + 1 for a in data.get("command", ()))
    if env + argv > MAX_EXEC_BYTES:
        where = "env" if env >= argv else "command"
        raise InvalidInput.on(where, f"command and environment take {env + argv} bytes; at most {MAX_EXEC_BYTES}")


def _grid_too_large(data: Any) -> None:
    """A grid's size from the lengths of its value lists, before even the schema is checked (checking 16,000
    values against it takes a quarter of a second; multiplying 16 lengths nothing)."""
    raw = data.get("array") if isinstance(data, dict) else None
    grid = raw.get("grid") if isinstance(raw, dict) else None
    if isinstance(grid, dict) and grid and all(isinstance(v, list) for v in grid.values()):
        _check_tasks(grid_size(grid))


def check_spec(data: Any) -> None:
    """The checks that cost nothing (the sweep's size, the schema, the command's and environment's size): run
    before the project is looked up and before anything is expanded."""
    _grid_too_large(data)
    validate_document(data)
    check_bounds(data)
    _check_exec_size(data)


def parse_spec(data: Any) -> JobSpec:
    """Validate a spec document and build the JobSpec (defaults filled in; a grid expanded)."""
    check_spec(data)
    res = data.get("resources", {})
    resources = Resources(
        nodes=res.get("nodes", 1),
        gpus_per_node=res.get("gpus_per_node", 0),
        cpus_per_task=res.get("cpus_per_task", 1),
        memory_mb=parse_memory_mb(res["memory"]) if "memory" in res else None,
        time_minutes=parse_time_minutes(res.get("time", 60)),
    )
    if data.get("launcher") == "torchrun" and "command" not in data:
        raise InvalidInput.on("launcher", "torchrun launches a 'command' (argv: the training script and its arguments)")
    container = data.get("container") or {}
    return JobSpec(
        name=data["name"],
        project=data["project"],
        resource=data.get("resource"),
        resources=resources,
        command=tuple(data["command"]) if "command" in data else None,
        script=data.get("script"),
        container_image=container.get("image"),
        container_binds=tuple(container.get("binds", ())),
        env=_env(data.get("env", {})),
        workdir=_workdir(data.get("workdir")),
        outputs=_outputs(data.get("outputs", [])),
        array=_array(data["array"]) if "array" in data else None,
        launcher=data.get("launcher", "none"),
        idempotency_key=data.get("idempotency_key"),
        inputs=parse_inputs(data.get("inputs", {})),
    )
