"""Jobs through the CLI and the Python client, over HTTP against the live app: its local executor runs each job
as a real subprocess and its reconciler thread settles them. Submit a YAML spec and follow it, failing jobs,
list/show/cancel, logs by offset and followed, artifacts with checksums, ``wait`` timeouts, bad spec files."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from aifactory.client import AifactoryClient, ChecksumMismatch, JobTimeout, NotFoundError, TransportError
from tests.support.cli import BAKERY, OPERATOR, REVIEWER, Cli
from tests.support.demo import PEOPLE
from tests.support.live import LiveServer

PY = sys.executable
TRAIN = (
    "import json, pathlib; print('epoch 1 loss 0.5'); print('epoch 2 loss 0.25');"
    "pathlib.Path('model').mkdir(); pathlib.Path('model/weights.json').write_text(json.dumps({'w': 2}));"
    "pathlib.Path('metrics.json').write_text(json.dumps({'loss': 0.25}))"
)
SLEEP = "import time; print('started', flush=True); time.sleep(120)"
TERMINAL = {"completed", "failed", "cancelled", "timeout"}


def spec(code: str, name: str = "job", **extra: Any) -> dict[str, Any]:
    return {"name": name, "project": 1, "command": [PY, "-c", code], "resources": {"time": 5}, **extra}


def spec_file(folder: Path, code: str, name: str = "job", filename: str | None = None, **extra: Any) -> Path:
    path = folder / (filename or f"{name}.yaml")
    path.write_text(yaml.safe_dump(spec(code, name, **extra), sort_keys=False))
    return path


@pytest.fixture
def client(live: LiveServer) -> Iterator[AifactoryClient]:
    with AifactoryClient(live.url, live.token(BAKERY), retries=0) as c:
        yield c


def only_job(cli: Cli, name: str) -> dict[str, Any]:
    (job,) = [j for j in cli.json("jobs", "list", "--all", as_=BAKERY) if j["name"] == name]
    return job


def test_submit_yaml_follow_prints_the_output_and_exits_0(
    live_cli: Cli, client: AifactoryClient, tmp_path: Path
) -> None:
    path = spec_file(tmp_path, "print('hello from the job'); print('second line')", name="hello")
    result = live_cli("submit", path, "--follow", as_=BAKERY)
    assert result.stdout == "hello from the job\nsecond line\n"  # exactly the program's output, nothing else
    job = only_job(live_cli, "hello")
    assert result.stderr.strip().startswith(f"Job {job['id']} hello completed (exit code 0)")
    assert job["state"] == "completed" and job["exit_code"] == 0
    assert job["spec"]["command"] == [PY, "-c", "print('hello from the job'); print('second line')"]

    plain = live_cli("submit", path, "--name", "again", as_=BAKERY).stdout  # without --follow: where it went
    again = only_job(live_cli, "again")
    assert f"Job {again['id']} again" in plain and f"aifactory logs -f {again['id']}" in plain
    assert client.wait(again["id"], poll=0.1)["state"] == "completed"


def test_a_failing_job_exits_1_and_says_how_it_ended(live_cli: Cli, tmp_path: Path) -> None:
    code = "import sys; print('about to fail', flush=True); print('boom', file=sys.stderr); sys.exit(3)"
    path = spec_file(tmp_path, code, name="doomed")
    result = live_cli("submit", path, "--follow", "--name", "renamed", "--project", "1", code=1, as_=BAKERY)
    assert result.stdout == "about to fail\n"
    job = only_job(live_cli, "renamed")  # --name overrode the spec's name
    (summary,) = result.stderr.strip().splitlines()
    assert summary.startswith(f"Job {job['id']} renamed failed (exit code 3)")
    assert job["state"] == "failed" and job["exit_code"] == 3
    assert live_cli("logs", "--stderr", job["id"], as_=BAKERY).stdout == "boom\n"

    final = live_cli.json("submit", path, "--follow", "--name", "doomed-json", code=1, as_=BAKERY)
    assert final["name"] == "doomed-json" and final["state"] == "failed"  # --json: the final job, no log text


def test_jobs_list_show_and_cancel(live_cli: Cli, client: AifactoryClient, tmp_path: Path) -> None:
    done = client.submit(spec("print(1)", name="quick"))
    client.wait(done["id"], poll=0.1)
    live_cli("submit", spec_file(tmp_path, SLEEP, name="sleeper"), as_=BAKERY)
    sleeper = only_job(live_cli, "sleeper")

    listed = live_cli("jobs", "list", "--project", "1", as_=BAKERY).stdout
    assert "sleeper" in listed and "quick" in listed and "1–2 of 2" in listed
    completed = live_cli.json("jobs", "list", "--state", "completed", as_=BAKERY)["items"]
    assert [j["name"] for j in completed] == ["quick"]
    assert live_cli.json("jobs", "list", as_=REVIEWER)["total"] == 0  # not a member of project 1

    cancelled = live_cli("jobs", "cancel", sleeper["id"], as_=BAKERY).stdout
    assert f"Job {sleeper['id']} sleeper cancelled" in cancelled
    final = client.wait(sleeper["id"], poll=0.1)
    assert final["state"] == "cancelled"

    shown = live_cli("jobs", "show", sleeper["id"], as_=BAKERY).stdout
    assert "Events" in shown and "cancelled" in shown and "sleeper" in shown and "time.sleep(120)" in shown
    events = [line.split()[2] for line in shown.split("Events")[1].splitlines() if line.strip()[:2] == "20"]
    assert events[-1] == "cancelled" and events == [e["state"] for e in final["events"]]
    again = live_cli("jobs", "cancel", done["id"], as_=BAKERY).stdout
    assert f"Job {done['id']} quick is completed; nothing to cancel" in again

    err = live_cli.fails("jobs", "show", sleeper["id"], as_=REVIEWER)
    assert err == f"error: 404 Not found: job {sleeper['id']} not found"
    assert live_cli.json("jobs", "show", sleeper["id"], as_=OPERATOR)["id"] == sleeper["id"]


def test_logs_without_and_with_follow(live_cli: Cli, client: AifactoryClient) -> None:
    code = "import time\nfor i in range(3):\n    print('step', i, flush=True); time.sleep(0.2)"
    job = client.submit(spec(code, name="steps"))
    followed = live_cli("logs", "-f", job["id"], as_=BAKERY).stdout  # returns only once the log is complete
    assert followed == "step 0\nstep 1\nstep 2\n"
    assert live_cli("logs", job["id"], as_=BAKERY).stdout == followed
    chunk = live_cli.json("logs", job["id"], "--offset", "7", as_=BAKERY)
    assert chunk["text"] == "step 1\nstep 2\n" and chunk["next_offset"] == len(followed) and chunk["complete"]
    assert live_cli("logs", "--stderr", job["id"], as_=BAKERY).stdout == ""
    assert "error: 404" in live_cli.fails("logs", "999", as_=BAKERY)


def test_artifacts_are_listed_and_downloaded_with_verified_checksums(
    live_cli: Cli, client: AifactoryClient, tmp_path: Path
) -> None:
    path = spec_file(tmp_path, TRAIN, name="train", outputs=["model", "*.json"])
    live_cli("submit", path, "--follow", as_=BAKERY)
    job = only_job(live_cli, "train")

    listed = live_cli("jobs", "artifacts", job["id"], "--checksums", as_=BAKERY).stdout
    sums = {a["path"]: a["sha256"] for a in client.list_artifacts(job["id"], checksums=True)}
    assert set(sums) == {"model/weights.json", "metrics.json"}
    assert all(name in listed and digest in listed for name, digest in sums.items())

    out = tmp_path / "out"
    result = live_cli("jobs", "artifacts", job["id"], "--download", out, as_=BAKERY).stdout
    assert "Downloaded 2 artifacts" in result and "sha256 verified" in result
    assert json.loads((out / "model" / "weights.json").read_text()) == {"w": 2}
    assert json.loads((out / "metrics.json").read_text()) == {"loss": 0.25}
    for name, digest in sums.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert not list(out.rglob("*.part"))

    with pytest.raises(ChecksumMismatch, match="metrics.json"):  # a wrong checksum: refused, no file left
        client.download_artifact(job["id"], "metrics.json", tmp_path / "bad.json", sha256="0" * 64)
    assert not (tmp_path / "bad.json").exists() and not (tmp_path / "bad.json.part").exists()
    files = client.download_artifacts(job["id"], tmp_path / "all")
    assert sorted(f.relative_to(tmp_path / "all").as_posix() for f in files) == sorted(sums)


def test_wait_gives_up_with_job_timeout_and_the_job_goes_on(client: AifactoryClient) -> None:
    job = client.submit(spec(SLEEP, name="long"))
    seen: list[str] = []
    with pytest.raises(JobTimeout) as caught:
        client.wait(job["id"], timeout=0.5, poll=0.1, on_change=lambda j: seen.append(j["state"]))
    assert isinstance(caught.value, TimeoutError) and caught.value.job_id == job["id"]
    assert caught.value.state not in TERMINAL and f"job {job['id']} is still" in str(caught.value)
    assert seen and seen[-1] == caught.value.state and len(seen) == len(set(seen))  # one call per state
    assert client.get_job(job["id"])["state"] not in TERMINAL
    assert "started\n" in "".join(_until(client.follow_log(job["id"]), "started"))

    client.cancel_job(job["id"])
    assert client.wait(job["id"], poll=0.1, on_change=lambda j: seen.append(j["state"]))["state"] == "cancelled"
    assert seen[-1] == "cancelled"


def _until(texts: Iterator[str], marker: str) -> Iterator[str]:
    for text in texts:
        yield text
        if marker in text:
            return


def test_follow_log_and_read_log_resume_from_an_offset(client: AifactoryClient, tmp_path: Path) -> None:
    path = tmp_path / "greek.json"  # a JSON file goes as JSON
    path.write_text(json.dumps(spec("print('alpha'); print('beta'); print('gamma')", name="greek")))
    job = client.submit(path)
    assert job["name"] == "greek" and job["spec"]["command"][0] == PY
    assert "".join(client.follow_log(job["id"])) == "alpha\nbeta\ngamma\n"
    assert client.wait(job["id"], poll=0.1)["state"] == "completed"
    assert "".join(client.follow_log(job["id"], offset=6)) == "beta\ngamma\n"
    assert client.read_log(job["id"], offset=6) == (b"beta\ngamma\n", 17, True)
    assert client.read_log(job["id"], stream="stderr") == (b"", 0, True)


def test_follow_log_reconnects_with_last_event_id_after_a_dropped_connection() -> None:
    seen: list[httpx.Request] = []

    def dropped() -> Iterator[bytes]:
        yield b'id: 6\nevent: log\ndata: {"text": "alpha\\n", "offset": 6}\n\n'
        raise httpx.ReadError("connection reset")

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=dropped())
        body = (
            b': keep-alive\n\nid: 11\nevent: log\ndata: {"text": "beta\\n", "offset": 11}\n\n'
            b'event: end\ndata: {"offset": 11}\n\n'
        )
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    sleeps: list[float] = []
    with AifactoryClient(
        "http://factory.example", "aif_t", transport=httpx.MockTransport(handler), sleep=sleeps.append
    ) as c:
        assert list(c.follow_log(7)) == ["alpha\n", "beta\n"]
    assert "last-event-id" not in seen[0].headers and seen[1].headers["last-event-id"] == "6"
    assert seen[1].url.params["offset"] == "6" and len(sleeps) == 1

    def always_refused(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ConnectError("refused")

    seen.clear()
    with (
        AifactoryClient(
            "http://factory.example",
            "aif_t",
            transport=httpx.MockTransport(always_refused),
            retries=2,
            sleep=sleeps.append,
        ) as c,
        pytest.raises(TransportError, match="refused"),
    ):
        list(c.follow_log(7))
    assert len(seen) == 3  # the first attempt and two retries

    def gone(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": "job 7 not found"})

    seen.clear()
    with (
        AifactoryClient(
            "http://factory.example", "aif_t", transport=httpx.MockTransport(gone), sleep=sleeps.append
        ) as c,
        pytest.raises(NotFoundError, match="job 7 not found"),
    ):
        list(c.follow_log(7))
    assert len(seen) == 1  # an answer, not a dropped connection: not retried


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (
            "name: big\nproject: 1\ncommand: [python, -c, pass]\nresources: {gpus_per_node: 5}\n",
            "big.yaml",
            "resources.gpus_per_node",
        ),
        ("name: odd\nproject: 1\ncommand: [python]\ncolour: red\n", "odd.yaml", "colour: unknown field"),
        ("name: [unclosed\n", "broken.yaml", "broken.yaml is not valid YAML"),
        ('{"name": "x",', "broken.json", "broken.json is not valid JSON"),
        ("- a\n- list\n", "list.yaml", "list.yaml must hold a job spec"),
        (None, "missing.yaml", "cannot read"),
    ],
)
def test_a_bad_spec_file_is_one_line_naming_the_file_and_the_field(
    live_cli: Cli, tmp_path: Path, content: str | None, filename: str, expected: str
) -> None:
    path = tmp_path / filename
    if content is not None:
        path.write_text(content)
    err = live_cli.fails("submit", path, as_=BAKERY)
    assert str(path) in err and expected in err
    assert live_cli.json("jobs", "list", as_=BAKERY)["total"] == 0


def test_schema_lists_the_fields(live_cli: Cli) -> None:
    out = live_cli("jobs", "schema", as_=BAKERY).stdout
    assert "resources.gpus_per_node" in out and "outputs" in out
    schema = live_cli.json("jobs", "schema", as_=BAKERY)
    assert schema["additionalProperties"] is False and "command" in schema["properties"]


def test_submit_charges_the_named_project_else_the_spec_s_else_the_only_one(
    live_cli: Cli, client: AifactoryClient, tmp_path: Path
) -> None:
    path = tmp_path / "anywhere.yaml"
    path.write_text(yaml.safe_dump({"name": "anywhere", "command": [PY, "-c", "print(1)"], "resources": {"time": 5}}))
    result = live_cli("submit", path, as_=BAKERY)
    assert only_job(live_cli, "anywhere")["project_id"] == 1  # the spec names none: Anna's only project
    assert f"{path} names no project: charging your project 1 (Bake less waste" in result.stderr

    account = client.get_project(1)["slurm_account"]
    live_cli("submit", path, "--project", account, "--name", "by-account", as_=BAKERY)
    assert only_job(live_cli, "by-account")["project_id"] == 1  # a Slurm account names a project too

    err = live_cli.fails("submit", path, as_=REVIEWER)
    assert err.startswith(f"error: {path} names no project and you have none yet")
    err = live_cli.fails("submit", path, as_=OPERATOR)  # operators see every project: no guessing
    assert "names no project: pass --project with one of yours: 1 (Bake less waste" in err and "2 (" in err

    elsewhere = spec_file(tmp_path, "print(2)", name="elsewhere")  # the spec says project 1; --project wins
    assert (
        live_cli.fails("submit", elsewhere, "--project", "2", as_=BAKERY) == "error: 404 Not found: project 2 not found"
    )
    assert live_cli.json("jobs", "list", as_=BAKERY)["total"] == 2
    assert "your only project" in live_cli("submit", "--help").stdout


def test_last_names_the_job_you_submitted_most_recently(live_cli: Cli, live: LiveServer, tmp_path: Path) -> None:
    err = live_cli.fails("jobs", "show", "last", as_=BAKERY)
    assert "no job yet" in err
    assert "not a job" in live_cli.fails("jobs", "show", "latest", as_=BAKERY)
    first = spec_file(tmp_path, "print('first')", name="first")
    second = spec_file(tmp_path, "print('second')", name="second")
    live_cli("submit", first, "--follow", as_=BAKERY)
    live_cli("submit", second, "--follow", as_=BAKERY)
    assert live_cli.json("jobs", "show", "last", as_=BAKERY)["name"] == "second"
    assert live_cli("logs", "last", as_=BAKERY).stdout == "second\n"
    # someone else's newer job in the same project is not "your" last
    with AifactoryClient(live.url, live.token(PEOPLE["lars"]), retries=0) as lars:
        theirs = lars.submit(spec("print('lars')", name="lars-job"))
        lars.wait(theirs["id"], poll=0.1)
        assert [j["id"] for j in lars.list_jobs(mine=True)["items"]] == [theirs["id"]]
    assert live_cli.json("jobs", "show", "last", as_=BAKERY)["name"] == "second"
