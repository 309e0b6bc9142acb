"""POSIX identities: what a tenant's job runs as. Every person who is a member of a project has a user (name and
uid), every project a group (name and gid); the factory allocates them from configured ranges, stores them and
never reuses them. Plain values, no I/O: the identity provisioners (adapters) make them exist where jobs run."""

from __future__ import annotations

from dataclasses import dataclass


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
    """Who a job runs as: its owner's user, with the project's group as its primary group."""

    user: PosixUser
    group: PosixGroup
