"""The gateway's rendered sbatch script, submitted to the real cluster: directives honoured (GPU gres,
account, array), hostile user strings inert, and the user's program receives them unchanged."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from aifactory.backends.slurm.script import BatchContext, render_sbatch
from aifactory.domain.jobs.execution import WORK_SUBDIR
from aifactory.domain.jobs.spec import parse_spec
from tests.support.slurm import run, sacct_job

HOSTILE = ["$(touch PWNED)", "`touch PWNED`", "a; touch PWNED", "'\"; touch PWNED", "x\ntouch PWNED"]
DUMP = (
    "import json, os, sys; json.dump({'argv': sys.argv[1:], 'gpus': os.environ.get('CUDA_VISIBLE_DEVICES'), "
    "'param': os.environ.get('AIF_PARAM_p'), 'env': os.environ['EVIL']}, "
    "open('out-' + os.environ['AIF_TASK_INDEX'] + '.json', 'w'))"
)


def _submit(spec: dict, job_dir: Path, account: str) -> str:
    ctx = BatchContext(job_id=9, account=account, partition="booster", job_dir=str(job_dir), comment="aif:test:9")
    script = job_dir / "job.sbatch"
    script.write_text(render_sbatch(parse_spec(spec), ctx))
    job_id = run("sbatch", "--parsable", str(script)).stdout.strip().split(";")[0]
    assert job_id.isdigit(), job_id
    return job_id


def test_rendered_gpu_job_runs_what_the_user_asked(tmp_path: Path, test_account: str) -> None:
    tmp_path.chmod(0o755)
    spec = {
        "name": "hostile",
        "project": 1,
        "command": [sys.executable, "-c", DUMP, *HOSTILE],
        "env": {"EVIL": HOSTILE[3]},
        "resources": {"gpus_per_node": 1, "time": 2},
    }
    job_id = _submit(spec, tmp_path, test_account)
    record = sacct_job(job_id)
    assert record["state"]["current"] == "COMPLETED", (tmp_path / f"stderr-{job_id}.log").read_text()
    out = json.loads((tmp_path / WORK_SUBDIR / "out-0.json").read_text())  # the default working directory
    assert out["argv"] == HOSTILE and out["env"] == HOSTILE[3]
    assert out["gpus"] in {"0", "1", "2", "3"}  # one of the node's 4 GPUs (others may be busy)
    assert not list(tmp_path.rglob("PWNED"))


def test_rendered_grid_sweep_runs_one_task_per_point(tmp_path: Path, test_account: str) -> None:
    tmp_path.chmod(0o755)
    spec = {
        "name": "sweep",
        "project": 1,
        "command": [sys.executable, "-c", DUMP],
        "env": {"EVIL": "ok"},
        "array": {"grid": {"p": HOSTILE[:3]}, "max_parallel": 3},
        "resources": {"time": 2},
    }
    _submit(spec, tmp_path, test_account)
    work = tmp_path / WORK_SUBDIR
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(list(work.glob("out-*.json"))) < 3:
        time.sleep(0.5)
    params = {json.loads(p.read_text())["param"] for p in work.glob("out-*.json")}
    assert params == set(HOSTILE[:3])
    assert not list(tmp_path.rglob("PWNED"))
