"""The job endpoints on the real local executor: submit (JSON and YAML), list, show, cancel, logs by offset
and followed as server-sent events, artifacts; tenant isolation; bad input as problem+json."""

from __future__ import annotations

import json
import sys

import pytest

from tests.support.api import Api, assert_problem, settle

PY = sys.executable
TRAIN = (
    "import json, os, pathlib; print('epoch 1 loss 0.5'); print('epoch 2 loss 0.25');"
    "pathlib.Path('model').mkdir(exist_ok=True); pathlib.Path('model/weights.json').write_text(json.dumps({'w': 2}));"
    "pathlib.Path('metrics.json').write_text('{\"loss\": 0.25}'); os.symlink('/etc/passwd', 'leak.json')"
)


def spec(**extra):
    return {
        "name": "train",
        "project": 1,
        "command": [PY, "-c", TRAIN],
        "resources": {"gpus_per_node": 1, "time": 5},
        "outputs": ["model", "*.json"],
        **extra,
    }


def test_submit_run_logs_and_artifacts(api: Api) -> None:
    created = api.ok("POST", "/jobs", "anna", status=201, json=spec(idempotency_key="run-1"))
    assert created["state"] == "submitted" and created["backend"] == "local" and created["backend_id"]
    again = api.ok("POST", "/jobs", "anna", status=200, json=spec(idempotency_key="run-1"))
    assert again["id"] == created["id"]
    job = settle(api, created["id"])
    assert job["state"] == "completed" and job["exit_code"] == 0
    assert [e["state"] for e in job["events"]][0] == "submitted" and job["events"][-1]["state"] == "completed"

    r = api.get(f"/jobs/{job['id']}/logs", "anna")
    assert r.status_code == 200 and r.text == "epoch 1 loss 0.5\nepoch 2 loss 0.25\n"
    assert r.headers["x-log-complete"] == "true" and r.headers["x-log-offset"] == str(len(r.content))
    tail = api.get(f"/jobs/{job['id']}/logs?offset=17", "anna")
    assert tail.text == "epoch 2 loss 0.25\n"

    listed = api.ok("GET", f"/jobs/{job['id']}/artifacts?checksums=true", "anna")
    paths = [a["path"] for a in listed]
    assert paths == ["model/weights.json", "metrics.json"]  # the symlink out of the folder is not served
    assert all(len(a["sha256"]) == 64 for a in listed)
    got = api.get(f"/jobs/{job['id']}/artifacts/model/weights.json", "anna")
    assert got.status_code == 200 and json.loads(got.content) == {"w": 2}
    assert_problem(api.get(f"/jobs/{job['id']}/artifacts/leak.json", "anna"), 404)
    assert_problem(api.get(f"/jobs/{job['id']}/artifacts/..%2F..%2Fetc%2Fpasswd", "anna"), 404)


def test_yaml_submission_and_list_filters(api: Api) -> None:
    text = f"name: yaml-job\nproject: 1\ncommand: ['{PY}', '-c', 'print(42)']\nresources: {{time: 2}}\n"
    created = api.ok("POST", "/jobs", "anna", status=201, content=text, headers={"Content-Type": "application/yaml"})
    assert created["name"] == "yaml-job" and created["spec"]["command"][2] == "print(42)"
    settle(api, created["id"])
    api.ok("POST", "/jobs", "anna", status=201, json=spec(name="second"))
    page = api.ok("GET", "/jobs?project_id=1", "anna")
    assert [j["name"] for j in page["items"]] == ["second", "yaml-job"] and page["total"] == 2
    done = api.ok("GET", "/jobs?state=completed", "anna")
    assert [j["name"] for j in done["items"]] == ["yaml-job"]
    assert api.ok("GET", "/jobs", "operator")["total"] == 2


def test_members_only(api: Api) -> None:
    job = api.ok("POST", "/jobs", "anna", status=201, json=spec(command=[PY, "-c", "import time; time.sleep(30)"]))
    assert_problem(api.get(f"/jobs/{job['id']}", "claire"), 404)  # another organization: not even confirmed
    assert api.ok("GET", "/jobs", "claire")["total"] == 0
    assert_problem(api.get(f"/jobs/{job['id']}/logs", "claire"), 404)
    assert_problem(api.get(f"/jobs/{job['id']}/artifacts", "claire"), 404)
    assert_problem(api.post(f"/jobs/{job['id']}/cancel", "claire"), 404)
    assert_problem(api.post("/jobs", "claire", json=spec()), 404, detail="project 1 not found")
    assert api.ok("GET", f"/jobs/{job['id']}", "lars")["id"] == job["id"]  # a member of the project sees it
    assert_problem(api.post(f"/jobs/{job['id']}/cancel", "lars"), 403)  # but only submitter/PI/operator cancel
    assert api.ok("POST", f"/jobs/{job['id']}/cancel", "anna")["state"] == "cancelled"
    assert settle(api, job["id"])["state"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "headers", "field"),
    [
        (json.dumps(spec(resources={"gpus_per_node": 5})), {}, "resources.gpus_per_node"),
        (json.dumps(spec(resources={"time": "9h"})), {}, "resources.time"),
        (json.dumps(spec(outputs=["../../etc"])), {}, "outputs.0"),
        (json.dumps(spec(colour="red")), {}, "colour"),
        (json.dumps(spec(resource="nowhere")), {}, "resource"),
        ("{not json", {}, "spec"),
        ("name: [unclosed", {"Content-Type": "text/yaml"}, "spec"),
        ("- a list", {"Content-Type": "application/yaml"}, "spec"),
        ("<job/>", {"Content-Type": "application/xml"}, "content-type"),
    ],
)
def test_bad_specs_are_problems_naming_the_field(api: Api, body, headers, field) -> None:
    before = api.counts()
    r = api.post("/jobs", "anna", content=body, headers={"Content-Type": "application/json", **headers})
    assert_problem(r, 422, field)
    assert api.counts() == before  # nothing written


def test_schema_is_published(api: Api) -> None:
    schema = api.ok("GET", "/jobs/schema")
    assert schema["additionalProperties"] is False and "resources" in schema["properties"]


def test_follow_logs_as_server_sent_events(api: Api) -> None:
    code = "import time\nfor i in range(3):\n    print('step', i, flush=True); time.sleep(0.3)"
    job = api.ok("POST", "/jobs", "anna", status=201, json=spec(command=[PY, "-c", code], outputs=[]))
    gw = api.client.app.state.ctx.gateway
    events, text = [], ""
    with api.client.stream("GET", f"/api/v1/jobs/{job['id']}/logs/stream", headers=api.auth("anna")) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for block in _sse(r.iter_lines()):
            gw.backend.poll()  # what the reconciler does: settle the task when it ends
            events.append(block)
            if block["event"] == "log":
                text += json.loads(block["data"])["text"]
            if block["event"] == "end":
                break
    assert text == "step 0\nstep 1\nstep 2\n" and events[-1]["event"] == "end"
    last_id = next(e["id"] for e in events if e["event"] == "log")
    with api.client.stream(
        "GET", f"/api/v1/jobs/{job['id']}/logs/stream", headers={**api.auth("anna"), "Last-Event-ID": last_id}
    ) as r:
        rest = "".join(json.loads(b["data"])["text"] for b in _sse(r.iter_lines()) if b["event"] == "log")
    assert text.encode()[int(last_id) :].decode() == rest


def _sse(lines):
    block: dict[str, str] = {}
    for line in lines:
        if not line:
            if block:
                yield block
            block = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            block[key] = value


def test_resuming_never_splits_a_character(api: Api, monkeypatch) -> None:
    """A multi-byte character cut by a chunk boundary is resent whole after a reconnect."""
    from aifactory.api import logstream
    from aifactory.services import job_outputs

    original = job_outputs.LogSource.read
    monkeypatch.setattr(job_outputs.LogSource, "read", lambda self, offset, limit=3: original(self, offset, 3))
    monkeypatch.setattr(logstream, "POLL_SECONDS", 0.01)
    job = api.ok("POST", "/jobs", "anna", status=201, json=spec(command=[PY, "-c", "print('Brötchen ÄÖÜ €')"]))
    settle(api, job["id"])
    with api.client.stream("GET", f"/api/v1/jobs/{job['id']}/logs/stream", headers=api.auth("anna")) as r:
        blocks = [b for b in _sse(r.iter_lines()) if b["event"] == "log"]
    assert "".join(json.loads(b["data"])["text"] for b in blocks) == "Brötchen ÄÖÜ €\n"
    for b in blocks:  # resuming from any event id gives exactly the rest of the text
        with api.client.stream(
            "GET", f"/api/v1/jobs/{job['id']}/logs/stream", headers={**api.auth("anna"), "Last-Event-ID": b["id"]}
        ) as r:
            rest = "".join(json.loads(x["data"])["text"] for x in _sse(r.iter_lines()) if x["event"] == "log")
        assert "Brötchen ÄÖÜ €\n".encode()[int(b["id"]) :].decode() == rest
