"""The sbatch script: golden files, and hostile user strings that must come out inert yet still reach
the user's program unchanged (the rendered script is executed by bash for real)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aifactory.backends.slurm.script import BatchContext, format_time, render_sbatch
from aifactory.domain.jobs.spec import parse_spec

GOLDEN = Path(__file__).parent / "golden"
CTX = BatchContext(
    job_id=42, account="p00007_bakery", partition="booster", job_dir="/srv/aif/jobs/42", comment="aif:jupiter:42"
)

SPECS = {
    "single_gpu": {
        "name": "train",
        "project": 7,
        "command": ["python", "train.py", "--epochs", "3"],
        "resources": {"gpus_per_node": 1, "cpus_per_task": 8, "memory": "32G", "time": "02:00:00"},
        "env": {"SEED": 1, "WANDB_MODE": "offline"},
        "outputs": ["model.pkl"],
    },
    "grid_sweep": {
        "name": "sweep",
        "project": 7,
        "command": ["python", "fit.py"],
        "array": {"grid": {"lr": [0.1, 0.01], "depth": [3, 6]}, "max_parallel": 2},
    },
    "torchrun_container": {
        "name": "ddp",
        "project": 7,
        "command": ["train.py", "--bs", "64"],
        "launcher": "torchrun",
        "resources": {"nodes": 2, "gpus_per_node": 4, "time": "1-00:00"},
        "container": {"image": "/images/pytorch.sif", "binds": ["/data:/data:ro"]},
    },
    "script_multinode": {"name": "prep", "project": 7, "script": "echo hello\n", "resources": {"nodes": 2}},
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_matches_golden_file(name: str) -> None:
    rendered = render_sbatch(parse_spec(SPECS[name]), CTX)
    golden = GOLDEN / f"{name}.sbatch"
    if not golden.exists():  # delete a golden file to regenerate it, then review the diff
        golden.write_text(rendered)
    assert rendered == golden.read_text(), f"{golden} differs; delete it to regenerate if the change is intended"


def test_directives_carry_the_node_shape() -> None:
    text = render_sbatch(parse_spec(SPECS["torchrun_container"]), CTX)
    for line in (
        "#SBATCH --nodes=2",
        "#SBATCH --gres=gpu:4",
        "#SBATCH --time=1-00:00:00",
        "#SBATCH --account=p00007_bakery",
        "#SBATCH --partition=booster",
        "#SBATCH --comment=aif:jupiter:42",
    ):
        assert line in text
    assert "apptainer exec --nv --bind /data:/data:ro /images/pytorch.sif torchrun" in text


@pytest.mark.parametrize(
    ("minutes", "text"), [(1, "00:01:00"), (90, "01:30:00"), (1440, "1-00:00:00"), (1500, "1-01:00:00")]
)
def test_time_format(minutes: int, text: str) -> None:
    assert format_time(minutes) == text


HOSTILE = [
    "$(touch PWNED)",
    "`touch PWNED`",
    "a; touch PWNED",
    "'; touch PWNED; '",
    '"; touch PWNED; "',
    "line1\ntouch PWNED",
    "${HOME}",
    "&& touch PWNED",
    "| touch PWNED",
    "\\",
    "",
]


def test_hostile_strings_are_inert_and_reach_the_program_unchanged(tmp_path: Path) -> None:
    env = {f"V{i}": s for i, s in enumerate(HOSTILE)}
    code = "import json, os, sys; json.dump({'argv': sys.argv[1:], 'env': {k: os.environ[k] for k in sorted(os.environ) if k.startswith('V')}}, open('out.json', 'w'))"  # noqa: E501
    spec = parse_spec(
        {
            "name": "hostile",
            "project": 1,
            "command": [sys.executable, "-c", code, *HOSTILE],
            "env": env,
            "array": {"grid": {"p": HOSTILE[:5]}},
        }
    )
    job_dir = tmp_path / "job"  # gateway-chosen; unsafe directive values are refused (test below)
    job_dir.mkdir()
    ctx = BatchContext(job_id=1, account="acct", partition="booster", job_dir=str(job_dir), comment="aif:t:1")
    script = render_sbatch(spec, ctx)
    # bash runs the script as Slurm would (the #SBATCH lines are comments); task index 3 of the grid
    subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "3"},
        check=True,
        timeout=30,
    )
    result = json.loads((job_dir / "work" / "out.json").read_text())
    assert result["argv"] == HOSTILE
    assert result["env"] == env
    assert not any(p.name == "PWNED" for p in tmp_path.rglob("PWNED"))


def test_grid_parameters_are_exported_per_task(tmp_path: Path) -> None:
    spec = parse_spec(
        {
            "name": "g",
            "project": 1,
            "array": {"grid": {"lr": [0.1, "0.01; touch PWNED"]}},
            "command": ["bash", "-c", 'printf %s "$AIF_PARAM_lr" > lr.txt'],
        }
    )
    ctx = BatchContext(job_id=2, account="a", partition="booster", job_dir=str(tmp_path), comment="aif:t:2")
    subprocess.run(
        ["bash", "-c", render_sbatch(spec, ctx)],
        env={"PATH": "/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "1"},
        check=True,
        timeout=30,
    )
    assert (tmp_path / "work" / "lr.txt").read_text() == "0.01; touch PWNED"
    assert not (tmp_path / "PWNED").exists()


def test_unsafe_gateway_value_is_refused() -> None:
    bad = BatchContext(job_id=3, account="a b", partition="booster", job_dir="/x", comment="c")
    with pytest.raises(ValueError, match="unsafe value"):
        render_sbatch(parse_spec(SPECS["single_gpu"]), bad)
