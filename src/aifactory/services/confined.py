"""Reading what a job left in its folder without letting the job choose what the server opens.

A job can write anything into its own folder, symlinks included, and can swap a file for a symlink at any
moment. So the server never follows a symlink there: a file is opened one path component at a time, each
relative to the folder opened before it (``openat``) with ``O_NOFOLLOW``, and must turn out to be a regular
file (``fstat`` on the opened descriptor). A symlink swapped in between a check and the open is refused by
the open itself. Folders are walked with ``os.fwalk`` (descriptors, symlinked folders never entered).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO never blocks us
MAX_ENTRIES = 100_000  # a walk stops after this many entries (a job cannot make the server walk forever)
MAX_DEPTH = 64  # nor go deeper than this many folders


def _parts(relative: str | PurePosixPath) -> tuple[str, ...]:
    parts = tuple(p for p in PurePosixPath(relative).parts if p not in ("", "."))
    if PurePosixPath(relative).is_absolute() or ".." in parts:
        raise ValueError(f"{str(relative)!r} is not a path inside the folder")
    return parts


def _descend(fd: int, parts: tuple[str, ...]) -> int | None:
    """From the folder ``fd`` (closed here) down ``parts``, one ``openat`` with O_NOFOLLOW each."""
    for part in parts:
        try:
            inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError:  # missing, a symlink (ELOOP), not a folder (ENOTDIR), not ours (EACCES)
            inner = -1
        os.close(fd)
        if inner < 0:
            return None
        fd = inner
    return fd


@contextlib.contextmanager
def open_dir(root: Path, relative: str | PurePosixPath = "") -> Iterator[int | None]:
    """A descriptor of the folder ``root/relative`` (None when it is missing, not a folder, or reached through
    a symlink below ``root``); closed on exit. ``root`` itself is the server's (a job's folder)."""
    parts = _parts(relative)
    try:
        fd = _descend(os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), parts)
    except OSError:
        fd = None
    try:
        yield fd
    finally:
        if fd is not None:
            os.close(fd)


def open_file(root: Path, relative: str | PurePosixPath) -> BinaryIO | None:
    """``root/relative`` opened for reading, or None when it is missing, is not a regular file, or any part of
    the way to it below ``root`` is a symlink."""
    parts = _parts(relative)
    if not parts:
        return None
    with open_dir(root, PurePosixPath(*parts[:-1]) if len(parts) > 1 else "") as dir_fd:
        if dir_fd is None:
            return None
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dir_fd)
        except OSError:
            return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the walked folder, with '/'
    size: int
    mtime: float


def regular_files(root: Path, relative: str | PurePosixPath = "", limit: int = MAX_ENTRIES) -> list[FileEntry]:
    """The regular files under ``root/relative`` (symlinks neither listed nor entered), sorted by path. At most
    ``limit`` entries are looked at, read one by one (a folder of millions costs no more), and at most
    ``MAX_DEPTH`` folders deep; each folder is reached from the top through ``openat`` with O_NOFOLLOW."""
    found: list[FileEntry] = []
    pending: list[tuple[str, ...]] = [()]
    seen = 0
    with open_dir(root, relative) as top:
        while top is not None and pending and seen < limit:
            parts = pending.pop()
            fd = _descend(os.dup(top), parts)
            if fd is None:
                continue  # swapped for a link (or removed) since it was listed
            try:
                seen = _scan(fd, parts, found, pending, seen, limit)
            finally:
                os.close(fd)
    found.sort(key=lambda e: e.path)
    return found


def _scan(
    fd: int, parts: tuple[str, ...], found: list[FileEntry], pending: list[tuple[str, ...]], seen: int, limit: int
) -> int:
    with os.scandir(fd) as entries:
        for entry in entries:
            seen += 1
            if seen > limit:
                break
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) and len(parts) < MAX_DEPTH:
                pending.append((*parts, entry.name))
            elif stat.S_ISREG(st.st_mode):
                found.append(FileEntry("/".join((*parts, entry.name)), st.st_size, st.st_mtime))
    return seen
