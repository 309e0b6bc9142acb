"""POSIX identities: what a tenant's job runs as. Every person who is a member of a project has a user (name and
uid), every project a group (name and gid); the factory allocates them from configured ranges, stores them and
never reuses them. Plain values and rules, no I/O: the identity provisioners (adapters) make them exist where
jobs run.

Names are derived from the factory's own ids only (``<prefix>u<user id>``, ``<prefix>p<project id>``), never
from anything a user typed. Each user also has a private group of the same name whose gid is its uid (its
primary group), so the uid range and the gid range must not overlap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from .enums import AllocationStatus
from .errors import Unavailable

# POSIX portable user/group names, as Debian's useradd/groupadd accept them (NAME_REGEX), at most 32 characters
NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
PREFIX_RE = r"^[a-z][a-z0-9]{0,11}$"  # leaves room for "u"/"p" and a 19-digit id
MIN_ID = 1000  # below: system accounts, never allocated


@dataclass(frozen=True)
class PosixUser:
    name: str
    uid: int


@dataclass(frozen=True)
class PosixGroup:
    name: str
    gid: int


@dataclass(frozen=True)
class RunAs:
    """Who a job runs as: its owner's user, with the project's group as its primary group. ``groups``: every
    project group the user is a member of now (``group`` included): the supplementary groups the directory
    gives the user (a Slurm job gets them all; the local executor keeps ``group`` only)."""

    user: PosixUser
    group: PosixGroup
    groups: tuple[PosixGroup, ...] = field(default=())


class IdentityRangeExhausted(Unavailable):
    """Every id of a configured range is taken: an operator must widen the range (ids are never reused)."""


@dataclass(frozen=True)
class IdRange:
    first: int
    last: int
    setting: str = field(default="", compare=False)  # the setting that configures it, for the error message

    def __post_init__(self) -> None:
        if not MIN_ID <= self.first <= self.last < 2**31 - 1:
            raise ValueError(f"{self.setting}: need {MIN_ID} <= first <= last < 2^31-1, got {self.first}-{self.last}")

    def overlaps(self, other: IdRange) -> bool:
        return self.first <= other.last and other.first <= self.last

    def next_after(self, last_allocated: int | None) -> int:
        """The id after the last one allocated (ids only grow, so none is reused), or the range's first."""
        candidate = self.first if last_allocated is None else max(last_allocated + 1, self.first)
        if candidate > self.last:
            raise IdentityRangeExhausted(
                f"the POSIX id range {self.first}-{self.last} ({self.setting}) is exhausted: "
                "an operator must widen it (ids are never reused)"
            )
        return candidate


@dataclass(frozen=True)
class IdentityPolicy:
    """How identities are named and numbered at this site (from the settings)."""

    prefix: str
    uids: IdRange
    gids: IdRange

    def __post_init__(self) -> None:
        if not re.match(PREFIX_RE, self.prefix):
            raise ValueError(f"identity prefix {self.prefix!r}: lowercase letters and digits, at most 12")
        if self.uids.overlaps(self.gids):
            raise ValueError("the uid and gid ranges overlap (each user's private group takes its uid as gid)")

    def user_name(self, user_id: int) -> str:
        return self.checked(f"{self.prefix}u{int(user_id)}")

    def group_name(self, project_id: int) -> str:
        return self.checked(f"{self.prefix}p{int(project_id)}")

    @staticmethod
    def checked(name: str) -> str:
        if not NAME_RE.match(name):
            raise ValueError(f"not a POSIX name: {name!r}")
        return name


@dataclass(frozen=True)
class AllocationTerm:
    """What decides whether a project is still running: one of its allocations' status and last day."""

    project_id: int
    status: AllocationStatus
    end_date: date


def ended_projects(terms: Iterable[AllocationTerm], today: date) -> set[int]:
    """Projects whose allocations are all over (expired by date or status, or exhausted): their groups are
    emptied and their scheduler associations removed. A project with a live or suspended allocation runs on."""
    live: set[int] = set()
    seen: set[int] = set()
    for term in terms:
        seen.add(term.project_id)
        over = term.status in (AllocationStatus.EXPIRED, AllocationStatus.EXHAUSTED) or today > term.end_date
        if not over:
            live.add(term.project_id)
    return seen - live
