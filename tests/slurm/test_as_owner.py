"""Jobs run as their owners on the real cluster (POSIX identities by the local provisioner, sbatch and scancel
through runuser): Slurm shows the owner's uid and the project's group, one project's job can read neither another
project's job folder nor the factory's database, data folder or logs, and a removed member is refused and loses
the group and the association."""

from __future__ import annotations

import os
import subprocess

import pytest

from aifactory.domain.posix import PosixGroup, PosixUser
from tests.support.demo import PEOPLE
from tests.support.slurm import OwnerGateway, run, scontrol_job

pytestmark = pytest.mark.slurm

PROBE = r"""
probe() { what=$1; shift; if "$@" >/dev/null 2>&1; then echo "ALLOWED $what"; else echo "DENIED $what"; fi; }
probe other-output cat "$OTHER/work/secret.txt"
probe other-log cat "$OTHER/stdout-$OTHER_ID.log"
probe other-folder ls "$OTHER"
probe other-write touch "$OTHER/work/pwned"
probe jobs-root ls "$JOBS"
probe data-dir ls "$DATA"
probe database head -c 16 "$DATA/aifactory.db"
probe logs ls "$DATA/logs"
probe server-environ cat "/proc/$SERVER/environ"
echo "ids $(id -u) $(id -g)"
echo mine > own.txt && echo "OWN written"
"""


def posix(api: OwnerGateway, who: str, project: int) -> tuple[PosixUser, PosixGroup, str]:
    with api.factory(write=False) as uow:
        user = uow.users.by_email(PEOPLE[who])
        mine, group = uow.posix.user(user.stored_id), uow.posix.group(project)
        assert mine is not None and group is not None
        return mine, group, uow.posix.project_accounts()[project]


def submit(api: OwnerGateway, who: str, spec: dict) -> dict:
    r = api.as_(PEOPLE[who]).post("/api/v1/jobs", json={"resources": {"time": 2}, **spec})
    assert r.status_code == 201, r.text
    return r.json()


def test_slurm_shows_the_owners_uid_and_the_projects_group_and_cancel_runs_as_them(owner_api):
    job = submit(owner_api, "anna", {"name": "sleeper", "project": 1, "command": ["sleep", "300"]})
    user, group, account = posix(owner_api, "anna", 1)
    shown = scontrol_job(job["backend_id"])
    assert shown["UserId"] == f"{user.name}({user.uid})" and user.uid != 0 and user.uid != os.geteuid()
    assert shown["GroupId"] == f"{group.name}({group.gid})" and shown["Account"] == account
    folder = owner_api.data_dir / "jobs" / str(job["id"])
    stat = folder.stat()
    assert (stat.st_uid, stat.st_gid, stat.st_mode & 0o7777) == (user.uid, group.gid, 0o2770)
    cancelled = owner_api.as_(PEOPLE["anna"]).post(f"/api/v1/jobs/{job['id']}/cancel")
    assert cancelled.status_code in (200, 202), cancelled.text
    assert owner_api.settle(job["id"])["state"] == "cancelled"
    assert "by" not in shown.get("Reason", "")


def test_one_projects_job_reads_nothing_of_another_project_nor_of_the_factory(owner_api):
    anna_job = submit(
        owner_api,
        "anna",
        {
            "name": "secret",
            "project": 1,
            "command": ["bash", "-c", "echo top-secret > secret.txt"],
            "outputs": ["secret.txt"],
        },
    )
    assert owner_api.settle(anna_job["id"])["state"] == "completed"
    jobs_root = owner_api.data_dir / "jobs"
    env = {
        "OTHER": str(jobs_root / str(anna_job["id"])),
        "OTHER_ID": anna_job["backend_id"],
        "JOBS": str(jobs_root),
        "DATA": str(owner_api.data_dir),
        "SERVER": str(os.getpid()),
    }
    probe = submit(
        owner_api, "daan", {"name": "probe", "project": 2, "script": PROBE, "env": env, "outputs": ["own.txt"]}
    )
    done = owner_api.settle(probe["id"])
    log = owner_api.as_(PEOPLE["daan"]).get(f"/api/v1/jobs/{probe['id']}/logs").text
    assert done["state"] == "completed", (done, log)
    daan, group2, _ = posix(owner_api, "daan", 2)
    assert f"ids {daan.uid} {group2.gid}" in log
    assert "OWN written" in log  # its own folder is its own
    attempts = [line for line in log.splitlines() if line.startswith(("ALLOWED", "DENIED"))]
    assert len(attempts) == 9 and all(line.startswith("DENIED") for line in attempts), log
    assert not (jobs_root / str(anna_job["id"]) / "work" / "pwned").exists()
    secret = owner_api.as_(PEOPLE["anna"]).get(f"/api/v1/jobs/{anna_job['id']}/artifacts/secret.txt")
    assert secret.text == "top-secret\n"  # the owner (through the factory) still has it


def test_a_removed_member_is_refused_and_loses_the_group_and_the_association(owner_api):
    first = submit(owner_api, "lars", {"name": "before", "project": 1, "command": ["id", "-G"]})
    assert owner_api.settle(first["id"])["state"] == "completed"
    lars, group, account = posix(owner_api, "lars", 1)
    assert group.name in run("id", "-Gn", lars.name).stdout.split()
    with owner_api.factory(write=False) as uow:
        lars_id = uow.users.by_email(PEOPLE["lars"]).stored_id
    removed = owner_api.as_(PEOPLE["anna"]).delete(f"/api/v1/projects/1/members/{lars_id}")
    assert removed.status_code == 204, removed.text

    refused = owner_api.as_(PEOPLE["lars"]).post(
        "/api/v1/jobs", json={"name": "after", "project": 1, "command": ["true"], "resources": {"time": 1}}
    )
    assert refused.status_code == 404
    gateway = owner_api.client.app.state.ctx.gateway
    report = gateway.identities.sync(owner_api.factory, owner_api.clock, gateway.backend)  # the reconciler's step
    assert not report.failures, report.failures
    assert group.name not in run("id", "-Gn", lars.name).stdout.split()
    assoc = run("sacctmgr", "-nP", "show", "assoc", "where", f"account={account}", "format=user").stdout.split()
    assert lars.name not in assoc and posix(owner_api, "anna", 1)[0].name in assoc
    script = owner_api.data_dir / "direct.sbatch"
    script.write_text(f"#!/bin/bash\n#SBATCH --account={account}\n#SBATCH --time=1\ntrue\n")
    script.chmod(0o644)
    direct = subprocess.run(
        ["runuser", "-u", lars.name, "--", "sbatch", "--parsable", "--chdir=/tmp", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert direct.returncode != 0 and "Invalid account" in direct.stderr  # not even sbatch used directly
