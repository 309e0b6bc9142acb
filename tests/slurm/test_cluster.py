"""Smoke test of the single-node Slurm cluster: what the Slurm backend relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.slurm import run, sacct_job

pytestmark = pytest.mark.slurm


def test_gpu_job_runs_and_is_accounted(tmp_path: Path, test_account: str) -> None:
    out = tmp_path / "job-%j.out"
    job_id = (
        run(
            "sbatch",
            "--parsable",
            "--gres=gpu:1",
            "-p",
            "booster",
            "-A",
            test_account,
            "-t",
            "1",
            "-o",
            str(out),
            "--wrap",
            "echo $CUDA_VISIBLE_DEVICES",
        )
        .stdout.strip()
        .split(";")[0]
    )
    assert job_id.isdigit(), job_id

    record = sacct_job(job_id)

    assert record["state"]["current"] == "COMPLETED"
    assert record["account"] == test_account
    allocated = {
        f"{t['type']}/{t['name']}" if t["name"] else t["type"]: t["count"] for t in record["tres"]["allocated"]
    }
    assert allocated.get("gres/gpu") == 1, allocated
    assert (tmp_path / f"job-{job_id}.out").read_text().strip() in {"0", "1", "2", "3"}  # one fake GPU of 4


def test_squeue_json_parses_and_lists_the_job(test_account: str) -> None:
    job_id = (
        run("sbatch", "--parsable", "-A", test_account, "-t", "1", "-o", "/dev/null", "--hold", "--wrap", "true")
        .stdout.strip()
        .split(";")[0]
    )
    try:
        data = json.loads(run("squeue", "--json").stdout)
        assert data["meta"]["Slurm"]["release"]
        # squeue --json ignores -j/-u in 22.05: it returns every job it has, so callers filter
        mine = [j for j in data["jobs"] if str(j["job_id"]) == job_id]
        assert len(mine) == 1
        assert mine[0]["account"] == test_account
        assert mine[0]["job_state"] == "PENDING"
    finally:
        run("scancel", job_id, check=False)


def test_unknown_account_is_refused() -> None:
    result = run("sbatch", "--parsable", "-A", "no-such-account-xyz", "-o", "/dev/null", "--wrap", "true", check=False)
    assert result.returncode != 0
    assert "Invalid account" in result.stderr, result.stderr


def test_more_gpus_than_a_node_has_is_rejected(test_account: str) -> None:
    result = run(
        "sbatch", "--parsable", "--gres=gpu:5", "-A", test_account, "-o", "/dev/null", "--wrap", "true", check=False
    )
    assert result.returncode != 0
    assert "Requested node configuration is not available" in result.stderr, result.stderr


def test_partitions_gpus_and_qos() -> None:
    rows = run("sinfo", "-h", "-o", "%P %G").stdout.split("\n")
    partitions = {r.split()[0]: r.split()[1] for r in rows if r.strip()}
    assert partitions == {"booster*": "gpu:4", "develop": "gpu:4"}
    qos = set(run("sacctmgr", "-nP", "show", "qos", "format=name").stdout.split())
    assert {"normal", "low"} <= qos
