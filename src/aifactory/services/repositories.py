"""What the services ask of each repository of a unit of work, as Protocols (``store`` implements them).

One Protocol per repository: ``UnitOfWork`` (in ``ports``) names them, and mypy checks the store's classes
against them structurally. Scopes (``domain.access``) are values here; the store turns them into WHERE clauses.
The records of the reports and of the usage import are plain values that cross the port.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, TypeVar

from ..domain.access import Page, PageRequest, ProjectScope, ProposalScope
from ..domain.accounts import AccountToken
from ..domain.accounts import Purpose as AccountPurpose
from ..domain.attachments import ProposalAttachment
from ..domain.audit import AuditEvent
from ..domain.calls import Call, SelfServiceUse
from ..domain.catalog import Approval, CatalogItem, CatalogKind, CatalogLink, CatalogScope, Relation
from ..domain.enums import ProjectRole
from ..domain.identity import ApiToken, Organization, User, WebSession
from ..domain.jobs.model import Job, JobRow
from ..domain.ledger import Balance, LedgerEntry
from ..domain.notifications import InboxItem, Notification, OpenReview, Recipient
from ..domain.posix import AllocationTerm, IdRange, PosixGroup, PosixUser
from ..domain.projects import Allocation, Project
from ..domain.proposals import Proposal
from ..domain.reports import Dimension
from ..domain.reviews import Review, ReviewAssignment
from ..domain.sites import Resource, Site
from ..domain.sso import RequestStatus, SsoLink, SsoRequest
from ..domain.storage import StorageQuota, StoredFile, UploadSession, Usage
from ..domain.teams import ConsentState, Invitation, PartnerConsent

T = TypeVar("T")


class Repository(Protocol[T]):
    """What every repository does: one row by id, and adding one (flushed: its id is set)."""

    def get(self, id_: int) -> T | None: ...
    def add(self, obj: T) -> T: ...


class OrganizationRepository(Repository[Organization], Protocol):
    def by_name(self, name: str) -> Organization | None: ...
    def list(
        self, page: PageRequest, *, kind: str | None = None, country: str | None = None, q: str | None = None
    ) -> Page[Organization]: ...
    def existing_ids(self, ids: Collection[int]) -> set[int]: ...
    def names(self, ids: Collection[int]) -> dict[int, str]: ...
    def lock(self, id_: int) -> Organization | None:
        """The organization, row-locked until the transaction ends (what self-service limits count under)."""
        ...


class UserRepository(Repository[User], Protocol):
    def by_email(self, email: str) -> User | None: ...
    def list(self, page: PageRequest, *, organization_id: int | None = None, role: str | None = None) -> Page[User]: ...


class TokenRepository(Repository[ApiToken], Protocol):
    def by_hash(self, token_hash: str) -> ApiToken | None: ...
    def for_user(self, user_id: int) -> builtins.list[ApiToken]: ...


class WebSessionRepository(Repository[WebSession], Protocol):
    def by_hash(self, token_hash: str) -> WebSession | None: ...
    def end_all(self, user_id: int, at: datetime) -> int: ...


class SiteRepository(Repository[Site], Protocol):
    def by_slug(self, slug: str) -> Site | None: ...
    def list_all(self) -> list[Site]: ...


class ResourceRepository(Repository[Resource], Protocol):
    def list_all(self) -> list[Resource]: ...


class CallRepository(Repository[Call], Protocol):
    def by_slug(self, slug: str) -> Call | None: ...
    def list(self, page: PageRequest, *, access_mode: str | None = None, open_on: date | None = None) -> Page[Call]: ...


class ProposalRepository(Repository[Proposal], Protocol):
    def get_for_update(self, id_: int) -> Proposal | None: ...
    def list(
        self,
        page: PageRequest,
        scope: ProposalScope,
        *,
        status: str | None = None,
        call_id: int | None = None,
        order: str = "created",
    ) -> Page[Proposal]: ...
    def awaiting_decision(self, page: PageRequest) -> Page[Proposal]: ...
    def self_service_use(
        self, call_id: int, organization_id: int, *, since: datetime, today: date, exclude_id: int
    ) -> SelfServiceUse:
        """The organization's live proposals in the call and the GPU-hours auto-approved to it there since
        ``since`` (``domain.calls.SelfServiceUse``), leaving out proposal ``exclude_id``."""
        ...


class AssignmentRepository(Repository[ReviewAssignment], Protocol):
    def for_proposal(self, proposal_id: int) -> list[ReviewAssignment]: ...
    def find(self, proposal_id: int, reviewer_id: int) -> ReviewAssignment | None: ...
    def for_reviewer(self, reviewer_id: int, page: PageRequest) -> Page[ReviewAssignment]: ...


class AttachmentRepository(Repository[ProposalAttachment], Protocol):
    def for_proposal(self, proposal_id: int) -> builtins.list[ProposalAttachment]: ...
    def find(self, proposal_id: int, key: str) -> ProposalAttachment | None: ...
    def remove(self, attachment: ProposalAttachment) -> None: ...


class ReviewRepository(Repository[Review], Protocol):
    def for_proposal(self, proposal_id: int) -> list[Review]: ...
    def counts(self, proposal_ids: Collection[int]) -> dict[int, int]: ...


class ProjectRepository(Repository[Project], Protocol):
    def role(self, project_id: int, user_id: int) -> ProjectRole | None: ...
    def by_account(self, account: str) -> Project | None: ...
    def by_proposal(self, proposal_id: int) -> Project | None: ...
    def list(self, page: PageRequest, scope: ProjectScope) -> Page[Project]: ...
    def next_id_hint(self) -> int: ...


class AllocationRepository(Repository[Allocation], Protocol):
    def all(self) -> builtins.list[Allocation]: ...
    def list(self, page: PageRequest, scope: ProjectScope, *, project_id: int | None = None) -> Page[Allocation]: ...


class AuditRepository(Repository[AuditEvent], Protocol):
    def list(
        self,
        page: PageRequest,
        *,
        entity_type: str | None = None,
        entity_id: int | None = None,
        actor_id: int | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEvent]: ...


class JobRepository(Repository[Job], Protocol):
    def by_idempotency_key(self, project_id: int, key: str) -> Job | None: ...
    def open_jobs(self, backend: str | None = None) -> builtins.list[Job]: ...
    def unsettled(self, backend: str, limit: int = 500) -> builtins.list[Job]: ...
    def with_entries_or_settled(self) -> builtins.list[Job]: ...
    def list(
        self,
        page: PageRequest,
        scope: ProjectScope,
        *,
        project_id: int | None = None,
        state: str | None = None,
        submitted_by: int | None = None,
        with_events: bool = True,
    ) -> Page[Job]: ...
    def rows(self, project_id: int, page: PageRequest) -> Page[JobRow]: ...
    def other_organization_ran(self, backend: str, organization_id: int) -> bool:
        """Whether a project led by another organization ever had a job on this backend."""
        ...


class LedgerRepository(Repository[LedgerEntry], Protocol):
    def by_key(self, key: str) -> LedgerEntry | None: ...
    def lock_allocation(self, allocation_id: int) -> Allocation | None: ...
    def list(
        self, page: PageRequest, *, allocation_id: int, kind: str | None = None, job_id: int | None = None
    ) -> Page[LedgerEntry]: ...
    def for_job(self, job_id: int) -> builtins.list[LedgerEntry]: ...
    def derived_balances(self) -> dict[int, Balance]: ...
    def charged_by_month(self, allocation_id: int) -> dict[str, int]: ...
    def job_entry_sums(self) -> builtins.list[tuple[int, str, int, int]]:
        """(job id, kind, count, summed amount) of every job's entries."""
        ...


class NotificationRepository(Repository[Notification], Protocol):
    """The outbox (``store.notification_repo``): notifications, their recipients, people's preferences."""

    def by_key(self, dedup_key: str) -> Notification | None: ...
    def existing_keys(self, keys: Collection[str]) -> set[str]: ...
    def find(self, allocation_id: int, event: str) -> Notification | None: ...
    def events(self, allocation_id: int) -> set[str]: ...
    def undelivered(self, limit: int = 100) -> builtins.list[Notification]: ...
    def visible(
        self, page: PageRequest, scope: ProjectScope, *, project_id: int | None = None
    ) -> Page[Notification]: ...
    def webhook_due(self, now: datetime, limit: int) -> builtins.list[Notification]: ...
    def email_due(self, now: datetime, limit: int) -> builtins.list[tuple[Recipient, Notification]]: ...
    def add_recipient(self, recipient: Recipient) -> Recipient: ...
    def recipient(self, recipient_id: int) -> Recipient | None: ...
    def recipients(self, notification_id: int) -> builtins.list[Recipient]: ...
    def inbox(self, user_id: int, page: PageRequest, *, unread_only: bool = False) -> Page[InboxItem]: ...
    def unread_count(self, user_id: int) -> int: ...
    def in_inbox_of(self, user_id: int, notification_id: int) -> Recipient | None: ...
    def mark_all_read(self, user_id: int, at: datetime) -> int: ...
    def preferences(self, user_id: int) -> dict[str, str]: ...
    def channels(self, user_ids: Collection[int], topic: str) -> dict[int, str]: ...
    def set_preference(self, user_id: int, topic: str, channel: str) -> None: ...
    def open_reviews(self, until: date) -> builtins.list[OpenReview]: ...


class CatalogRepository(Repository[CatalogItem], Protocol):
    def with_slug(self, kind: CatalogKind, slug: str) -> list[CatalogItem]: ...
    def search(
        self,
        page: PageRequest,
        scope: CatalogScope,
        *,
        q: str | None = None,
        kind: CatalogKind | None = None,
        tags: tuple[str, ...] = (),
        approval: Approval | None = None,
    ) -> Page[CatalogItem]: ...
    def add_link(self, link: CatalogLink) -> CatalogLink: ...
    def links_of(self, item_id: int) -> list[CatalogLink]: ...
    def links_to_job(self, job_id: int, relation: Relation) -> list[CatalogLink]: ...
    def find_link(
        self, from_item_id: int, relation: Relation, *, to_item_id: int | None = None, job_id: int | None = None
    ) -> CatalogLink | None: ...


# ------------------------------------------------------------------ reports (read-only aggregates)


@dataclass(frozen=True)
class Delivered:
    """Which usage a report counts: the charges of the real ledger (``scenario`` None) or of one what-if
    scenario, in the months ``start`` to ``end`` (YYYY-MM, inclusive; None: unbounded)."""

    start: str | None = None
    end: str | None = None
    scenario: str | None = None


@dataclass(frozen=True)
class Sums:
    """An aggregate row: the group's key, a label for people, billing GPU-seconds, charge entries."""

    key: str | None
    label: str | None
    seconds: int
    entries: int


@dataclass(frozen=True)
class UsageSums:
    """Usage grouped by one dimension, and the total (each entry once, however many rows it is in)."""

    rows: list[Sums]
    seconds: int
    entries: int


@dataclass(frozen=True)
class OrganizationSums:
    """Usage of the projects one organization leads (``sums.key``: its id), with its sectors."""

    sectors: list[str]
    sums: Sums


@dataclass(frozen=True)
class ProjectOrganizations:
    """A project with delivered usage: its lead and all its organizations."""

    project_id: int
    lead_organization_id: int
    organization_ids: list[int]


@dataclass(frozen=True)
class OrganizationSummary:
    id: int
    name: str
    kind: str
    country: str


@dataclass(frozen=True)
class DecisionSpan:
    """A decided proposal: its call's access mode, when it was submitted and decided."""

    access_mode: str
    submitted_at: datetime
    decided_at: datetime


@dataclass(frozen=True)
class FirstJob:
    """A project: its call's access mode, its acceptance, and its first job's start (None: none started)."""

    access_mode: str
    accepted_at: datetime | None
    first_start: datetime | None


@dataclass(frozen=True)
class Capacity:
    resource_id: int
    name: str
    site_id: int
    nodes: int
    gpus_per_node: int


@dataclass(frozen=True)
class Movement:
    """An allocation's real entries of one kind in one bucket (day ``YYYY-MM-DD`` or month ``YYYY-MM``)."""

    bucket: str
    kind: str
    amount: int


class ReportRepository(Protocol):
    """Read-only aggregates over the ledger and the tables around it (``services.reports``)."""

    def usage(self, dimension: Dimension, delivered: Delivered) -> UsageSums:
        """Delivered usage by any dimension except ``SECTOR``; organization dimensions: the lead's. Each
        charge is apportioned across the calendar months its run spans (``store.report_usage``)."""
        ...

    def scenario_exists(self, name: str) -> bool:
        """Whether a usage import or a what-if entry has this scenario name."""
        ...

    def scenarios(self) -> list[str]:
        """The scenario names of the usage imports, in order."""
        ...

    def usage_by_lead_organization(self, delivered: Delivered) -> list[OrganizationSums]: ...
    def projects_with_usage(self, delivered: Delivered) -> list[ProjectOrganizations]: ...
    def organizations_of_kinds(self, ids: Iterable[int], kinds: Iterable[str]) -> list[OrganizationSummary]: ...
    def decisions(self) -> list[DecisionSpan]: ...
    def first_jobs(self) -> list[FirstJob]: ...
    def capacities(self) -> list[Capacity]: ...
    def allocation_movements(self, allocation_id: int, by: str = "day") -> list[Movement]: ...


# ------------------------------------------------------------------ usage imports (bulk, checkpointed)


@dataclass(frozen=True)
class ImportCheckpoint:
    """An import's row: its state (``running`` | ``done``), records consumed, entries written, skips."""

    import_id: int
    state: str
    position: int
    imported: int
    skipped: dict[str, int] = field(default_factory=dict)


class UsageImportRepository(Protocol):
    """Imports of external traces into what-if scenarios: one row per file hash and scenario, holding the
    checkpoint, and the ledger rows (tuples in ``usage_rows.COLUMNS`` order) written in bulk."""

    @property
    def dialect(self) -> str:
        """The database's dialect name: how ``usage_rows`` spells datetimes."""
        ...

    def start(self, source: str, path: str, sha256: str, scenario: str, at: datetime) -> ImportCheckpoint:
        """The import's row, created as running if there is none."""
        ...

    def insert_entries(self, rows: Sequence[tuple[object, ...]]) -> int:
        """Insert ledger rows, ignoring any whose key is already there; returns how many were written."""
        ...

    def save(self, checkpoint: ImportCheckpoint, *, finished_at: datetime | None = None) -> None:
        """Store the checkpoint (and when the import finished, once it is ``done``)."""
        ...


# ------------------------------------------------------------------ POSIX identities (domain.posix)


@dataclass(frozen=True)
class PosixMembership:
    """One member of one project (what the directory's group memberships are derived from)."""

    user_id: int
    project_id: int


class PosixRepository(Protocol):
    """The users' and projects' POSIX identities, and the facts their desired directory state follows from."""

    def user(self, user_id: int) -> PosixUser | None: ...
    def group(self, project_id: int) -> PosixGroup | None: ...
    def users(self) -> dict[int, PosixUser]: ...
    def groups(self) -> dict[int, PosixGroup]: ...
    def add_user(self, user_id: int, user: PosixUser, at: datetime) -> None: ...
    def add_group(self, project_id: int, group: PosixGroup, at: datetime) -> None: ...
    def next_id(self, kind: str, ids: IdRange) -> int:
        """The next uid (``kind`` "uid") or gid ("gid") of the range, the counter locked until the transaction
        ends and moved on (ids only grow: none is handed out twice)."""
        ...

    def memberships(self, user_id: int | None = None) -> builtins.list[PosixMembership]: ...
    def allocation_terms(self, project_ids: Collection[int] | None = None) -> builtins.list[AllocationTerm]: ...
    def project_accounts(self) -> dict[int, str]:
        """Every project's scheduler account, by project id."""
        ...


# ------------------------------------------------------------------ single sign-on (domain.sso)


class SsoRepository(Protocol):
    """Links of providers' subjects to users, and the sign-ins under way (single use: compare-and-set)."""

    def link(self, provider: str, subject: str) -> SsoLink | None: ...
    def links_of(self, user_id: int) -> builtins.list[SsoLink]: ...
    def add_link(self, link: SsoLink) -> SsoLink: ...
    def touch_link(self, link_id: int, at: datetime, email: str | None) -> None: ...
    def add_request(self, request: SsoRequest) -> SsoRequest: ...
    def request_by_state(self, state_hash: str) -> SsoRequest | None: ...
    def request_by_code(self, code_hash: str) -> SsoRequest | None: ...
    def move(self, request_id: int, expected: RequestStatus, to: RequestStatus) -> bool:
        """``expected`` → ``to`` if the request is still ``expected`` (False: someone else moved it first)."""
        ...

    def save(self, request: SsoRequest) -> None:
        """Store the person, the user and the CLI's code of a request (by id)."""
        ...

    def redeem(self, request_id: int, at: datetime) -> bool:
        """Mark the CLI's code used, once (False: it was used already)."""
        ...

    def purge(self, before: datetime) -> int:
        """Forget sign-ins that expired before ``before``."""
        ...


# ------------------------------------------------------------------ project storage (domain.storage)


class StorageRepository(Repository[StoredFile], Protocol):
    """Stored files, uploads under way and quotas of the projects' storage."""

    def lock_project(self, project_id: int) -> bool:
        """Hold the project until the transaction ends (its storage changes one at a time); False: no project."""
        ...

    def file(self, project_id: int, name: str) -> StoredFile | None: ...
    def files(self, project_id: int, page: PageRequest, prefix: str | None = None) -> Page[StoredFile]: ...
    def under(self, project_id: int, folder: str, limit: int) -> builtins.list[StoredFile]: ...
    def clash(self, project_id: int, name: str) -> str | None:
        """A stored file where ``name`` needs a folder, or a file inside a folder called ``name``."""
        ...

    def usage(self, project_id: int) -> Usage: ...
    def delete_file(self, stored: StoredFile) -> None: ...
    def upload(self, upload_id: int) -> UploadSession | None: ...
    def add_upload(self, upload: UploadSession) -> UploadSession: ...
    def delete_upload(self, upload: UploadSession) -> None: ...
    def open_uploads(self, project_id: int) -> builtins.list[UploadSession]: ...
    def stale_uploads(self, before: datetime, limit: int = 500) -> builtins.list[UploadSession]: ...
    def upload_ids(self, ids: Sequence[int]) -> set[int]: ...
    def drop_uploads(self, ids: Sequence[int], before: datetime) -> None: ...
    def quota(self, project_id: int) -> StorageQuota | None: ...
    def save_quota(self, quota: StorageQuota) -> StorageQuota: ...


# ------------------------------------------------------------------ teams (domain.teams)
class TeamRepository(Protocol):
    """Invitations (used and revoked by compare-and-set) and partner organizations' consents."""

    def add_invitation(self, invitation: Invitation) -> Invitation: ...
    def invitation(self, invitation_id: int) -> Invitation | None: ...
    def invitation_by_hash(self, token_hash: str) -> Invitation | None: ...
    def open_invitations(
        self, now: datetime, *, project_id: int | None = None, organization_id: int | None = None
    ) -> builtins.list[Invitation]: ...
    def accept(self, invitation_id: int, user_id: int, at: datetime) -> bool: ...
    def revoke(self, invitation_id: int, at: datetime) -> bool: ...
    def consents(self, proposal_id: int) -> builtins.list[PartnerConsent]: ...
    def consents_of(self, organization_id: int) -> builtins.list[PartnerConsent]: ...
    def add_consent(self, consent: PartnerConsent) -> PartnerConsent: ...
    def answer(self, consent_id: int, state: ConsentState, user_id: int, at: datetime) -> None: ...
    def drop_consents(self, proposal_id: int, keep: set[int]) -> None: ...


# ------------------------------------------------------------------ accounts that hold (domain.accounts)
class AccountTokenRepository(Protocol):
    """The links e-mailed to verify an address or reset a password (used once, by compare-and-set)."""

    def add(self, token: AccountToken) -> AccountToken: ...
    def by_hash(self, token_hash: str) -> AccountToken | None: ...
    def use(self, token_id: int, at: datetime) -> bool:
        """Mark the token used, once (False: it was used already)."""
        ...

    def retire(self, user_id: int, purpose: AccountPurpose, at: datetime) -> None:
        """Every open link of that user and purpose stops working."""
        ...
