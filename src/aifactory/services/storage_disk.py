"""Project storage on disk: where a project's files, the uploads under way and the registered datasets live, and
the few operations that change them (the bytes of a chunk written at its offset, a finished upload moved into
place by one rename, a file removed, a dataset's content linked in).

``<data dir>/storage`` (0711: a job identity passes but lists nothing) holds one folder per project; with POSIX
identities the project's folder and every folder in it belong to the project's group with mode 2750, its files
0640 (its members' jobs read them, nobody else; nobody but the server writes), else they are the server's alone
(0700/0600). Uploads under way are private files in ``<data dir>/uploads`` (0700) until they complete, so a
listing, a download or a job never sees half a file. Registered datasets live in ``<data dir>/datasets/<ref>``:
hard links to the stored files' inodes (no bytes copied; the server never writes a stored file in place, a new
upload replaces the name by a rename), so deleting or replacing the stored file leaves the dataset as it was.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import Conflict, Unavailable
from ..domain.posix import IdentityPolicy
from ..domain.storage import Limits, parents

BLOCK = 1 << 20
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
GROUP_DIR, GROUP_FILE = 0o2750, 0o640


@dataclass(frozen=True)
class StorageArea:
    """The storage's folders and settings (from ``Settings``; no I/O until a method is called)."""

    data_dir: Path
    defaults: Limits
    chunk_bytes: int = 8 << 20
    upload_seconds: float = 24 * 3600.0  # an upload nothing was added to for this long is removed
    identities: IdentityPolicy | None = None  # POSIX identities on: the project's group reads its storage

    @property
    def group_owned(self) -> bool:
        return self.identities is not None

    @property
    def root(self) -> Path:
        return self.data_dir / "storage"

    @property
    def uploads(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def datasets(self) -> Path:
        return self.data_dir / "datasets"

    def project_dir(self, project_id: int) -> Path:
        return self.root / str(int(project_id))

    def part(self, upload_id: int) -> Path:
        return self.uploads / f"{int(upload_id)}.part"

    def ensure(self) -> None:
        """The three top folders: storage and datasets passable (0711), uploads private (0700)."""
        for path, mode in ((self.root, 0o711), (self.datasets, 0o711), (self.uploads, PRIVATE_DIR)):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(mode)

    # -- uploads under way

    def new_part(self, upload_id: int) -> None:
        self.ensure()
        fd = os.open(self.part(upload_id), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE)
        os.close(fd)

    @contextlib.contextmanager
    def locked_part(self, upload_id: int) -> Iterator[int]:
        """The upload's private file, open for writing and locked (``flock``) for this caller alone: a second
        chunk of the same upload at the same time is refused (409), never interleaved."""
        try:
            fd = os.open(self.part(upload_id), os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            raise Conflict(f"upload {upload_id} lost its bytes (expired?); start the upload again") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict(f"another chunk of upload {upload_id} is being written; retry after it") from None
            yield fd
        finally:
            os.close(fd)  # releases the lock

    @staticmethod
    def write_at(fd: int, data: bytes, offset: int) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written
        os.fsync(fd)

    @staticmethod
    def sha256_of(fd: int, size: int) -> str:
        digest, offset = hashlib.sha256(), 0
        while offset < size:
            block = os.pread(fd, min(BLOCK, size - offset), offset)
            if not block:
                break
            digest.update(block)
            offset += len(block)
        return digest.hexdigest()

    def drop_part(self, upload_id: int) -> None:
        self.part(upload_id).unlink(missing_ok=True)

    def part_ids(self) -> list[tuple[int, float]]:
        """The uploads' private files: (upload id, last change as POSIX time)."""
        found = []
        with contextlib.suppress(FileNotFoundError), os.scandir(self.uploads) as entries:
            for entry in entries:
                stem, dot, ext = entry.name.partition(".")
                if dot and ext == "part" and stem.isdigit():
                    found.append((int(stem), entry.stat(follow_symlinks=False).st_mtime))
        return found

    # -- stored files

    def _modes(self) -> tuple[int, int]:
        return (GROUP_DIR, GROUP_FILE) if self.group_owned else (PRIVATE_DIR, PRIVATE_FILE)

    def _own(self, path: Path, mode: int, gid: int | None) -> None:
        try:
            if gid is not None:
                os.chown(path, -1, gid, follow_symlinks=False)
            os.chmod(path, mode, follow_symlinks=False)
        except OSError as exc:
            raise Unavailable(f"the project's storage cannot be given to its group ({gid}): {exc.strerror}") from exc

    def folders_for(self, project_id: int, name: str, gid: int | None) -> None:
        """The project's folder and the folders ``name`` lies in, made where missing (each owned and moded as
        the storage's files are)."""
        dir_mode, _ = self._modes()
        self.ensure()
        top = self.project_dir(project_id)
        for folder in [top, *(top / p for p in parents(name))]:
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise Conflict(f"{folder.relative_to(top)} is not a folder in the project's storage")
            folder.mkdir(exist_ok=True)
            self._own(folder, dir_mode, gid)

    def place(self, upload_id: int, project_id: int, name: str, gid: int | None) -> Placed:
        """Move a finished upload to ``name`` in the project's storage (one rename: the name shows the old
        file or the new one, never half of either). The replaced file is kept aside until ``settle``."""
        _, file_mode = self._modes()
        self.folders_for(project_id, name, gid)
        target = self.project_dir(project_id) / name
        part = self.part(upload_id)
        self._own(part, file_mode, gid)
        backup = self.uploads / f"{int(upload_id)}.replaced"
        kept = False
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISREG(os.lstat(target).st_mode):
                os.link(target, backup, follow_symlinks=False)
                kept = True
        os.rename(part, target)
        return Placed(target, backup if kept else None, source=part)

    def set_aside(self, project_id: int, name: str, token: str) -> Placed:
        """Take a stored file out of its place (one rename into the private uploads folder): gone for listings,
        downloads and jobs; ``settle`` removes it for good, ``undo`` puts it back."""
        target = self.project_dir(project_id) / name
        aside = self.uploads / f"{token}.deleted"
        try:
            os.rename(target, aside)
        except FileNotFoundError:
            return Placed(target, None)
        return Placed(target, aside)

    def prune(self, project_id: int, name: str) -> None:
        """Remove the folders ``name`` lay in that are empty now (never the project's folder itself)."""
        top = self.project_dir(project_id)
        for folder in reversed(parents(name)):
            try:
                os.rmdir(top / folder)
            except OSError:
                break  # not empty (or gone)

    # -- datasets

    def new_dataset(self, ref: str, gid: int | None) -> Path:
        dir_mode, _ = self._modes()
        self.ensure()
        folder = self.datasets / ref
        folder.mkdir()
        self._own(folder, dir_mode, gid)
        return folder

    def link_into(self, project_id: int, name: str, dataset: Path, relative: str, gid: int | None) -> None:
        """``dataset/relative`` becomes the stored file ``name`` (a hard link; a copy across file systems)."""
        dir_mode, file_mode = self._modes()
        for folder in parents(relative):
            (dataset / folder).mkdir(exist_ok=True)
            self._own(dataset / folder, dir_mode, gid)
        source, target = self.project_dir(project_id) / name, dataset / relative
        try:
            os.link(source, target, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                raise
            shutil.copyfile(source, target, follow_symlinks=False)
            self._own(target, file_mode, gid)

    def drop_dataset(self, ref: str) -> None:
        shutil.rmtree(self.datasets / ref, ignore_errors=True)


@dataclass(frozen=True)
class Placed:
    """A change at ``target`` not yet committed in the database: a new file moved there from ``source`` (its
    upload's private file; ``replaced``: the file it replaced, kept aside by a hard link), or a file set aside
    to ``replaced`` to be deleted."""

    target: Path
    replaced: Path | None
    source: Path | None = None

    def settle(self) -> None:
        """The change is committed: forget what was kept aside."""
        if self.replaced is not None:
            self.replaced.unlink(missing_ok=True)

    def undo(self) -> None:
        """The change was not committed: the new file back to its upload (which can complete again), and what
        was kept aside back under its name."""
        if self.source is not None:
            os.rename(self.target, self.source)
        if self.replaced is not None:
            os.rename(self.replaced, self.target)
