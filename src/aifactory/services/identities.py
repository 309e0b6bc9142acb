"""POSIX identities of project members (``domain.posix``): allocated and stored here, made to exist where jobs
run by an identity provisioner (``ports.IdentityProvisioner``).

The database holds the desired state: every member of a project has a user, every project a group; a user
belongs to the groups of the projects it is a member of, unless the project has ended (then its group is
empty and its scheduler account lists nobody). Directory and scheduler I/O never runs inside a transaction:
:class:`IdentitySync` converges the directory right before a job is handed to the backend (``prepare``: the
owner, the project's group, the owner's association) and in every reconciler pass (``sync``: everyone).
What it applied is remembered per process, so an unchanged state costs no directory call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial

from ..domain.jobs.execution import ProjectAccount
from ..domain.posix import IdentityPolicy, PosixGroup, PosixUser, RunAs, ended_projects
from .ports import Backend, Clock, IdentityProvisioner, MembershipBackend, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("aifactory.identities")
RESYNC_SECONDS = 3600.0  # what was applied is forgotten this often, so drift in the directory gets repaired


# ------------------------------------------------------------------ allocation (database only)


def allocate(uow: UnitOfWork, clock: Clock, policy: IdentityPolicy, user_id: int, project_id: int) -> None:
    """The user's and the project's identities, allocated where missing (the caller commits)."""
    _group_row(uow, clock, policy, project_id)
    _user_row(uow, clock, policy, user_id)


def _group_row(uow: UnitOfWork, clock: Clock, policy: IdentityPolicy, project_id: int) -> None:
    if uow.posix.group(project_id) is None:
        group = PosixGroup(policy.group_name(project_id), uow.posix.next_id("gid", policy.gids))
        uow.posix.add_group(project_id, group, clock.now())


def _user_row(uow: UnitOfWork, clock: Clock, policy: IdentityPolicy, user_id: int) -> None:
    if uow.posix.user(user_id) is None:
        user = PosixUser(policy.user_name(user_id), uow.posix.next_id("uid", policy.uids))
        uow.posix.add_user(user_id, user, clock.now())


def allocate_missing(uow_factory: UnitOfWorkFactory, clock: Clock, policy: IdentityPolicy) -> int:
    """Identities for every member and project that has none yet (one write transaction, only when some are
    missing); how many were allocated."""
    with uow_factory(write=False) as uow:
        users, groups = uow.posix.users(), uow.posix.groups()
        members = {m.user_id for m in uow.posix.memberships()} - set(users)
        projects = set(uow.posix.project_accounts()) - set(groups)
    if not members and not projects:
        return 0
    with uow_factory() as uow:
        for project_id in sorted(projects):
            _group_row(uow, clock, policy, project_id)
        for user_id in sorted(members):
            _user_row(uow, clock, policy, user_id)
        uow.commit()
    return len(members) + len(projects)


# ------------------------------------------------------------------ the desired state


def run_as(uow: UnitOfWork, user_id: int, project_id: int, *, today: date | None = None) -> RunAs | None:
    """Who a job of this user in this project runs as; None while either identity is not allocated yet.
    ``groups``: the groups of every project the user is a member of that has not ended."""
    user, group = uow.posix.user(user_id), uow.posix.group(project_id)
    if user is None or group is None:
        return None
    projects = [m.project_id for m in uow.posix.memberships(user_id)]
    ended = ended_projects(uow.posix.allocation_terms(projects), today or datetime.now(UTC).date())
    groups = tuple(g for p in projects if p not in ended and (g := uow.posix.group(p)) is not None)
    return RunAs(user, group, groups)


@dataclass(frozen=True)
class DesiredDirectory:
    """What the directory and the scheduler's accounts should hold."""

    groups: tuple[PosixGroup, ...]  # every project's group exists (an ended project's is empty)
    users: dict[PosixUser, tuple[PosixGroup, ...]]  # every user, with exactly these groups
    accounts: dict[str, tuple[str, ...]]  # a project's scheduler account -> its members' user names


def desired_directory(uow: UnitOfWork, today: date) -> DesiredDirectory:
    users, groups = uow.posix.users(), uow.posix.groups()
    accounts = uow.posix.project_accounts()
    ended = ended_projects(uow.posix.allocation_terms(), today)
    member_groups: dict[int, list[PosixGroup]] = {user_id: [] for user_id in users}
    account_users: dict[str, list[str]] = {account: [] for account in accounts.values()}
    for m in uow.posix.memberships():
        if m.project_id in ended or m.user_id not in users:
            continue
        if m.project_id in groups:
            member_groups[m.user_id].append(groups[m.project_id])
        account_users[accounts[m.project_id]].append(users[m.user_id].name)
    return DesiredDirectory(
        groups=tuple(groups.values()),
        users={users[uid]: tuple(gs) for uid, gs in member_groups.items()},
        accounts={account: tuple(sorted(names)) for account, names in account_users.items()},
    )


# ------------------------------------------------------------------ convergence


@dataclass
class SyncReport:
    allocated: int = 0
    applied: list[str] = field(default_factory=list)  # what changed in the directory or the scheduler
    failures: list[str] = field(default_factory=list)


class IdentitySync:
    """Converges the directory (and the scheduler's associations) to the desired state; remembers what it
    applied in this process. Safe to call from the request threads and the reconciler at once."""

    def __init__(self, provisioner: IdentityProvisioner, policy: IdentityPolicy):
        self.provisioner = provisioner
        self.policy = policy
        self._lock = threading.Lock()
        self._groups: set[str] = set()
        self._users: dict[str, frozenset[str]] = {}
        self._accounts: dict[str, frozenset[str]] = {}
        self._since = time.monotonic()

    def allocate(self, uow: UnitOfWork, clock: Clock, user_id: int, project_id: int) -> None:
        allocate(uow, clock, self.policy, user_id, project_id)

    def prepare(self, run_as: RunAs, account: str, backend: Backend) -> None:
        """Right before a job is handed over: its owner exists with exactly its groups, the project's group
        exists, and the owner may use the project's scheduler account."""
        groups = run_as.groups if run_as.group in run_as.groups else (*run_as.groups, run_as.group)
        with self._lock:
            for group in groups:
                self._group(group)
            self._user(run_as.user, groups)
            have = self._accounts.get(account, frozenset())
            if isinstance(backend, MembershipBackend) and run_as.user.name not in have:
                backend.ensure_project(ProjectAccount(account, (run_as.user.name,)))
                self._accounts[account] = have | {run_as.user.name}

    def sync(self, uow_factory: UnitOfWorkFactory, clock: Clock, backend: Backend) -> SyncReport:
        """The reconciler's step: allocate what is missing, then converge everything that differs from what
        this process applied. One failing identity is logged and retried next time; it stops no other."""
        report = SyncReport(allocated=allocate_missing(uow_factory, clock, self.policy))
        with uow_factory(write=False) as uow:
            want = desired_directory(uow, clock.now().date())
        self._forget_after(RESYNC_SECONDS)
        for group in want.groups:
            self._attempt(report, f"group {group.name}", partial(self._group, group))
        for user, groups in want.users.items():
            self._attempt(report, f"user {user.name}", partial(self._user, user, groups))
        if isinstance(backend, MembershipBackend):
            for account, names in want.accounts.items():
                self._attempt(report, f"account {account}", partial(self._account, backend, account, names))
        return report

    # -- one item each, under the lock; True when something was applied

    def _group(self, group: PosixGroup) -> bool:
        if group.name in self._groups:
            return False
        self.provisioner.ensure_group(group)
        self._groups.add(group.name)
        return True

    def _user(self, user: PosixUser, groups: Sequence[PosixGroup]) -> bool:
        names = frozenset(g.name for g in groups)
        if self._users.get(user.name) == names:
            return False
        self.provisioner.ensure_user(user, groups)
        self._users[user.name] = names
        return True

    def _account(self, backend: MembershipBackend, account: str, names: Sequence[str]) -> bool:
        if self._accounts.get(account) == frozenset(names):
            return False
        backend.set_account_users(account, names)
        self._accounts[account] = frozenset(names)
        return True

    def _attempt(self, report: SyncReport, what: str, step: Callable[[], bool]) -> None:
        try:
            with self._lock:
                if step():
                    report.applied.append(what)
        except Exception as exc:  # noqa: BLE001 - one identity's trouble must not stop the others
            report.failures.append(f"{what}: {exc}")
            log.warning("identity sync: %s failed (%s); retrying at the next pass", what, exc)

    def _forget_after(self, seconds: float) -> None:
        with self._lock:
            if time.monotonic() - self._since >= seconds:
                self._groups.clear()
                self._users.clear()
                self._accounts.clear()
                self._since = time.monotonic()
