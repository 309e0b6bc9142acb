"""The bakery template on the real Slurm cluster: found in the catalog, run through the gateway as an
ordinary batch job, and its report and figures come back as artifacts."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.support.slurm import SlurmGateway

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def test_bakery_template_runs_on_slurm(gateway_api: SlurmGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    client = gateway_api.client
    # sbatch hands the job the submitter's environment: the interpreter that has aifactory comes first
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    r = client.post(
        "/api/v1/templates/bakery-forecast/run", json={"project": 1, "params": {"holdout_days": 28, "horizon_days": 2}}
    )
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["backend"] == "slurm" and job["backend_id"].isdigit()
    done = gateway_api.settle(job["id"], timeout=300)
    log = client.get(f"/api/v1/jobs/{job['id']}/logs").text
    assert done["state"] == "completed", (done, log[-2000:])
    assert "fold" in log
    metrics = json.loads(client.get(f"/api/v1/jobs/{job['id']}/artifacts/metrics.json").content)
    assert metrics["parameters"]["horizon_days"] == 2 and metrics["parameters"]["holdout_days"] == 28
    html = client.get(f"/api/v1/jobs/{job['id']}/artifacts/report.html").text
    assert "data:image/png;base64," in html
