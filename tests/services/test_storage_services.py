"""Project storage's services on SQLite and PostgreSQL: what happens at the same time (two chunks of one upload,
two completions racing for the last of a quota), a transaction that fails after the file moved (put back), the
cleanup of abandoned uploads, and the POSIX modes and group of the project's files."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

import pytest

from aifactory.demo import OPERATOR_EMAIL
from aifactory.domain.access import PageRequest
from aifactory.domain.errors import Conflict, NotFound
from aifactory.domain.storage import Limits, QuotaExceeded, StoredFile
from aifactory.services import storage, uploads
from aifactory.services.storage_disk import StorageArea
from tests.support.identities import unique_policy
from tests.support.jobs_env import JobsEnv

DATA = b"0123456789" * 10  # 100 bytes


def _area(tmp_path: Path, **kw: object) -> StorageArea:
    return StorageArea(data_dir=tmp_path / "data", defaults=Limits(10_000, 100), **kw)  # type: ignore[arg-type]


def _bakery(env: JobsEnv) -> int:
    with env.uow_factory(write=False) as uow:
        project = uow.projects.by_proposal(env.demo.proposal_ids["bakery"])
        assert project is not None
        return project.stored_id


def _start(env: JobsEnv, area: StorageArea, name: str, data: bytes = DATA) -> int:
    digest = hashlib.sha256(data).hexdigest()
    with env.uow_factory() as uow:
        upload, _ = uploads.create(
            uow, env.clock, env.anna, area, _bakery(env), name=name, size=len(data), sha256=digest
        )
        return upload.stored_id


def _send(env: JobsEnv, area: StorageArea, upload_id: int, data: bytes = DATA) -> None:
    content_range = f"bytes 0-{len(data) - 1}/{len(data)}"
    uploads.write_chunk(env.uow_factory, env.clock, env.anna, area, _bakery(env), upload_id, content_range, data)


def _complete(env: JobsEnv, area: StorageArea, upload_id: int) -> StoredFile:
    return uploads.complete(env.uow_factory, env.clock, env.anna, area, _bakery(env), upload_id)


def _stored(env: JobsEnv, area: StorageArea, name: str, data: bytes = DATA) -> StoredFile:
    upload_id = _start(env, area, name, data)
    _send(env, area, upload_id, data)
    return _complete(env, area, upload_id)


def _names(env: JobsEnv) -> list[str]:
    with env.uow_factory(write=False) as uow:
        return [f.name for f in uow.storage.files(_bakery(env), PageRequest(limit=50)).items]


def test_a_second_chunk_of_the_same_upload_at_the_same_time_is_refused(env: JobsEnv, tmp_path: Path) -> None:
    area = _area(tmp_path)
    upload_id = _start(env, area, "a.bin")
    with area.locked_part(upload_id), pytest.raises(Conflict, match="being written"):
        _send(env, area, upload_id)  # while another request holds the upload
    _send(env, area, upload_id)
    assert _complete(env, area, upload_id).sha256 == hashlib.sha256(DATA).hexdigest()


def test_two_completions_racing_for_the_last_of_the_quota_store_one_file(env: JobsEnv, tmp_path: Path) -> None:
    area = _area(tmp_path)
    first, second = _start(env, area, "one.bin"), _start(env, area, "two.bin")
    for upload_id in (first, second):
        _send(env, area, upload_id)
    with env.uow_factory() as uow:
        storage.set_quota(uow, env.clock, env.actor(OPERATOR_EMAIL), area, _bakery(env), max_bytes=150, max_files=None)
    outcomes: list[object] = []

    def finish(upload_id: int) -> None:
        try:
            outcomes.append(_complete(env, area, upload_id))
        except QuotaExceeded as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=finish, args=(u,)) for u in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["QuotaExceeded", "StoredFile"]
    assert len(_names(env)) == 1
    stored_dir = area.project_dir(_bakery(env))
    assert len(os.listdir(stored_dir)) == 1  # the refused one is not on disk either


def test_a_failed_transaction_puts_the_replaced_file_back(
    env: JobsEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    area = _area(tmp_path)
    _stored(env, area, "model.bin", b"old")
    upload_id = _start(env, area, "model.bin", DATA)
    _send(env, area, upload_id)

    def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(uploads, "record", broken)
    with pytest.raises(RuntimeError):
        _complete(env, area, upload_id)
    target = area.project_dir(_bakery(env)) / "model.bin"
    assert target.read_bytes() == b"old"  # the old content, under its name
    monkeypatch.undo()
    assert _complete(env, area, upload_id).size == len(DATA) and target.read_bytes() == DATA
    assert sorted(os.listdir(area.uploads)) == []  # no part, no kept-aside copy left


def test_a_failed_delete_puts_the_file_back(env: JobsEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    area = _area(tmp_path)
    _stored(env, area, "keep/me.bin")

    def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(storage, "record", broken)
    with pytest.raises(RuntimeError), env.uow_factory() as uow:
        storage.delete(uow, env.clock, env.anna, area, _bakery(env), "keep", recursive=True)
    assert (area.project_dir(_bakery(env)) / "keep" / "me.bin").read_bytes() == DATA
    assert _names(env) == ["keep/me.bin"]


def test_cleanup_removes_abandoned_uploads_and_orphaned_bytes_only(env: JobsEnv, tmp_path: Path) -> None:
    area = _area(tmp_path, upload_seconds=3600.0)
    old = _start(env, area, "old.bin")
    env.clock.advance(minutes=50)
    young = _start(env, area, "young.bin")
    orphan = area.uploads / "999.part"
    orphan.write_bytes(b"left by a crash")
    long_ago = env.clock.now().timestamp() - 7200
    os.utime(orphan, (long_ago, long_ago))
    env.clock.advance(minutes=20)  # old: 70 minutes without news; young: 20
    assert uploads.expire(env.uow_factory, env.clock, area) == 2
    assert not area.part(old).exists() and not orphan.exists() and area.part(young).exists()
    with env.uow_factory(write=False) as uow:
        assert [u.stored_id for u in uow.storage.open_uploads(_bakery(env))] == [young]


def test_without_identities_the_storage_is_the_servers_alone(env: JobsEnv, tmp_path: Path) -> None:
    area = _area(tmp_path)
    _stored(env, area, "data/sales.csv")
    top = area.project_dir(_bakery(env))
    assert stat.S_IMODE(os.stat(area.root).st_mode) == 0o711
    assert stat.S_IMODE(os.stat(area.uploads).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(top).st_mode) == 0o700 and stat.S_IMODE(os.stat(top / "data").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(top / "data" / "sales.csv").st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another group takes root (or the group's membership)")
def test_with_identities_the_projects_group_reads_its_storage(env: JobsEnv, tmp_path: Path) -> None:
    area = _area(tmp_path, identities=unique_policy())
    _stored(env, area, "data/sales.csv")
    with env.uow_factory(write=False) as uow:
        group = uow.posix.group(_bakery(env))  # allocated at the first upload
    assert group is not None
    top = area.project_dir(_bakery(env))
    for folder in (top, top / "data"):
        st = os.stat(folder)
        assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o2750, group.gid)
    st = os.stat(top / "data" / "sales.csv")
    assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o640, group.gid)


def test_someone_outside_the_project_finds_no_storage(env: JobsEnv, tmp_path: Path) -> None:
    area = _area(tmp_path)
    with env.uow_factory() as uow, pytest.raises(NotFound, match="project .* not found"):
        uploads.create(uow, env.clock, env.other, area, _bakery(env), name="x", size=1)
    assert not area.uploads.exists()  # nothing was made
