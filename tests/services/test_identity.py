"""Registration, users and API tokens (stored hashed; expiry and revocation enforced)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from aifactory.domain.enums import OrgKind
from aifactory.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from aifactory.services import identity
from aifactory.services.context import Actor
from aifactory.store import tables


def register(world, name="Backhaus Kiel", email="anna@backhaus.example", country="de", **kw):
    return world.run(
        identity.register,
        organization_name=name,
        kind=kw.pop("kind", OrgKind.SME),
        country=country,
        sectors=kw.pop("sectors", ["food"]),
        email=email,
        name="Anna",
        **kw,
    )


def test_register_creates_organization_admin_and_a_working_token(world):
    org, user, tok = register(world)
    assert (org.name, org.kind, org.country, org.sectors) == ("Backhaus Kiel", OrgKind.SME, "DE", ["food"])
    assert user.organization_id == org.id and user.is_org_admin and not user.is_operator
    assert tok.secret.startswith("aif_")
    authed, _ = world.read(identity.authenticate, world.clock, tok.secret)
    assert authed.id == user.id
    assert world.actions()[-2:] == ["organization.registered", "user.created"]


@pytest.mark.parametrize(
    ("name", "email"), [("backhaus kiel", "other@x.example"), ("Other GmbH", "ANNA@backhaus.example")]
)
def test_organization_names_and_emails_are_unique_and_nothing_is_half_written(world, name, email):
    register(world)
    before = world.snapshot_counts()
    with pytest.raises(Conflict):
        register(world, name=name, email=email)
    assert world.snapshot_counts() == before


@pytest.mark.parametrize(
    ("country", "kw", "field"),
    [
        ("ZZ", {}, "organization.country"),
        ("DEU", {}, "organization.country"),
        ("DE", {"sectors": ["bakery"]}, "sectors"),
        ("DE", {"email": "not-an-email"}, "email"),
    ],
)
def test_registration_input_is_validated(world, country, kw, field):
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput) as exc:
        register(world, country=country, **kw)
    assert exc.value.errors[0].field == field
    assert world.snapshot_counts() == before


def test_the_database_never_contains_the_token_secret(world, uow_factory):
    _org, user, tok = register(world)
    extra = world.run(identity.create_token, Actor(user), name="laptop", ttl_days=30)
    with uow_factory(write=False) as uow:
        stmt = select(tables.api_tokens).where(tables.api_tokens.c.user_id == user.id)
        rows = uow.session.execute(stmt).mappings().all()
        dump = [str(dict(r)) for r in uow.session.execute(select(tables.audit_events)).mappings()]
    assert {r["token_hash"] for r in rows} == {
        hashlib.sha256(s.encode()).hexdigest() for s in (tok.secret, extra.secret)
    }
    for secret in (tok.secret, extra.secret):
        assert not any(secret in str(dict(r)) for r in rows)
        assert not any(secret in d for d in dump)
        assert secret[:10] in {r["prefix"] for r in rows}


@pytest.mark.parametrize("secret", ["", "garbage", "aif_" + "x" * 43, "aif_" + "y" * 300])
def test_unknown_tokens_are_unauthorized(world, secret):
    with pytest.raises(Unauthorized):
        world.read(identity.authenticate, world.clock, secret)


def test_a_token_expires_when_the_clock_passes_its_ttl(world):
    _org, _user, tok = register(world, ttl_days=10)
    world.clock.advance(days=9, hours=23)
    world.read(identity.authenticate, world.clock, tok.secret)
    world.clock.advance(hours=1)
    with pytest.raises(Unauthorized, match="expired"):
        world.read(identity.authenticate, world.clock, tok.secret)


def test_a_revoked_token_is_unauthorized(world):
    _org, user, tok = register(world)
    revoked = world.run(identity.revoke_token, Actor(user), tok.token.id)
    assert revoked.revoked_at == world.clock.now()
    with pytest.raises(Unauthorized):
        world.read(identity.authenticate, world.clock, tok.secret)
    assert world.actions("apitoken", tok.token.id) == ["token.revoked"]


def test_deactivated_users_cannot_authenticate(world):
    _org, user, tok = register(world)
    world.run(identity.set_roles, world.operator, user.id, active=False)
    with pytest.raises(Unauthorized, match="deactivated"):
        world.read(identity.authenticate, world.clock, tok.secret)


def test_only_the_owner_or_an_operator_revokes_a_token(world):
    _o, anna, anna_tok = register(world)
    _o, _u, other_tok = register(world, name="Other", email="eve@other.example")
    with pytest.raises(NotFound):
        world.run(identity.revoke_token, Actor(anna), other_tok.token.id)
    world.run(identity.revoke_token, world.operator, anna_tok.token.id)


@pytest.mark.parametrize("ttl", [0, 367])
def test_token_lifetime_is_bounded(world, ttl):
    _o, user, _t = register(world)
    with pytest.raises(InvalidInput) as exc:
        world.run(identity.create_token, Actor(user), name="x", ttl_days=ttl)
    assert exc.value.errors[0].field == "ttl_days"


def test_operators_create_reviewers_and_org_admins_create_plain_colleagues(world, bakery):
    reviewer = world.reviewer()
    assert reviewer.user.is_reviewer and reviewer.user.organization_id is None
    org_id = bakery.user.organization_id
    colleague, tok = world.run(
        identity.create_user, bakery, email="ben@backhaus.example", name="Ben", organization_id=org_id
    )
    assert colleague.organization_id == org_id and not colleague.is_org_admin
    assert world.read(identity.authenticate, world.clock, tok.secret)[0].id == colleague.id


@pytest.mark.parametrize(
    ("org", "roles"),
    [
        ("other", {}),  # another organization
        (None, {}),  # no organization at all
        ("own", {"is_reviewer": True}),  # roles only operators grant
        ("own", {"is_operator": True}),
    ],
)
def test_org_admins_cannot_go_beyond_their_organization(world, bakery, outsider, org, roles):
    org_id = {"own": bakery.user.organization_id, "other": outsider.user.organization_id, None: None}[org]
    before = world.snapshot_counts()
    with pytest.raises(Forbidden):
        world.run(identity.create_user, bakery, email="x@y.example", name="X", organization_id=org_id, **roles)
    assert world.snapshot_counts() == before


def test_plain_users_cannot_create_users(world, bakery):
    ben, _ = world.run(
        identity.create_user,
        bakery,
        email="ben@backhaus.example",
        name="Ben",
        organization_id=bakery.user.organization_id,
    )
    with pytest.raises(Forbidden):
        world.run(
            identity.create_user,
            Actor(ben),
            email="c@backhaus.example",
            name="C",
            organization_id=bakery.user.organization_id,
        )


def test_create_user_checks_email_and_organization(world):
    with pytest.raises(Conflict):
        world.user("op@jaif.example", None)
    with pytest.raises(NotFound):
        world.user("x@y.example", 999)


def test_operators_keep_their_own_role(world):
    with pytest.raises(Conflict):
        world.run(identity.set_roles, world.operator, world.operator.id, is_operator=False)
    with pytest.raises(Forbidden):
        world.run(identity.set_roles, world.org("X"), world.operator.id, is_reviewer=True)


def test_users_are_listed_within_the_own_organization(world, bakery, outsider):
    from aifactory.domain.access import PageRequest

    page = world.read(identity.list_users, bakery, PageRequest())
    assert [u.id for u in page.items] == [bakery.id]
    with pytest.raises(Forbidden):
        world.read(identity.list_users, bakery, PageRequest(), organization_id=outsider.user.organization_id)
    assert world.read(identity.list_users, world.operator, PageRequest()).total == 3
