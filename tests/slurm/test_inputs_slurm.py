"""A job's inputs on the real cluster, run as its owner: staged under the job's folder on the shared filesystem,
readable by the job (its project's group), and neither writable nor removable by it; the stored file and the
dataset stay as they were."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from tests.support.demo import PEOPLE
from tests.support.slurm import OwnerGateway

pytestmark = pytest.mark.slurm

DATA = b"date,product,sold\n2024-01-01,Brot,12\n2024-01-02,Brot,14\n"
SCRIPT = """
head -n 1 "$AIF_INPUT_SALES"; wc -l < "$AIF_INPUT_OWN"
(echo tampered >> "$AIF_INPUT_SALES") 2>/dev/null && echo WROTE-SALES || echo REFUSED-SALES
(echo tampered > "$AIF_INPUT_OWN") 2>/dev/null && echo WROTE-OWN || echo REFUSED-OWN
rm -f "$AIF_INPUT_OWN" 2>/dev/null && echo REMOVED || echo KEPT
chmod 666 "$AIF_INPUT_OWN" 2>/dev/null && echo CHMODDED || echo NO-CHMOD
"""


def _upload(api: OwnerGateway, project: int, name: str, data: bytes) -> None:
    client, base = api.as_(PEOPLE["anna"]), f"/api/v1/projects/{project}/storage/uploads"
    body = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    created = client.post(base, json=body)
    assert created.status_code == 201, created.text
    upload = created.json()["id"]
    sent = client.put(
        f"{base}/{upload}", content=data, headers={"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    )
    assert sent.status_code == 200, sent.text
    assert client.post(f"{base}/{upload}/complete").status_code == 201


def test_an_owners_job_reads_its_inputs_on_the_cluster_and_cannot_change_them(owner_api: OwnerGateway) -> None:
    _upload(owner_api, 1, "sales.csv", DATA)
    client = owner_api.as_(PEOPLE["anna"])
    registered = client.post(
        "/api/v1/projects/1/storage/datasets", json={"path": "sales.csv", "slug": "slurm-sales", "title": "Sales"}
    )
    assert registered.status_code == 201, registered.text
    spec = {
        "name": "inputs",
        "project": 1,
        "script": SCRIPT,
        "resources": {"time": 2},
        "inputs": {"sales": {"dataset": "slurm-sales"}, "own": {"storage": "sales.csv"}},
    }
    created = client.post("/api/v1/jobs", json=spec)
    assert created.status_code == 201, created.text
    job = owner_api.settle(created.json()["id"])
    log = client.get(f"/api/v1/jobs/{job['id']}/logs").text.split()
    assert job["state"] == "completed", (job, log)
    assert log == ["date,product,sold", "3", "REFUSED-SALES", "REFUSED-OWN", "KEPT", "NO-CHMOD"]
    staged = owner_api.data_dir / "jobs" / str(job["id"]) / "inputs"
    for name in ("sales", "own"):
        st = (staged / name / "sales.csv").stat()
        assert st.st_uid == os.geteuid() and not st.st_mode & 0o222 & ~stat.S_IWUSR, oct(st.st_mode)
        assert (staged / name / "sales.csv").read_bytes() == DATA
        assert stat.S_IMODE((staged / name).stat().st_mode) == 0o550
    assert stat.S_IMODE(staged.stat().st_mode) == 0o550
    assert client.get("/api/v1/projects/1/storage/files/sales.csv").content == DATA
