"""Meta and identity: health, registration, the caller, tokens, organizations and users."""

from __future__ import annotations

from collections.abc import Sequence

from .base import ClientBase, Json, Page, without_none


class IdentityMixin(ClientBase):
    """Who is calling, their tokens, and the organizations and users they may see."""

    def health(self) -> Json:
        return self._get("/health")

    def register(
        self,
        *,
        organization_name: str,
        kind: str,
        country: str,
        email: str,
        name: str,
        sectors: Sequence[str] = (),
        password: str | None = None,
    ) -> Json:
        """A new organization and its first user (with a password to sign in with later, if given); the answer
        holds ``organization``, ``user`` and ``token``."""
        user: dict[str, str] = {"email": email, "name": name} | ({"password": password} if password else {})
        payload = {
            "organization": {"name": organization_name, "kind": kind, "country": country, "sectors": list(sectors)},
            "user": user,
        }
        return self._call("POST", "/register", payload)

    def token_for_password(self, email: str, password: str, *, name: str = "cli", ttl_days: int = 90) -> Json:
        """A new token for an e-mail and password (no token needed); the secret is in ``token``."""
        body = {"email": email, "password": password, "name": name, "ttl_days": ttl_days}
        return self._call("POST", "/auth/token", body)

    def me(self) -> Json:
        return self._get("/me")

    def list_tokens(self) -> list[Json]:
        return self._get_list("/tokens")

    def create_token(
        self, name: str = "cli", ttl_days: int = 90, *, scope: str = "full", project_id: int | None = None
    ) -> Json:
        """A new token of the current user; the secret is in ``token`` and shown this once. ``scope``: full,
        read, jobs or project (with ``project_id``)."""
        body = {"name": name, "ttl_days": ttl_days, "scope": scope, "project_id": project_id}
        return self._call("POST", "/tokens", body)

    def revoke_token(self, token_id: int) -> Json:
        return self._call("DELETE", f"/tokens/{token_id}")

    def list_organizations(
        self,
        *,
        kind: str | None = None,
        country: str | None = None,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        return self._get_page("/organizations", kind=kind, country=country, q=q, limit=limit, offset=offset)

    def get_organization(self, organization_id: int) -> Json:
        return self._get(f"/organizations/{organization_id}")

    def list_users(
        self, *, organization_id: int | None = None, role: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page:
        return self._get_page("/users", organization_id=organization_id, role=role, limit=limit, offset=offset)

    def find_user(self, email: str) -> Json | None:
        """The user with this e-mail address (case ignored) among those the caller may list, or None."""
        wanted = email.strip().lower()
        return next((u for u in self._walk("/users", 200) if str(u["email"]).lower() == wanted), None)

    def create_user(
        self,
        *,
        email: str,
        name: str,
        organization_id: int | None = None,
        is_reviewer: bool = False,
        is_operator: bool = False,
        is_org_admin: bool = False,
    ) -> Json:
        """The new ``user`` and its first ``token``."""
        payload = {
            "email": email,
            "name": name,
            "organization_id": organization_id,
            "is_reviewer": is_reviewer,
            "is_operator": is_operator,
            "is_org_admin": is_org_admin,
        }
        return self._call("POST", "/users", payload)

    def set_roles(
        self,
        user_id: int,
        *,
        is_reviewer: bool | None = None,
        is_operator: bool | None = None,
        active: bool | None = None,
        email_verified: bool | None = None,
    ) -> Json:
        changes = without_none(
            is_reviewer=is_reviewer, is_operator=is_operator, active=active, email_verified=email_verified
        )
        return self._call("PATCH", f"/users/{user_id}/roles", changes)
