"""Importing traces into a scenario, on SQLite and PostgreSQL: exact figures worked out by hand from the
fixture files (demo resource ``booster``: 4 GPUs and 288 cores per node, GPU weight 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aifactory.demo import seed_demo
from aifactory.domain.errors import InvalidInput
from aifactory.domain.ledger import LedgerEntry
from aifactory.domain.projects import Project
from aifactory.services.usage_import import ImportProgress, import_trace
from aifactory.store.tables import usage_imports
from tests.support.traces import EPOCH


@pytest.fixture
def world(uow_factory, clock):
    seed_demo(uow_factory, clock)
    with uow_factory(write=False) as uow:
        accounts = list(uow.session.scalars(select(Project.slurm_account).order_by(Project.id)))
    return uow_factory, clock, accounts


def _entries(uow_factory, scenario: str) -> list[LedgerEntry]:
    with uow_factory(write=False) as uow:
        return list(
            uow.session.scalars(select(LedgerEntry).where(LedgerEntry.scenario == scenario).order_by(LedgerEntry.id))
        )


def _swf(world, path: Path, **kw):
    uow_factory, clock, accounts = world
    args = dict(
        fmt="swf",
        scenario="what-if",
        mapping={"user:1": accounts[0], "group:3": "2"},
        resource="booster",
        gpus_per_processor="1/4",
    )
    return import_trace(uow_factory, clock, path, **(args | kw))


def test_swf_import_charges_mapped_projects_exactly(world, swf_file: Path) -> None:
    s = _swf(world, swf_file, allow_skips=True)
    assert (s.state, s.position, s.total, s.imported, s.problem) == ("done", 11, 11, 2, "")
    assert s.skipped == {
        "unknown-runtime": 1,
        "negative-runtime": 1,
        "non-numeric": 1,
        "wrong-field-count": 1,
        "unknown-processors": 1,
        "unmapped": 1,
        "corrupt": 1,
        "truncated": 1,
    }
    assert s.counted == {"zero-usage": 1}  # read and billed nothing: no skip
    assert s.skipped_lines["unmapped"] == [12]
    one, two = _entries(world[0], "what-if")
    # job 1: 8 processors × 100 s × 1/4 GPU; job 2: 4 × 200 s × 1/4, its group 3 mapped to project 2
    assert (one.project_id, one.amount, one.gpu_seconds, one.allocation_id) == (1, 200, 200, None)
    assert (two.project_id, two.amount, two.gpu_seconds) == (2, 200, 200)
    start = datetime.fromtimestamp(EPOCH, UTC)
    assert (one.usage_start, one.usage_end, one.period) == (start, start + timedelta(seconds=100), "2001-09")
    assert two.usage_start == start + timedelta(seconds=60)
    assert (one.source, one.external_id, one.reason, one.kind.value) == ("swf", "1#0", "", "charge")
    assert one.key == f"swf:{s.trace_id}:what-if:1@0:0"  # trace, scenario, job @ submit time, replay pass
    again = _swf(world, swf_file)  # a finished import again: nothing changes
    assert again.already_done and (again.imported, again.skipped) == (s.imported, s.skipped)
    assert len(_entries(world[0], "what-if")) == 2
    with world[0](write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(usage_imports)).scalar() == 1


def test_alibaba_import(world, alibaba_file: Path) -> None:
    uow_factory, clock, accounts = world
    s = import_trace(
        uow_factory,
        clock,
        alibaba_file,
        fmt="alibaba",
        scenario="pods",
        mapping={"qos:LS": accounts[0], "pod:pod-b": "2"},
        resource="booster",
    )
    assert (s.imported, s.counted, s.state) == (2, {"zero-usage": 1}, "incomplete")
    assert s.skipped == {
        "never-scheduled": 1,
        "non-numeric": 1,
        "wrong-field-count": 1,
        "negative-runtime": 1,
    }
    a, b = _entries(uow_factory, "pods")
    # pod-a: 1 GPU × 500/1000 × 900 s; pod-b: 2 GPUs × 1000/1000 × 200 s
    assert (a.project_id, a.amount, a.gpu_seconds, a.external_id) == (1, 450, 450, "pod-a#0")
    assert (b.project_id, b.amount, b.source, b.period) == (2, 400, "alibaba", "2023-01")


def test_replay_shifts_each_pass_by_the_span_in_whole_days(world, swf_file: Path) -> None:
    s = _swf(world, swf_file, replay_until=11 * 2 + 1, allow_skips=True)
    assert (s.position, s.imported) == (23, 2 * 2 + 1)  # the third pass reads 1 record: job 1
    entries = _entries(world[0], "what-if")
    assert [e.external_id for e in entries] == ["1#0", "2#0", "1#1", "2#1", "1#2"]
    assert entries[2].usage_start - entries[0].usage_start == timedelta(days=1)
    assert sum(e.amount for e in entries) == 5 * 200


def test_a_crash_mid_import_resumes_from_the_checkpoint(world, swf_file: Path) -> None:
    calls: list[ImportProgress] = []

    def crash(p: ImportProgress) -> None:
        calls.append(p)
        if p.batches == 2:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        _swf(world, swf_file, replay_until=33, batch=1, allow_skips=True, progress=crash)
    assert [e.external_id for e in _entries(world[0], "what-if")] == ["1#0", "2#0"]
    with world[0](write=False) as uow:
        row = uow.session.execute(select(usage_imports)).mappings().one()
    assert (row["state"], row["position"], row["imported"]) == ("running", 2, 2)
    s = _swf(world, swf_file, replay_until=33, batch=1, allow_skips=True)
    assert (s.resumed_from, s.state, s.position, s.imported) == (2, "done", 33, 6)
    assert s.skipped["unmapped"] == 3 and s.skipped["corrupt"] == 3  # counted once per pass, not twice
    assert [e.external_id for e in _entries(world[0], "what-if")] == ["1#0", "2#0", "1#1", "2#1", "1#2", "2#2"]


ERRORS = [
    (dict(fmt="csv"), "format"),
    (dict(mapping={"user:1": "no_such_account"}), "map (user:1)"),
    (dict(mapping={"host:1": "2"}), "map"),
    (dict(resource="nope"), "resource"),
    (dict(default_project="999"), "default_project"),
    (dict(path="none.swf"), "file: trace file"),
]


def test_clear_errors_write_nothing(world, swf_file: Path) -> None:
    for given, field in ERRORS:
        kw = dict(given)
        path = swf_file.parent / kw.pop("path") if "path" in kw else swf_file
        with pytest.raises(InvalidInput) as exc:
            _swf(world, path, **kw)
        assert str(exc.value).startswith(field), (kw, str(exc.value))
    with world[0](write=False) as uow:
        assert uow.session.execute(select(func.count()).select_from(usage_imports)).scalar() == 0


def test_mapping_files_csv_and_yaml(world, swf_file: Path, tmp_path: Path) -> None:
    accounts = world[2]
    csv_map = tmp_path / "map.csv"
    csv_map.write_text(f"key,project\n# users\nuser:1,{accounts[1]}\ngroup:3,1\n")
    s = _swf(world, swf_file, mapping=csv_map, scenario="csv", allow_skips=True)
    assert [e.project_id for e in _entries(world[0], "csv")] == [2, 1] and s.imported == 2
    yaml_map = tmp_path / "map.yaml"
    yaml_map.write_text("user:1: 2\n'user:99': 1\n")
    s = _swf(world, swf_file, mapping=yaml_map, scenario="yaml", allow_skips=True)
    assert [e.project_id for e in _entries(world[0], "yaml")] == [2, 1] and s.skipped["unmapped"] == 1
    # no mapping, a default project, the resource's GPU share: booster has 4 GPUs per 288 cores;
    # 800, 800 and 60 processor-seconds, rounded up
    s = _swf(world, swf_file, mapping=None, default_project="2", gpus_per_processor=None, scenario="default")
    assert s.state == "incomplete"  # skips, not allowed: the entries are written all the same
    assert s.imported == 3 and "unmapped" not in s.skipped
    assert [(e.project_id, e.amount) for e in _entries(world[0], "default")] == [(2, 12), (2, 12), (2, 1)]


def test_a_repeated_record_is_written_once_and_counted_as_already_imported(world, tmp_path: Path) -> None:
    """The same job number and submit time twice in one trace give the same entry key: the store writes the
    first and ignores the second, and the checkpoint counts it (in the batch that holds both, and across
    batches); it is no skip."""
    line = "    1     0   -1   100    8   -1  -1    8   -1  -1  1    1    1  -1  -1  1  -1  -1\n"
    path = tmp_path / "twice.swf"
    path.write_text(f"; UnixStartTime: {EPOCH}\n" + line * 3)
    for batch, scenario in ((10, "one-batch"), (1, "batch-each")):
        s = _swf(world, path, scenario=scenario, batch=batch)
        assert (s.position, s.imported, s.skipped, s.counted) == (3, 1, {}, {"already-imported": 2}), batch
        assert s.state == "done" and [e.external_id for e in _entries(world[0], scenario)] == ["1#0"]
    with world[0](write=False) as uow:
        rows = uow.session.execute(select(usage_imports).order_by(usage_imports.c.id)).mappings().all()
    assert [(r["state"], r["imported"], r["skipped"]) for r in rows] == [("done", 1, {"already-imported": 2})] * 2
    assert all(r["finished_at"] is not None for r in rows)
