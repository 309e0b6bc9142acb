"""Single sign-on: the providers a site offers, and an API token for a sign-in's one-time code."""

from __future__ import annotations

from .base import ClientBase, Json


class SsoMixin(ClientBase):
    def sso_providers(self) -> list[Json]:
        """``[{"name": …, "title": …}]``: what ``aifactory login --sso --provider`` takes."""
        return self._get_list("/auth/sso/providers")

    def token_for_sso_code(self, code: str, verifier: str, *, ttl_days: int = 90) -> Json:
        """A new token for the one-time code the browser brought back and the verifier of the sign-in's
        challenge (no token needed); the secret is in ``token``."""
        return self._call("POST", "/auth/sso/token", {"code": code, "verifier": verifier, "ttl_days": ttl_days})
