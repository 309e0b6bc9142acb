"""What the server opens in a job's folder: never a symlink (at any depth), never anything but a regular file,
never a folder reached through a link, and a walk that stops. With real symlinks, FIFOs and a swap between the
check and the open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aifactory.backends.logfiles import read_chunk
from aifactory.services import confined


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    job = tmp_path / "jobs" / "7"
    (job / "work" / "model").mkdir(parents=True)
    (job / "work" / "model" / "weights.bin").write_bytes(b"w" * 10)
    (job / "work" / "metrics.json").write_text("{}")
    (tmp_path / "secret.db").write_text("the factory's database")
    return job


def read(fh: object) -> bytes:
    assert fh is not None
    with fh:  # type: ignore[attr-defined]
        return fh.read()  # type: ignore[attr-defined,no-any-return]


def test_regular_files_open(folder: Path) -> None:
    assert read(confined.open_file(folder, "work/model/weights.bin")) == b"w" * 10
    assert [(e.path, e.size) for e in confined.regular_files(folder, "work")] == [
        ("metrics.json", 2),
        ("model/weights.bin", 10),
    ]


@pytest.mark.parametrize("target", ["/etc/passwd", "../../secret.db", "/"])
def test_a_symlink_is_never_opened_nor_listed(folder: Path, target: str) -> None:
    (folder / "work" / "leak").symlink_to(target)
    assert confined.open_file(folder, "work/leak") is None
    assert "leak" not in {e.path for e in confined.regular_files(folder, "work")}


def test_a_symlinked_folder_is_neither_entered_nor_walked(folder: Path) -> None:
    (folder / "work" / "root").symlink_to("/")
    (folder / "work" / "etc").symlink_to("/etc")
    assert confined.open_file(folder, "work/root/etc/passwd") is None
    assert confined.open_file(folder, "work/etc/passwd") is None
    assert {e.path for e in confined.regular_files(folder, "work")} == {"metrics.json", "model/weights.bin"}
    os.rename(folder / "work", folder / "real-work")
    (folder / "work").symlink_to(folder.parent.parent)  # the working folder itself replaced by a link
    assert confined.regular_files(folder, "work") == []
    assert confined.open_file(folder, "work/secret.db") is None


def test_a_file_swapped_for_a_symlink_after_the_check_is_not_opened(folder: Path) -> None:
    listed = {e.path for e in confined.regular_files(folder, "work")}
    assert "metrics.json" in listed  # the check saw a regular file ...
    (folder / "work" / "metrics.json").unlink()
    (folder / "work" / "metrics.json").symlink_to("/etc/passwd")  # ... then the job swapped it
    assert confined.open_file(folder, "work/metrics.json") is None
    os.rename(folder / "work" / "model", folder / "work" / "model-old")
    (folder / "work" / "model").symlink_to(folder / "work" / "model-old")  # a folder on the way swapped
    assert confined.open_file(folder, "work/model/weights.bin") is None


def test_fifos_and_paths_out_are_refused(folder: Path) -> None:
    os.mkfifo(folder / "work" / "pipe")
    assert confined.open_file(folder, "work/pipe") is None  # and it did not block
    assert "pipe" not in {e.path for e in confined.regular_files(folder, "work")}
    for bad in ("../secret.db", "/etc/passwd", "work/../../secret.db"):
        with pytest.raises(ValueError):
            confined.open_file(folder, bad)


def test_a_walk_stops_after_its_limit(folder: Path) -> None:
    many = folder / "work" / "many"
    many.mkdir()
    for i in range(50):
        (many / f"f{i}").write_text("x")
    assert len(confined.regular_files(folder, "work", limit=10)) <= 10


def test_a_log_replaced_by_a_symlink_reads_as_empty(folder: Path) -> None:
    log = folder / "stdout-0.log"
    log.write_bytes(b"hello\n")
    assert read_chunk(log, 0, 100, lambda: True).data == b"hello\n"
    log.unlink()
    log.symlink_to(folder.parent.parent / "secret.db")
    chunk = read_chunk(log, 0, 100, lambda: True)
    assert chunk.data == b"" and chunk.complete


def test_a_log_read_past_its_end_is_empty_even_at_the_largest_offset(folder: Path) -> None:
    log = folder / "stdout-0.log"
    log.write_bytes(b"hello\n")
    chunk = read_chunk(log, 1 << 50, 100, lambda: True)  # the largest offset the API accepts
    assert chunk.data == b"" and chunk.offset == 1 << 50
