"""The text templates end to end: found in the catalog, run on the embedded local executor under torchrun
(one process: no GPU here), the parameters reaching the job, and the outputs as artifacts."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from tests.support.api import Api, settle

pytestmark = pytest.mark.slow


@pytest.fixture
def venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The templates run ``torchrun -m aifactory.showcase.text…``: the venv's torchrun and interpreter."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def _completed(api: Api, job_id: int) -> dict:
    job = settle(api, job_id, timeout=300)
    log = api.get(f"/jobs/{job['id']}/logs", "anna").text
    assert job["state"] == "completed", (
        job,
        log[-2000:],
        api.get(f"/jobs/{job['id']}/logs?stream=stderr", "anna").text[-3000:],
    )
    return job


def test_text_templates_are_in_the_catalog(api: Api) -> None:
    found = {i["slug"]: i for i in api.ok("GET", "/catalog?q=text&kind=template", "anna")["items"]}
    assert {"text-classify-finetune", "text-embed-batch"} <= set(found)
    assert "nlp" in found["text-classify-finetune"]["tags"] and "search" in found["text-embed-batch"]["tags"]


def test_finetune_template_runs_and_reports_accuracy(api: Api, venv_on_path) -> None:
    created = api.ok(
        "POST",
        "/templates/text-classify-finetune/run",
        "anna",
        status=201,
        json={"project": 1, "params": {"epochs": 2, "limit": 12, "train_layers": 1}},
    )
    spec = created["spec"]
    assert spec["launcher"] == "torchrun" and spec["env"]["AIF_PARAM_epochs"] == "2"
    assert spec["env"]["HF_HUB_OFFLINE"] == "1"
    job = _completed(api, created["id"])
    log = api.get(f"/jobs/{job['id']}/logs", "anna").text
    assert "epoch 1/2 loss" in log and "epoch 2/2 loss" in log  # progress while it runs
    listed = {a["path"] for a in api.ok("GET", f"/jobs/{job['id']}/artifacts", "anna")}
    assert {"metrics.json", "labels.json", "model.safetensors"} <= listed
    metrics = json.loads(api.get(f"/jobs/{job['id']}/artifacts/metrics.json", "anna").content)
    assert metrics["parameters"]["epochs"] == 2 and metrics["parameters"]["limit"] == 12  # reached the job
    assert metrics["rows"] == {"train": 60, "test": 12} and len(metrics["loss_per_epoch"]) == 2
    assert set(metrics["accuracy_by_language"]) == {"de", "en"} and 0 <= metrics["accuracy"] <= 1


def test_embed_template_runs_and_returns_the_vectors(api: Api, venv_on_path) -> None:
    import numpy as np

    created = api.ok(
        "POST", "/templates/text-embed-batch/run", "anna", status=201, json={"project": 1, "params": {"batch_size": 32}}
    )
    job = _completed(api, created["id"])
    assert "rank 0: 240/240 rows" in api.get(f"/jobs/{job['id']}/logs", "anna").text
    listed = {a["path"] for a in api.ok("GET", f"/jobs/{job['id']}/artifacts", "anna")}
    assert {"embeddings.npy", "ids.csv", "metrics.json"} <= listed
    vectors = np.load(io.BytesIO(api.get(f"/jobs/{job['id']}/artifacts/embeddings.npy", "anna").content))
    assert vectors.shape == (240, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    metrics = json.loads(api.get(f"/jobs/{job['id']}/artifacts/metrics.json", "anna").content)
    assert (metrics["rows"], metrics["dim"], metrics["parameters"]["batch_size"]) == (240, 384, 32)
