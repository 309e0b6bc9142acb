"""Paths the server opens for a job: the working directory stays inside the job's folder, and artifacts and logs
are read from inside it without following any symlink the job made (to /, /etc/passwd, the factory's data, or
another job's folder) — on the real local executor."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, assert_problem, settle

LINKS = """
mkdir -p real && echo ok > real/f.txt
ln -s / root
ln -s /etc/passwd passwd
ln -s "$DATA" data
ln -s "$DATA/aifactory.db" db.sqlite
ln -s real linked
ln -s ../.. up
"""


def spec(**extra: Any) -> dict[str, Any]:
    return {"name": "paths", "project": 1, "resources": {"time": 5}, **extra}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"workdir": "/", "outputs": ["etc/passwd"]}, "workdir"),  # the outside test's attack
        ({"workdir": "/etc"}, "workdir"),
        ({"workdir": "../../1/work"}, "workdir"),
        ({"workdir": "~"}, "workdir"),
        ({"outputs": ["../../1/work/model.pkl"]}, "outputs.0"),
        ({"outputs": ["ok", "/etc/passwd"]}, "outputs.1"),
    ],
)
def test_paths_out_of_the_job_folder_are_refused(api: Api, extra: dict[str, Any], field: str) -> None:
    before = api.counts()
    assert_problem(api.post("/jobs", "anna", json=spec(command=["true"], **extra)), 422, field)
    assert api.counts() == before


def test_a_relative_workdir_is_made_inside_the_job_folder(api: Api) -> None:
    job = api.ok("POST", "/jobs", "anna", status=201, json=spec(command=["pwd"], workdir="a/b", outputs=["*"]))
    done = settle(api, job["id"])
    assert done["state"] == "completed", done
    where = api.get(f"/jobs/{job['id']}/logs", "anna").text.strip()
    assert where.endswith(f"/jobs/{job['id']}/work/a/b")


def test_symlinks_a_job_made_are_never_followed(api: Api) -> None:
    data = str(api.client.app.state.ctx.settings.data_dir)
    outputs = ["root/etc/passwd", "passwd", "data", "db.sqlite", "linked/f.txt", "up", "**"]
    job = api.ok("POST", "/jobs", "anna", status=201, json=spec(script=LINKS, env={"DATA": data}, outputs=outputs))
    assert settle(api, job["id"])["state"] == "completed"
    listed = api.ok("GET", f"/jobs/{job['id']}/artifacts?checksums=true", "anna")
    assert [a["path"] for a in listed] == ["real/f.txt"]
    assert api.get(f"/jobs/{job['id']}/artifacts/real/f.txt", "anna").content == b"ok\n"
    for path in ("root/etc/passwd", "passwd", "data", "db.sqlite", "linked/f.txt", "up/1/work/real/f.txt"):
        assert_problem(api.get(f"/jobs/{job['id']}/artifacts/{path}", "anna"), 404)


def test_another_jobs_folder_is_out_of_reach(api: Api) -> None:
    secret = api.ok("POST", "/jobs", "anna", status=201, json=spec(command=["sh", "-c", "echo s3cret > secret.txt"]))
    assert settle(api, secret["id"])["state"] == "completed"
    thief = api.ok(
        "POST",
        "/jobs",
        "anna",
        status=201,
        json=spec(
            command=["sh", "-c", f"ln -s ../../{secret['id']}/work/secret.txt leak.txt"], outputs=["leak.txt", "*"]
        ),
    )
    assert settle(api, thief["id"])["state"] == "completed"
    assert api.ok("GET", f"/jobs/{thief['id']}/artifacts", "anna") == []
    assert_problem(api.get(f"/jobs/{thief['id']}/artifacts/leak.txt", "anna"), 404)


def test_a_log_swapped_for_a_symlink_is_not_read_through_it(api: Api) -> None:
    swap = "echo before; rm -f ../stdout-0.log ../stdout.log; ln -s /etc/passwd ../stdout-0.log; echo after"
    job = api.ok("POST", "/jobs", "anna", status=201, json=spec(command=["sh", "-c", swap]))
    settle(api, job["id"])
    for offset in (0, 5):
        log = api.get(f"/jobs/{job['id']}/logs?offset={offset}", "anna")
        assert log.status_code == 200 and "root:" not in log.text


def test_the_largest_log_offset_reads_nothing(api: Api) -> None:
    job = api.ok("POST", "/jobs", "anna", status=201, json=spec(command=["echo", "hi"]))
    settle(api, job["id"])
    top = 1125899906842624  # 2^50, the documented maximum
    r = api.get(f"/jobs/{job['id']}/logs?offset={top}", "anna")
    assert r.status_code == 200 and r.content == b"" and r.headers["x-log-offset"] == str(top)
    assert_problem(api.get(f"/jobs/{job['id']}/logs?offset={top + 1}", "anna"), 422, "offset")
