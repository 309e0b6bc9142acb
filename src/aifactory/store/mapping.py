"""Maps the plain domain dataclasses onto the tables (SQLAlchemy imperative mapping), once per process."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import QueryableAttribute, class_mapper, registry, relationship

from ..domain.attachments import ProposalAttachment
from ..domain.audit import AuditEvent
from ..domain.calls import Call
from ..domain.catalog import CatalogItem, CatalogLink
from ..domain.identity import ApiToken, Organization, User, WebSession
from ..domain.jobs.model import Job, JobEvent
from ..domain.ledger import LedgerEntry
from ..domain.notifications import Notification, Preference, Recipient
from ..domain.projects import Allocation, Project, ProjectMember
from ..domain.proposals import Proposal, ProposalPartner
from ..domain.reviews import Review, ReviewAssignment
from ..domain.sites import Resource, Site
from ..domain.storage import StorageQuota, StoredFile, UploadSession
from . import tables as t

mapper_registry = registry(metadata=t.metadata)
_mapped = False


def map_entities() -> None:
    """Idempotent: domain classes stay importable and usable without the store."""
    global _mapped
    if _mapped:
        return
    m = mapper_registry.map_imperatively
    m(Organization, t.organizations)
    m(User, t.users)
    m(ApiToken, t.api_tokens)
    m(WebSession, t.web_sessions)
    m(Resource, t.resources)
    m(
        Site,
        t.sites,
        properties={
            "resources": relationship(Resource, order_by=t.resources.c.id, cascade="all, delete-orphan"),
        },
    )
    m(Call, t.calls)
    m(ProposalPartner, t.proposal_partners)
    m(
        Proposal,
        t.proposals,
        version_id_col=t.proposals.c.version,
        properties={
            "partners": relationship(ProposalPartner, cascade="all, delete-orphan", lazy="selectin"),
        },
    )
    m(ReviewAssignment, t.review_assignments)
    m(ProposalAttachment, t.proposal_attachments)
    m(Review, t.reviews)
    m(ProjectMember, t.project_members)
    m(Allocation, t.allocations)
    m(
        Project,
        t.projects,
        properties={
            "members": relationship(
                ProjectMember, cascade="all, delete-orphan", lazy="selectin", order_by=t.project_members.c.added_at
            ),
            "allocations": relationship(
                Allocation, cascade="all, delete-orphan", lazy="selectin", order_by=t.allocations.c.id
            ),
        },
    )
    m(AuditEvent, t.audit_events)
    m(JobEvent, t.job_events)
    m(
        Job,
        t.jobs,
        properties={
            "events": relationship(JobEvent, cascade="all, delete-orphan", order_by=t.job_events.c.id, lazy="selectin"),
        },
    )
    m(LedgerEntry, t.ledger_entries)
    m(Notification, t.notifications)
    m(Recipient, t.notification_recipients)
    m(Preference, t.notification_preferences)
    m(CatalogItem, t.catalog_items)
    m(CatalogLink, t.catalog_links)
    m(StoredFile, t.storage_files)
    m(UploadSession, t.storage_uploads)
    m(StorageQuota, t.storage_quotas)
    _mapped = True


def relationship_of(cls: type[Any], name: str) -> QueryableAttribute[Any]:
    """A mapped class's relationship, for loader options: the domain class declares the attribute as a plain
    value (a list), so mypy cannot see ``Job.events`` as the query attribute it is once mapped."""
    attribute: QueryableAttribute[Any] = class_mapper(cls).relationships[name].class_attribute
    return attribute
