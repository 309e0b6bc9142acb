"""The account-linking rules of single sign-on (services.sso, services.sso_flow) on both databases, without a
provider: the claims a provider vouched for go in, users and links come out."""

from __future__ import annotations

import pytest

from aifactory.domain.enums import OrgKind
from aifactory.domain.errors import Conflict, Unauthorized
from aifactory.domain.sso import (
    AccountInactive,
    MissingEmail,
    OidcIdentity,
    OrgRule,
    ProviderPolicy,
    StaleSignIn,
    UnverifiedEmail,
    s256,
)
from aifactory.services import identity, sso, sso_flow
from aifactory.services.context import Actor
from aifactory.services.ports import FixedClock
from aifactory.store.uow import SqlUnitOfWorkFactory

KEY = "test-key"
POLICY = ProviderPolicy(
    "aai", "AAI", rules=(OrgRule("Uni Nord", group="urn:x:group:nord*"), OrgRule("Uni Nord", domain="uni-nord.example"))
)


def who(sub: str = "s-1", email: str | None = "kim@uni-nord.example", verified: bool = True, **kw) -> OidcIdentity:
    return OidcIdentity("aai", sub, email, verified, kw.pop("name", "Kim Lee"), tuple(kw.pop("groups", ())))


@pytest.fixture
def org_id(uow_factory: SqlUnitOfWorkFactory, clock: FixedClock) -> int:
    with uow_factory() as uow:
        org, _, _ = identity.register(
            uow,
            clock,
            organization_name="Uni Nord",
            kind=OrgKind.ACADEMIA,
            country="DE",
            sectors=[],
            email="admin@uni-nord.example",
            name="Admin",
        )
    assert org.id is not None
    return org.id


def sign_in(uow_factory: SqlUnitOfWorkFactory, clock: FixedClock, person: OidcIdentity):  # noqa: ANN201
    with uow_factory() as uow:
        return sso.sign_in(uow, clock, POLICY, person)


def test_a_rule_places_a_new_person_and_the_subject_finds_them_again(uow_factory, clock, org_id) -> None:
    kim = sign_in(uow_factory, clock, who(email="kim@lab.uni-nord.example"))  # a subdomain of the rule's
    assert kim is not None and kim.organization_id == org_id and not kim.is_org_admin
    assert kim.email_verified  # the provider verified the address
    again = sign_in(uow_factory, clock, who(email="kim.lee@elsewhere.example", verified=False))
    assert again is not None and again.id == kim.id
    with uow_factory(write=False) as uow:
        (link,) = uow.sso.links_of(kim.stored_id)
        assert link.email == "kim.lee@elsewhere.example" and uow.users.by_email("kim.lee@elsewhere.example") is None


def test_a_group_rule_with_a_prefix_places_a_person_whatever_their_address(uow_factory, clock, org_id) -> None:
    person = who(sub="g-1", email="g@gmail.example", groups=["urn:x:group:nord:ai-lab#aai"])
    placed = sign_in(uow_factory, clock, person)
    assert placed is not None and placed.organization_id == org_id


def test_a_verified_address_links_the_existing_account(uow_factory, clock, org_id) -> None:
    with uow_factory(write=False) as uow:
        assert not uow.users.by_email("admin@uni-nord.example").email_verified  # a sign-up, link not opened
    linked = sign_in(uow_factory, clock, who(sub="adm", email="admin@uni-nord.example"))
    assert linked is not None and linked.email == "admin@uni-nord.example" and linked.is_org_admin
    assert linked.email_verified  # the provider's verified address verifies the account


@pytest.mark.parametrize("existing", [True, False])
def test_an_unverified_or_missing_address_links_nothing_and_makes_no_one(uow_factory, clock, org_id, existing) -> None:
    email = "admin@uni-nord.example" if existing else "new@uni-nord.example"
    with pytest.raises(UnverifiedEmail) as refused:
        sign_in(uow_factory, clock, who(sub="u-1", email=email, verified=False))
    assert "confirm" in str(refused.value)
    with pytest.raises(MissingEmail):
        sign_in(uow_factory, clock, who(sub="u-2", email=None))
    with uow_factory(write=False) as uow:
        assert uow.sso.link("aai", "u-1") is None and uow.users.by_email("new@uni-nord.example") is None


def test_no_rule_leaves_the_organization_to_the_person(uow_factory, clock, org_id) -> None:
    person = who(sub="n-1", email="nia@startup.example", name="Nia")
    assert sign_in(uow_factory, clock, person) is None
    with uow_factory() as uow:
        nia = sso.join_with_new_organization(
            uow, clock, person, organization_name="Nia AI", kind=OrgKind.STARTUP, country="FR", sectors=[], name=""
        )
    assert nia.is_org_admin and nia.name == "Nia" and nia.email_verified
    with uow_factory() as uow, pytest.raises(Conflict):
        sso.join_with_new_organization(
            uow, clock, person, organization_name="Nia AI 2", kind=OrgKind.STARTUP, country="FR", sectors=[], name=""
        )
    assert sign_in(uow_factory, clock, person).id == nia.id


def test_a_rule_naming_no_existing_organization_places_no_one(uow_factory, clock) -> None:
    assert sign_in(uow_factory, clock, who(sub="r-1")) is None  # "Uni Nord" was never registered here


def test_a_deactivated_account_is_refused(uow_factory, clock, org_id) -> None:
    kim = sign_in(uow_factory, clock, who())
    assert kim is not None
    with uow_factory() as uow:
        operator, _ = identity.bootstrap_operator(uow, clock, email="op@factory.example", name="Op")
    with uow_factory() as uow:
        identity.set_roles(uow, clock, Actor(operator), kim.stored_id, active=False)
    with pytest.raises(AccountInactive):
        sign_in(uow_factory, clock, who())


def test_a_sign_in_is_taken_once_in_the_browser_that_started_it(uow_factory, clock) -> None:
    with uow_factory() as uow:
        started = sso_flow.start(uow, clock, KEY, provider="aai")
    for state, cookie, provider in ((started.state, "other", "aai"), (started.state, started.state, "other")):
        with uow_factory() as uow, pytest.raises(StaleSignIn):
            sso_flow.take(uow, clock, provider=provider, state=state, cookie=cookie)
    with uow_factory() as uow:
        sso_flow.take(uow, clock, provider="aai", state=started.state, cookie=started.state)
    with uow_factory() as uow, pytest.raises(StaleSignIn):
        sso_flow.take(uow, clock, provider="aai", state=started.state, cookie=started.state)
    assert started.verifier == sso_flow.secrets_of(KEY, started.state).verifier != started.nonce


def test_a_sign_in_expires(uow_factory, clock) -> None:
    with uow_factory() as uow:
        started = sso_flow.start(uow, clock, KEY, provider="aai")
    clock.advance(minutes=11)
    with uow_factory() as uow, pytest.raises(StaleSignIn):
        sso_flow.take(uow, clock, provider="aai", state=started.state, cookie=started.state)


def test_the_cli_code_needs_the_verifier_and_works_once(uow_factory, clock, org_id) -> None:
    verifier = "v" * 50
    cli = sso_flow.CliRequest(port=50000, challenge=s256(verifier), state="cli-state-0123456789")
    with uow_factory() as uow:
        started = sso_flow.start(uow, clock, KEY, provider="aai", cli=cli)
    with uow_factory() as uow:
        taken = sso_flow.take(uow, clock, provider="aai", state=started.state, cookie=started.state)
    with uow_factory() as uow:
        outcome = sso_flow.finish(uow, clock, POLICY, taken, who())
    assert outcome.code is not None and outcome.user is not None
    for wrong in ("w" * 50, verifier):  # another verifier; then the right one, twice
        with uow_factory() as uow:
            if wrong != verifier:
                with pytest.raises(Unauthorized):
                    sso_flow.redeem(uow, clock, code=outcome.code, verifier=wrong, ttl_days=5)
            else:
                assert sso_flow.redeem(uow, clock, code=outcome.code, verifier=wrong, ttl_days=5).secret
    with uow_factory() as uow, pytest.raises(Unauthorized):
        sso_flow.redeem(uow, clock, code=outcome.code, verifier=verifier, ttl_days=5)
