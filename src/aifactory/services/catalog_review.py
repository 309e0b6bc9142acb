"""Public catalog items wait for an operator: a non-operator's public item is listed (home page, search,
stories) only once an operator approved it; until then, and after a rejection, only its organization (which
sees the state and the reason) and operators see it. Slugs are unique per owner organization and among the
listed items, so no answer about a slug tells anything about another organization's unlisted items."""

from __future__ import annotations

from ..domain.access import Page, PageRequest
from ..domain.catalog import Approval, CatalogItem, CatalogKind, CatalogScope, Visibility
from ..domain.errors import Conflict, FieldError, InvalidInput
from .audit import record
from .context import Actor, found
from .ports import Clock, UnitOfWork


def first_approval(actor: Actor, visibility: Visibility) -> Approval:
    """A public item waits for an operator's approval unless an operator published it."""
    return Approval.PENDING if visibility is Visibility.PUBLIC and not actor.is_operator else Approval.APPROVED


def check_slug_free(uow: UnitOfWork, kind: CatalogKind, slug: str, owner: int, visibility: Visibility) -> None:
    """Taken means: by the publisher's own organization, or (for a public item) by a listed item, which
    everyone sees anyway. Another organization's private or pending item never makes a slug taken, so the
    answer confirms nothing about it."""
    for item in uow.catalog.with_slug(kind, slug):
        if item.owned_by(owner) or (visibility is Visibility.PUBLIC and item.listed):
            whose = "your organization already has" if item.owned_by(owner) else "the catalog already lists"
            raise Conflict(
                f"slug: {whose} a {kind.value} named {slug!r}; choose another slug",
                [FieldError("slug", "already taken")],
            )


def pending(uow: UnitOfWork, actor: Actor, page: PageRequest) -> Page[CatalogItem]:
    """The public items waiting for approval, oldest slug order (operators only)."""
    actor.require_operator()
    return uow.catalog.search(page, CatalogScope(everything=True), approval=Approval.PENDING)


def review_item(
    uow: UnitOfWork, clock: Clock, actor: Actor, item_id: int, *, approve: bool, reason: str = ""
) -> CatalogItem:
    """An operator approves a waiting public item (it is listed at once) or rejects it with a reason (its
    organization sees the reason). Approving needs the slug to be free among the listed items."""
    actor.require_operator()
    item = found(uow.catalog.get(item_id), "catalog item", item_id)
    if item.visibility is not Visibility.PUBLIC or item.approval is not Approval.PENDING:
        raise Conflict(f"catalog item {item_id} is not waiting for approval (it is {item.approval.value})")
    reason = reason.strip()
    if not approve and not reason:
        raise InvalidInput.on("reason", "say why the item is rejected (its organization reads it)")
    if approve and any(other.listed for other in uow.catalog.with_slug(item.kind, item.slug)):
        raise Conflict(
            f"slug: the catalog already lists a {item.kind.value} named {item.slug!r}; ask the publisher to "
            "publish it under another slug",
            [FieldError("slug", "already listed")],
        )
    item.approval = Approval.APPROVED if approve else Approval.REJECTED
    item.approval_reason = None if approve else reason[:2000]
    item.decided_by, item.decided_at = actor.id, clock.now()
    action = "catalog.approved" if approve else "catalog.rejected"
    record(uow, clock, actor, action, item, None, {"approval": item.approval.value, "reason": item.approval_reason})
    uow.commit()
    return item
