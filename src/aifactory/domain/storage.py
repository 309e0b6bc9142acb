"""Project storage: the files a project keeps on the factory (``<data dir>/storage/<project id>/<name>``), their
names, quotas, upload sessions and the byte ranges of resumable uploads and downloads. Plain values and rules,
no I/O.

A name is a relative path chosen by the user (folders with ``/``), checked here before anything touches a disk:
no absolute paths, no ``.``/``..`` or empty parts, no control characters, at most 1024 bytes (255 per part).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from .errors import DomainError, FieldError, InvalidInput
from .stored import Stored

MAX_NAME_BYTES = 1024
MAX_PART_BYTES = 255
MAX_FILE_BYTES = 1 << 50  # 1 PiB: a declared size beyond any disk is refused before a quota is even read
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_CONTENT_RANGE = re.compile(r"^bytes (\d{1,16})-(\d{1,16})/(\d{1,16})$")
_RANGE = re.compile(r"^bytes=(\d{0,16})-(\d{0,16})$")


class QuotaExceeded(DomainError):
    """The project's storage quota (bytes or files) would be exceeded: nothing was stored."""

    status = 413  # a client error (Content Too Large): 507 would read as the server's fault, and be retried
    title = "Over the storage quota"


class RangeNotSatisfiable(DomainError):
    """A download's Range lies outside the file."""

    status = 416
    title = "Range not satisfiable"

    def __init__(self, message: str, size: int):
        super().__init__(message)
        self.size = size


# ------------------------------------------------------------------ names


def check_name(name: object, field: str = "name") -> str:
    """A storage name (a relative path, folders with '/'), or :class:`InvalidInput` naming ``field``."""
    if not isinstance(name, str) or not name:
        raise InvalidInput.on(field, "a relative path such as data/sales.csv")
    problem = _name_problem(name)
    if problem:
        raise InvalidInput.on(field, f"{_shown(name)} {problem}")
    return name


def _name_problem(name: str) -> str | None:
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in name):
        return "contains a control character"
    if name.startswith("/") or name.startswith("~"):
        return "must be relative (no leading / or ~)"
    if "\\" in name:
        return "contains a backslash (separate folders with /)"
    for part in name.split("/"):
        if part in ("", ".", ".."):
            return "has an empty, '.' or '..' part"
        if len(part.encode("utf-8")) > MAX_PART_BYTES:
            return f"has a part longer than {MAX_PART_BYTES} bytes"
        if part != part.strip():
            return "has a part that starts or ends with a space"
    return None


def _shown(name: str) -> str:
    return repr(name if len(name) <= 80 else name[:77] + "...")


def check_folder(name: object, field: str = "path") -> str:
    """A name that may also end with '/' (a folder)."""
    if isinstance(name, str) and name.endswith("/") and len(name) > 1:
        return check_name(name[:-1], field)
    return check_name(name, field)


def parents(name: str) -> list[str]:
    """The folders a name lies in, outermost first (``a/b/c`` -> ``a``, ``a/b``)."""
    parts = name.split("/")
    return ["/".join(parts[:k]) for k in range(1, len(parts))]


def basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def check_sha256(value: object, field: str = "sha256") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not SHA256_RE.match(value.lower()):
        raise InvalidInput.on(field, "64 hex digits")
    return value.lower()


def check_size(value: object, field: str = "size") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_FILE_BYTES:
        raise InvalidInput.on(field, f"a whole number of bytes between 0 and {MAX_FILE_BYTES}")
    return value


# ------------------------------------------------------------------ entities


@dataclass(eq=False, kw_only=True)
class StoredFile(Stored):
    """A file of a project's storage, visible once its upload completed (its bytes verified)."""

    project_id: int
    name: str
    size: int
    sha256: str
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class UploadSession(Stored):
    """An upload under way: ``received`` bytes from the start are in (the offset to resume from)."""

    project_id: int
    name: str
    size: int
    sha256: str | None
    received: int = 0
    created_by: int
    created_at: datetime
    updated_at: datetime
    id: int | None = None

    @property
    def complete(self) -> bool:
        return self.received >= self.size


@dataclass(eq=False, kw_only=True)
class StorageQuota:
    """An operator's quota for one project; None in a field: the site's default."""

    project_id: int
    max_bytes: int | None = None
    max_files: int | None = None
    updated_by: int | None = None
    updated_at: datetime


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_files: int


@dataclass(frozen=True)
class Usage:
    bytes: int
    files: int


def effective(quota: StorageQuota | None, defaults: Limits) -> Limits:
    if quota is None:
        return defaults
    return Limits(
        defaults.max_bytes if quota.max_bytes is None else quota.max_bytes,
        defaults.max_files if quota.max_files is None else quota.max_files,
    )


def check_quota(usage: Usage, limits: Limits, *, add_bytes: int, add_files: int, what: str) -> None:
    """Refuse (:class:`QuotaExceeded`, 413) when ``usage`` plus what is added exceeds ``limits``."""
    if usage.bytes + add_bytes > limits.max_bytes:
        raise QuotaExceeded(
            f"{what} needs {add_bytes:,} bytes: over the project's storage quota ({usage.bytes:,} of "
            f"{limits.max_bytes:,} bytes in use); delete files (aifactory data rm) or ask an operator for more",
            [FieldError("size", "over the project's storage quota")],
        )
    if usage.files + add_files > limits.max_files:
        raise QuotaExceeded(
            f"{what} makes {usage.files + add_files:,} files: over the project's file quota ({limits.max_files:,} "
            "files); delete files (aifactory data rm) or ask an operator for more",
            [FieldError("name", "over the project's file quota")],
        )


BYTE_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def byte_scale(n: int) -> tuple[float, str]:
    """``n`` bytes as (amount, unit) in binary units: ``(n, "B")`` below 1 KiB, else the largest unit whose amount,
    rounded to one decimal, stays below 1024 (``1023.96 KiB`` is ``1.0 MiB``, not ``1024.0 KiB``)."""
    if abs(n) < 1024:
        return float(n), "B"
    scaled, unit = abs(n) / 1024, BYTE_UNITS[0]
    for bigger in BYTE_UNITS[1:]:
        if round(scaled, 1) < 1024:
            break
        scaled, unit = scaled / 1024, bigger
    return (-scaled if n < 0 else scaled), unit


def human_bytes(n: int) -> str:
    """A size for people, in binary units, the CLI's wording (the portal formats :func:`byte_scale` by locale):
    ``1,023 B``, ``1.0 KiB``, ``18.7 KiB``, ``10.0 GiB`` (one decimal above bytes)."""
    amount, unit = byte_scale(n)
    return f"{int(amount):,} B" if unit == "B" else f"{amount:.1f} {unit}"


# ------------------------------------------------------------------ byte ranges


@dataclass(frozen=True)
class ChunkRange:
    """``Content-Range: bytes start-end/total`` of an upload chunk (``end`` inclusive)."""

    start: int
    end: int
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_content_range(header: str | None) -> ChunkRange:
    """A chunk's Content-Range, or :class:`InvalidInput` naming ``Content-Range``."""
    match = _CONTENT_RANGE.match((header or "").strip())
    if match is None:
        raise InvalidInput.on(
            "Content-Range", "send 'bytes START-END/TOTAL' (END inclusive, e.g. bytes 0-1048575/5000000)"
        )
    start, end, total = (int(g) for g in match.groups())
    if start > end or end >= total:
        raise InvalidInput.on("Content-Range", f"bytes {start}-{end}/{total} is not a range inside the file")
    return ChunkRange(start, end, total)


@dataclass(frozen=True)
class ByteRange:
    """The part of a file a download sends (``end`` inclusive); ``partial``: answered with 206."""

    start: int
    end: int
    partial: bool

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange:
    """The bytes a ``Range`` header asks for. No header, another unit, several ranges or a malformed one: the
    whole file (RFC 9110 lets a server ignore a Range it does not serve). A range outside the file:
    :class:`RangeNotSatisfiable` (416)."""
    whole = ByteRange(0, size - 1, False)
    match = _RANGE.match((header or "").strip())
    if match is None:
        return whole
    first, last = match.groups()
    if not first and not last:
        return whole
    if not first:  # the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(f"bytes=-{n} asks for nothing of a {size:,}-byte file", size)
        return ByteRange(max(size - n, 0), size - 1, True)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(f"bytes={first}-{last} lies outside the file ({size:,} bytes)", size)
    return ByteRange(start, end, True)
