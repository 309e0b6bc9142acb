"""Reading a provider's claims (domain.sso) and a site's provider settings (aifactory.oidc.settings)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aifactory.config import Settings
from aifactory.domain.sso import ClaimMap, OidcIdentity, OrgRule, ProviderPolicy, identity_from_claims
from aifactory.oidc.settings import OidcProviderSettings

HELMHOLTZ = ProviderPolicy("helmholtz", "Helmholtz AAI", claims=ClaimMap(groups="eduperson_entitlement"))


def test_claims_are_read_through_the_claim_map() -> None:
    claims = {
        "sub": "abc",
        "email": " Kim@KIT.example ",
        "email_verified": "true",
        "name": "Kim",
        "eduperson_entitlement": "urn:geant:helmholtz.de:group:KIT#login.helmholtz.de urn:x",
    }
    kim = identity_from_claims(HELMHOLTZ, claims)
    assert kim == OidcIdentity(
        "helmholtz",
        "abc",
        "kim@kit.example",
        True,
        "Kim",
        ("urn:geant:helmholtz.de:group:KIT#login.helmholtz.de", "urn:x"),
    )


def test_an_address_counts_as_verified_only_when_the_provider_says_so_or_is_trusted() -> None:
    claims = {"sub": "abc", "email": "kim@kit.example"}
    assert not identity_from_claims(HELMHOLTZ, claims).email_verified
    assert not identity_from_claims(HELMHOLTZ, claims | {"email_verified": 1}).email_verified
    trusted = ProviderPolicy("myaccessid", "MyAccessID", trust_email=True)
    assert identity_from_claims(trusted, claims).email_verified
    assert not identity_from_claims(trusted, {"sub": "abc"}).email_verified  # no address: nothing to trust
    assert identity_from_claims(trusted, {"sub": "abc", "email": "k@x.example"}).name == "k"


def test_organization_rules_match_groups_and_verified_domains_in_order() -> None:
    policy = ProviderPolicy(
        "aai",
        "AAI",
        rules=(OrgRule("KIT", group="urn:geant:helmholtz.de:group:KIT*"), OrgRule("DESY", domain="desy.example")),
    )
    kit = OidcIdentity("aai", "1", "a@desy.example", True, "A", ("urn:geant:helmholtz.de:group:KIT#login",))
    assert policy.organization_for(kit) == "KIT"
    assert policy.organization_for(OidcIdentity("aai", "2", "b@it.desy.example", True, "B")) == "DESY"
    assert policy.organization_for(OidcIdentity("aai", "3", "b@desy.example", False, "B")) is None
    assert policy.organization_for(OidcIdentity("aai", "4", "b@notdesy.example", True, "B")) is None


def test_provider_settings_are_checked_when_the_settings_are_built() -> None:
    base = {"name": "kit", "issuer": "https://aai.example/oauth2", "client_id": "c"}
    assert OidcProviderSettings(**base).display_title == "kit"
    for wrong in (
        {"name": "Not A Slug"},
        {"scopes": ["email"]},
        {"issuer": "ftp://x"},
        {"organizations": [{"organization": "X"}]},
    ):
        with pytest.raises(ValidationError):
            OidcProviderSettings(**(base | wrong))
    with pytest.raises(ValidationError, match="unique"):
        Settings(oidc_providers=[base, base])
    with pytest.raises(ValidationError, match="AIFACTORY_PUBLIC_URL"):
        Settings(env="production", secret_key="s" * 40, oidc_providers=[base])
    with pytest.raises(ValidationError, match="https"):
        Settings(
            env="production",
            secret_key="s" * 40,
            public_url="https://f.example",
            oidc_providers=[base | {"issuer": "http://aai.example"}],
        )


def test_providers_come_from_one_json_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIFACTORY_OIDC_PROVIDERS",
        '[{"name": "helmholtz", "title": "Helmholtz AAI", "issuer": "https://login.helmholtz.de/oauth2", '
        '"client_id": "factory", "client_secret": "s3cret", "claims": {"groups": "eduperson_entitlement"}, '
        '"organizations": [{"group": "urn:geant:helmholtz.de:group:KIT*", "organization": "KIT"}]}]',
    )
    (helmholtz,) = Settings().oidc_providers
    assert helmholtz.policy().claims.groups == "eduperson_entitlement"
    assert helmholtz.client_secret is not None and "s3cret" not in repr(helmholtz)
