"""The catalog's repository: items (visibility scopes become WHERE clauses) and their provenance links."""

from __future__ import annotations

from sqlalchemy import String, and_, cast, false, func, or_, select

from ..domain.access import Page, PageRequest
from ..domain.catalog import Approval, CatalogItem, CatalogKind, CatalogLink, CatalogScope, Relation, Visibility
from . import tables as t
from .repositories import Repository


class CatalogRepository(Repository[CatalogItem]):
    entity = CatalogItem

    def with_slug(self, kind: CatalogKind, slug: str) -> list[CatalogItem]:
        """Every item of that kind and slug (one per owner organization at most), oldest first."""
        c = t.catalog_items.c
        return list(self.session.scalars(select(CatalogItem).where(c.kind == kind, c.slug == slug).order_by(c.id)))

    def search(
        self,
        page: PageRequest,
        scope: CatalogScope,
        *,
        q: str | None = None,
        kind: CatalogKind | None = None,
        tags: tuple[str, ...] = (),
        approval: Approval | None = None,
    ) -> Page[CatalogItem]:
        """Visible items (listed ones: public and approved, and the scope's organization's) matching every
        filter; ``q`` in the title, summary or tags (case-insensitive)."""
        c = t.catalog_items.c
        stmt = select(CatalogItem).order_by(c.kind, c.slug, c.id)
        if not scope.everything:
            mine = c.owner_organization_id == scope.organization_id if scope.organization_id is not None else false()
            stmt = stmt.where(or_(and_(c.visibility == Visibility.PUBLIC, c.approval == Approval.APPROVED), mine))
        if kind is not None:
            stmt = stmt.where(c.kind == kind)
        if approval is not None:
            stmt = stmt.where(c.approval == approval)
        tag_text = func.lower(cast(t.catalog_items.c.tags, String))
        for tag in tags:  # tags are stored as a JSON list of slugs: '"tag"' matches one whole tag
            stmt = stmt.where(tag_text.contains(f'"{tag.lower()}"', autoescape=True))
        if q:
            needle = q.lower()
            stmt = stmt.where(
                or_(
                    func.lower(t.catalog_items.c.title).contains(needle, autoescape=True),
                    func.lower(t.catalog_items.c.summary).contains(needle, autoescape=True),
                    tag_text.contains(needle, autoescape=True),
                )
            )
        return self._page(stmt, page)

    def add_link(self, link: CatalogLink) -> CatalogLink:
        self.session.add(link)
        self.session.flush()
        return link

    def links_of(self, item_id: int) -> list[CatalogLink]:
        """Links from or to the item, oldest first."""
        stmt = select(CatalogLink).where(
            or_(t.catalog_links.c.from_item_id == item_id, t.catalog_links.c.to_item_id == item_id)
        )
        return list(self.session.scalars(stmt.order_by(t.catalog_links.c.id)))

    def links_to_job(self, job_id: int, relation: Relation) -> list[CatalogLink]:
        stmt = select(CatalogLink).where(t.catalog_links.c.job_id == job_id, t.catalog_links.c.relation == relation)
        return list(self.session.scalars(stmt.order_by(t.catalog_links.c.id)))

    def find_link(
        self, from_item_id: int, relation: Relation, *, to_item_id: int | None = None, job_id: int | None = None
    ) -> CatalogLink | None:
        c = t.catalog_links.c
        stmt = select(CatalogLink).where(
            c.from_item_id == from_item_id,
            c.relation == relation,
            c.to_item_id.is_(None) if to_item_id is None else c.to_item_id == to_item_id,
            c.job_id.is_(None) if job_id is None else c.job_id == job_id,
        )
        return self.session.scalar(stmt)
