"""The whole gateway on the real cluster: the API with AIFACTORY_BACKEND=slurm provisions the project's
account through sacctmgr, renders and submits the batch script, and the reconciler follows the job to its
end; logs and artifacts come back. The job is the real (small) scikit-learn training example."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.slurm import SlurmGateway

pytestmark = pytest.mark.slurm
EXAMPLE = Path(__file__).parents[2] / "examples" / "jobs" / "train-iris.yaml"


def test_training_example_runs_on_slurm_with_logs_and_artifacts(gateway_api: SlurmGateway) -> None:
    client, factory = gateway_api.client, gateway_api.factory
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec["env"]["PYTHON"] = sys.executable
    spec["resource"] = "booster"
    spec["project"] = 1  # the example names none (`aifactory submit --project` or the user's only project)
    r = client.post("/api/v1/jobs", json=spec)
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["backend"] == "slurm" and job["backend_id"].isdigit()
    with factory(write=False) as uow:
        account = uow.projects.get(1).slurm_account
    assoc = subprocess.run(
        ["sacctmgr", "-nP", "show", "assoc", f"account={account}", "format=account,user"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{account}|root" in assoc.splitlines()  # provisioned: the account and the submitting user

    done = gateway_api.settle(job["id"])
    assert done["state"] == "completed" and done["exit_code"] == 0, done
    states = [e["state"] for e in done["events"]]
    assert states[0] == "submitted" and states[-1] == "completed"
    log = client.get(f"/api/v1/jobs/{job['id']}/logs")
    assert "test accuracy" in log.text and log.headers["x-log-complete"] == "true"
    listed = {a["path"]: a for a in client.get(f"/api/v1/jobs/{job['id']}/artifacts?checksums=true").json()}
    assert set(listed) == {"model/model.pkl", "metrics.json"}
    metrics = json.loads(client.get(f"/api/v1/jobs/{job['id']}/artifacts/metrics.json").content)
    model = client.get(f"/api/v1/jobs/{job['id']}/artifacts/model/model.pkl").content
    assert metrics["accuracy"] > 0.8 and metrics["seed"] == 7
    assert hashlib.sha256(model).hexdigest() == metrics["sha256"] == listed["model/model.pkl"]["sha256"]


def test_cancel_and_sweep_on_slurm(gateway_api: SlurmGateway) -> None:
    client = gateway_api.client
    sleeper = {"name": "sleeper", "project": 1, "command": ["sleep", "300"], "resources": {"time": 5}}
    job = client.post("/api/v1/jobs", json=sleeper).json()
    sweep = client.post(
        "/api/v1/jobs",
        json={
            "name": "sweep",
            "project": 1,
            "resources": {"time": 2},
            "outputs": ["out-*.txt"],
            "command": ["bash", "-c", 'echo "$AIF_PARAM_lr" > "out-$AIF_TASK_INDEX.txt"'],
            "array": {"grid": {"lr": [0.1, 0.01, "1e-3; touch PWNED"]}},
        },
    ).json()
    assert sweep["tasks"] == 3
    cancelled = client.post(f"/api/v1/jobs/{job['id']}/cancel").json()
    assert cancelled["state"] == "cancelled"
    assert gateway_api.settle(job["id"])["state"] == "cancelled"
    done = gateway_api.settle(sweep["id"])
    assert done["state"] == "completed", done
    arts = client.get(f"/api/v1/jobs/{sweep['id']}/artifacts").json()
    texts = sorted(client.get(f"/api/v1/jobs/{sweep['id']}/artifacts/{a['path']}").text for a in arts)
    assert texts == ["0.01\n", "0.1\n", "1e-3; touch PWNED\n"]
    gone = subprocess.run(["squeue", "-h", "-j", job["backend_id"], "-o", "%T"], capture_output=True, text=True)
    assert "RUNNING" not in gone.stdout
