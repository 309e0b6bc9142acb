"""The attacker's test suite: a self-registered tenant against a real factory (``aifactory serve`` as root, POSIX
identities on, a recognisable secret key), on the local executor (bubblewrap) and on the real Slurm dev cluster.

The tenant registers, gets a playground proposal accepted at once, runs one legitimate job, and then attacks:
its job (tests/security/probe_job.py) tries to read and write the database, the data folder, another
organization's job folder and log, the server's environment and secret key, PostgreSQL on 127.0.0.1:5432, and
plants symlinks and hard links (to the database, /etc/shadow, the other job's files) that it asks the server for as
artifacts and logs; its specs try to escape through ``workdir`` and ``outputs``; it tries to exhaust the server
with hostile grids and YAML, a 10,000-task array and more live-log streams than it may hold. Every attempt must
fail or be refused, and nothing of the factory may change: every table's rows other than those the tenant's own
jobs add (counted and hashed), the users, tokens and organizations (hashed whole), the data folder, the other
job's folder (hashed files, modes and owners). The campaign runs once per backend and test process
(tests/support/attack_campaign.py; with ``--dist loadgroup`` once per backend in all); each test below judges
one part of what it saw."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.attack_campaign import Outcome, campaign
from tests.support.attacker import STREAMS_PER_USER, running_factory

pytestmark = pytest.mark.slow

BACKENDS = [
    pytest.param("local", marks=pytest.mark.xdist_group("attack-local")),
    pytest.param("slurm", marks=[pytest.mark.slurm, pytest.mark.xdist_group("attack-slurm")]),
]
REFUSED = {  # what each request must be answered with
    "workdir /": 422,
    "workdir /etc": 422,
    "workdir ..": 422,
    "workdir a/../../..": 422,
    "workdir ~root": 422,
    "outputs ../../aifactory.db": 422,
    "outputs /etc/passwd": 422,
    "outputs a/../../../x": 422,
    "other job": 404,
    "other job's artifact": 404,
    "other job's log": 404,
    "artifact ../": 404,
    "artifact /etc/passwd": 404,
    "log of task -1": 422,
    "log stream ../": 422,
}


@pytest.fixture(scope="session")
def _campaigns() -> dict[str, Outcome | BaseException]:
    """Each backend's campaign, run once per test process (what it saw, or what stopped it)."""
    return {}


@pytest.fixture(params=BACKENDS)
def outcome(
    request: pytest.FixtureRequest, _campaigns: dict[str, Outcome | BaseException], _sqlite_template: Path
) -> Outcome:
    """One factory per backend, attacked once, then stopped: the tests judge what it saw. (On the cluster the
    campaign runs inside the first test's setup, which holds the cluster lock as every test marked slurm.)"""
    kind = request.param
    if kind not in _campaigns:
        try:
            with running_factory(kind, _sqlite_template) as factory:
                _campaigns[kind] = campaign(factory)
        except BaseException as exc:  # a skip or a failure of the campaign: every test of the backend says it
            _campaigns[kind] = exc
    seen = _campaigns[kind]
    if isinstance(seen, BaseException):
        raise seen
    return seen


def test_the_probe_ran_as_its_owner_and_could_write_its_own_folder(outcome: Outcome) -> None:
    assert outcome.probe["state"] == "completed", outcome.probe
    controls = outcome.report["controls"]
    assert controls["own-folder-write"] is True
    assert (controls["uid"], controls["gid"]) == outcome.owner != (0, 0)  # the tenant's uid, its project's gid
    assert len(controls["logs-swapped"]) == 2, controls  # its stdout and stderr became links


def test_every_attempt_on_the_factorys_files_and_processes_fails(outcome: Outcome) -> None:
    attempts = {a["name"]: a for a in outcome.report["attempts"]}
    assert len(attempts) == 25, sorted(attempts)
    succeeded = [f"{n}: {a['detail']}" for n, a in attempts.items() if a["succeeded"] and n != "postgresql-trust"]
    assert succeeded == [], succeeded
    assert outcome.report["seen"] == []


def test_no_job_gets_into_the_database_server(outcome: Outcome) -> None:
    """PostgreSQL on 127.0.0.1:5432 with trust authentication (a development machine's, as CI's): the local
    sandbox has no network; a Slurm job runs on the node's network, so only the site (passwords, a firewall
    between compute nodes and the database) can keep it out: the dev cluster plays that site
    (scripts/slurm-dev-cluster rejects TCP from job identities to the database and broker ports)."""
    attempt = next(a for a in outcome.report["attempts"] if a["name"] == "postgresql-trust")
    assert attempt["succeeded"] is False, f"a {outcome.kind} job got into PostgreSQL: {attempt['detail']}"


def test_the_server_serves_no_planted_link_as_an_artifact_or_a_log(outcome: Outcome) -> None:
    assert outcome.artifacts == ["attack.json", "own.txt"]  # no link listed, and no hard link was made
    for name, served in outcome.served.items():
        if name.startswith("artifact"):
            assert served.status == 404, (name, served)
        else:  # the logs the job swapped for links read as empty
            assert (served.status, served.body) == (200, ""), (name, served)


def test_no_secret_reaches_the_attacker(outcome: Outcome) -> None:
    seen = [repr(outcome.report)] + [a.body for a in outcome.answers.values()]
    seen += [s.body for s in outcome.served.values()]
    for text in seen:
        assert outcome.secret not in text and outcome.victim_secret not in text
        assert "SQLite format 3" not in text and "root:" not in text


def test_escapes_and_paths_outside_the_job_are_refused(outcome: Outcome) -> None:
    got = {name: outcome.answers[name].status for name in REFUSED}
    assert got == REFUSED, {n: outcome.answers[n] for n in REFUSED if got[n] != REFUSED[n]}
    for name in REFUSED:
        if name.startswith("workdir"):
            assert "workdir" in outcome.answers[name].body
        if name.startswith("outputs"):
            assert "outputs.0" in outcome.answers[name].body


def test_hostile_specs_are_refused_with_the_servers_memory_flat(outcome: Outcome) -> None:
    for name in ("grid 6x10 for a missing project", "grid of 10^48", "YAML alias bomb", "JSON 50,000 deep"):
        assert outcome.answers[name].status in (413, 422), (name, outcome.answers[name])
    before, after = outcome.rss_kib
    assert after - before < 32 << 10, f"the server grew by {(after - before) >> 10} MiB"  # the grid once took 285 MB


def test_a_10000_task_array_keeps_the_machines_process_count_bounded(outcome: Outcome) -> None:
    before, peak = outcome.processes
    assert peak - before < 300, f"{before} processes before, {peak} after a 10,000-task array"
    submitted = outcome.answers["array of 10,000 tasks"]
    if outcome.kind == "local":  # taken, and queued for the executor's CPU slots (cancelled by the test)
        assert submitted.status == 201 and outcome.array["state"] == "cancelled", (submitted, outcome.array)
    else:  # more than the cluster's MaxArraySize: refused at once, never retried
        assert submitted.status == 422 and "Slurm refused the array" in submitted.body, submitted


def test_one_user_holds_at_most_its_share_of_live_log_streams(outcome: Outcome) -> None:
    assert outcome.streams == [200] * STREAMS_PER_USER + [429]
    assert outcome.answers["the other tenant's stream meanwhile"].status == 200
    assert outcome.answers["a stream once the others closed"].status == 200


def test_the_tenant_is_still_no_operator(outcome: Outcome) -> None:
    assert outcome.me_before["is_operator"] is False
    assert outcome.me_after["is_operator"] is False


def test_nothing_of_the_factory_changed(outcome: Outcome) -> None:
    assert outcome.db is not None
    before, after = outcome.db
    changed = [name for name in before.others if before.others[name] != after.others[name]]
    assert changed == [], {n: (before.others[n], after.others[n]) for n in changed}
    assert before.sensitive == after.sensitive
    # the tenant's own rows: exactly the jobs the factory accepted, and what follows from them
    assert (before.tenant["jobs"], after.tenant["jobs"]) == (1, outcome.stored)
    added = list(after.tenant_audit)
    for event in before.tenant_audit:
        added.remove(event)
    assert added and all(action.startswith("job.") and entity == "job" for action, entity in added), added
    for name, (was, now) in outcome.trees.items():
        differ = sorted(set(was.items()) ^ set(now.items()))
        assert differ == [], (name, differ[:20])
