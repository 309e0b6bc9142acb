"""The portal's door to a job's files: a working directory outside the job's folder is refused on the submit
form, and artifacts and logs are never read through a symlink the job made (real local executor)."""

from __future__ import annotations

import re

from tests.support.api import settle
from tests.support.portal import Portal

LINKS = (
    "name: links\nscript: 'ln -s /etc/passwd passwd; ln -s / root; echo ok > ok.txt'\noutputs: ['*', 'root/etc/*']\n"
)


def test_a_workdir_outside_the_job_folder_is_refused_on_the_form(portal: Portal) -> None:
    web = portal.browser("anna")
    web.get("/projects/1/submit")
    before = portal.api.counts()
    r = web.post(
        "/projects/1/submit", {"spec": "name: x\ncommand: [cat, etc/passwd]\nworkdir: /\noutputs: [etc/passwd]"}
    )
    assert r.status_code == 422 and "workdir" in r.text and "must be a relative path" in r.text
    assert portal.api.counts() == before


def test_symlinked_artifacts_are_neither_listed_nor_downloaded(portal: Portal) -> None:
    web = portal.browser("anna")
    web.get("/projects/1/submit")
    r = web.post("/projects/1/submit", {"spec": LINKS})
    assert r.status_code == 303, r.text
    job_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert settle(portal.api, job_id)["state"] == "completed"
    page = web.get(f"/jobs/{job_id}").text
    listed = re.findall(rf'href="/jobs/{job_id}/artifacts/([^"]+)"', page)
    assert listed == ["ok.txt"]
    assert web.get(f"/jobs/{job_id}/artifacts/ok.txt").content == b"ok\n"
    for path in ("passwd", "root/etc/passwd"):
        assert web.get(f"/jobs/{job_id}/artifacts/{path}").status_code == 404
