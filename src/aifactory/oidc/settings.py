"""How an operator describes an OpenID Connect provider (``AIFACTORY_OIDC_PROVIDERS``, a JSON list; see
docs/sso.md): validated when the settings are built, turned into the domain's ``ProviderPolicy``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ..domain.sso import PROVIDER_NAME, ClaimMap, OrgRule, ProviderPolicy


class OrgRuleSettings(BaseModel):
    """``{"group": "urn:…:group:kit", "organization": "KIT"}`` or ``{"domain": "kit.edu", "organization": …}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    organization: str = Field(min_length=1, max_length=200)
    group: str | None = Field(default=None, min_length=1, max_length=500)
    domain: str | None = Field(default=None, pattern=r"^@?[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")

    @model_validator(mode="after")
    def _one_condition(self) -> OrgRuleSettings:
        if (self.group is None) == (self.domain is None):
            raise ValueError("an organization rule has either 'group' or 'domain'")
        return self


class ClaimSettings(BaseModel):
    """Which claim carries what (e.g. ``"groups": "eduperson_entitlement"`` for Helmholtz AAI)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str = "email"
    email_verified: str = "email_verified"
    name: str = "name"
    groups: str = "groups"


class OidcProviderSettings(BaseModel):
    """One provider. ``client_secret`` None: a public client (PKCE only, no client authentication)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=PROVIDER_NAME, description="short name in URLs and `aifactory login --sso --provider`")
    title: str = Field(default="", max_length=80, description="shown on the button: Sign in with <title>")
    issuer: str = Field(pattern=r"^https?://[^\s?#]+$", description="the issuer URL (discovery is below it)")
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: SecretStr | None = None
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    claims: ClaimSettings = ClaimSettings()
    trust_email: bool = Field(default=False, description="the provider releases only verified addresses")
    organizations: list[OrgRuleSettings] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, scopes: list[str]) -> list[str]:
        if "openid" not in scopes:
            raise ValueError("the scopes must include 'openid'")
        if any(not s or " " in s for s in scopes):
            raise ValueError("scopes are single words")
        return scopes

    @property
    def display_title(self) -> str:
        return self.title or self.name

    def policy(self) -> ProviderPolicy:
        c = self.claims
        return ProviderPolicy(
            name=self.name,
            title=self.display_title,
            claims=ClaimMap(c.email, c.email_verified, c.name, c.groups),
            trust_email=self.trust_email,
            rules=tuple(OrgRule(r.organization, r.group, r.domain) for r in self.organizations),
        )


def check_providers(providers: list[OidcProviderSettings], *, production: bool, public_url: str | None) -> None:
    """Names unique; in production HTTPS issuers and a public URL (the redirect URIs are built on it)."""
    names = [p.name for p in providers]
    if len(set(names)) != len(names):
        raise ValueError(f"AIFACTORY_OIDC_PROVIDERS: provider names must be unique ({', '.join(names)})")
    if production and providers:
        plain = [p.name for p in providers if not p.issuer.startswith("https://")]
        if plain:
            raise ValueError(f"AIFACTORY_OIDC_PROVIDERS: issuers must use https in production ({', '.join(plain)})")
        if not public_url or not public_url.startswith("https://"):
            raise ValueError("single sign-on in production needs AIFACTORY_PUBLIC_URL (https://…)")
