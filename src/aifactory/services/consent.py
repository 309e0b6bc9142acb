"""Partner consent: a proposal naming a partner organization is submitted only once that organization's admin
confirmed. Requests go out (``consent-requested``, to the partner's admins) when a draft names a partner; the
applicant sees each partner's answer. Organizations are found by exact name or id, never listed to applicants."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.access import Page, PageRequest, ProposalScope
from ..domain.errors import NotFound
from ..domain.identity import Organization
from ..domain.proposals import Proposal
from ..domain.teams import ConsentState, PartnerConsent, PartnersNotConfirmed
from .audit import record
from .context import Actor, found
from .notifications import About, notify_org_admins
from .ports import Clock, UnitOfWork

MAX_KNOWN = 500


@dataclass(frozen=True)
class ConsentView:
    consent: PartnerConsent
    proposal_title: str
    lead_organization: str


def request_missing(uow: UnitOfWork, clock: Clock, p: Proposal) -> list[PartnerConsent]:
    """Ask each named partner that was not asked yet (in the caller's transaction); forget the answers of
    partners no longer named. Returns every partner's consent."""
    partners = set(p.partner_organization_ids)
    uow.teams.drop_consents(p.stored_id, keep=partners)
    known = {c.organization_id for c in uow.teams.consents(p.stored_id)}
    lead = found(uow.organizations.get(p.lead_organization_id), "organization", p.lead_organization_id)
    for org_id in sorted(partners - known):
        uow.teams.add_consent(PartnerConsent(proposal_id=p.stored_id, organization_id=org_id, requested_at=clock.now()))
        notify_org_admins(
            uow,
            clock,
            org_id,
            "consent-requested",
            {"organization": lead.name, "title": p.title, "path": "/organization"},
            dedup_key=f"consent-requested-{p.id}-{org_id}",
            about=About(proposal_id=p.stored_id),
        )
    return uow.teams.consents(p.stored_id)


def require_confirmed(uow: UnitOfWork, clock: Clock, p: Proposal) -> None:
    """Before a submission: every partner confirmed, else a conflict naming who has not (asked now if need be:
    the requests are committed even though the submission is refused)."""
    before = {c.organization_id for c in uow.teams.consents(p.stored_id)}
    consents = request_missing(uow, clock, p)
    waiting = [c for c in consents if c.state is not ConsentState.CONFIRMED]
    if not waiting:
        return
    if {c.organization_id for c in consents} != before:
        uow.commit()
    names = uow.organizations.names([c.organization_id for c in waiting])
    states = ", ".join(f"{names.get(c.organization_id, c.organization_id)} ({c.state.value})" for c in waiting)
    raise PartnersNotConfirmed(f"the partner organizations must confirm first: {states}")


def for_proposal(uow: UnitOfWork, p: Proposal) -> list[PartnerConsent]:
    """The partners' answers, as far as they were asked (the caller checked the proposal is visible)."""
    current = set(p.partner_organization_ids)
    return [c for c in uow.teams.consents(p.stored_id) if c.organization_id in current]


def requests_for(uow: UnitOfWork, actor: Actor) -> list[ConsentView]:
    """The consents asked of the actor's organization (its admins), newest first."""
    org_id = actor.user.organization_id
    if org_id is None or not actor.user.is_org_admin:
        return []
    views = []
    for c in uow.teams.consents_of(org_id):
        p = uow.proposals.get(c.proposal_id)
        if p is None or c.organization_id not in p.partner_organization_ids:
            continue
        lead = uow.organizations.get(p.lead_organization_id)
        views.append(ConsentView(c, p.title, lead.name if lead else ""))
    return views


def answer(uow: UnitOfWork, clock: Clock, actor: Actor, consent_id: int, *, confirm: bool) -> PartnerConsent:
    """The partner organization's admin confirms or declines (and may change their mind while it is a draft)."""
    consent = next((c for c in requests_for(uow, actor) if c.consent.id == consent_id), None)
    if consent is None:
        raise NotFound(f"consent request {consent_id} not found")
    state = ConsentState.CONFIRMED if confirm else ConsentState.DECLINED
    uow.teams.answer(consent_id, state, actor.id, clock.now())
    before = {"state": consent.consent.state.value}
    consent.consent.state, consent.consent.answered_at = state, clock.now()
    record(uow, clock, actor, "partner.consent", consent.consent, before, {"state": state.value})
    uow.commit()
    return consent.consent


def find_organizations(
    uow: UnitOfWork,
    actor: Actor,
    page: PageRequest,
    *,
    q: str | None = None,
    kind: str | None = None,
    country: str | None = None,
) -> Page[Organization]:
    """Operators search and list every organization. Others find one by its exact name or id (``q``), and
    otherwise see only the organizations they already work with (their own, and those of their proposals)."""
    if actor.is_operator:
        return uow.organizations.list(page, kind=kind, country=country, q=q)
    if q:
        match = find_partner(uow, q)
        found_orgs = [match] if match is not None else []
    else:
        found_orgs = _known(uow, actor)
    chosen = sorted(
        (o for o in found_orgs if kind in (None, o.kind) and (country is None or o.country == country.upper())),
        key=lambda o: o.name,
    )
    items = chosen[page.offset : page.offset + page.limit]
    return Page(items=items, total=len(chosen), limit=page.limit, offset=page.offset)


def find_partner(uow: UnitOfWork, text: str) -> Organization | None:
    """The organization with exactly this name (case aside) or this id."""
    text = text.strip()
    if text.isdigit() and len(text) < 10:
        return uow.organizations.get(int(text))
    return uow.organizations.by_name(text) if text else None


def _known(uow: UnitOfWork, actor: Actor) -> list[Organization]:
    org_id = actor.user.organization_id
    if org_id is None:
        return []
    proposals = uow.proposals.list(PageRequest(limit=MAX_KNOWN, offset=0), ProposalScope(organization_id=org_id)).items
    ids = {org_id} | {i for p in proposals for i in p.organization_ids}
    return [o for o in (uow.organizations.get(i) for i in sorted(ids)) if o is not None]
