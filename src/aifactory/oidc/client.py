"""The relying party: one :class:`OidcClient` per configured provider, through Authlib (the authorization
request with PKCE S256, the token request, the ID token's claims rules) and joserfc (Authlib's JOSE layer:
the signature against the provider's JWKS).

The discovery document and the JWKS are fetched from the configured issuer on first use and cached (an ID
token signed with a key the cache does not know fetches the JWKS once more: keys rotate); nothing about a
provider is hard-coded. Every failure is an :class:`OidcError` with a message a person can read; a provider
that cannot be reached is ``unavailable``."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from .settings import OidcProviderSettings

CACHE_SECONDS = 3600.0
LEEWAY_SECONDS = 60
# asymmetric signatures only: "none" and the HMAC algorithms (keyed with the client secret) are refused
ALLOWED_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519")


class OidcError(Exception):
    """A sign-in the provider's side could not complete; ``unavailable``: it did not answer (try later)."""

    def __init__(self, message: str, *, unavailable: bool = False):
        super().__init__(message)
        self.message, self.unavailable = message, unavailable


@dataclass(frozen=True)
class Metadata:
    """What the factory uses of a provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: tuple[str, ...]
    iss_parameter: bool  # RFC 9207: the authorization response names its issuer

    @classmethod
    def parse(cls, doc: Mapping[str, Any], issuer: str) -> Metadata:
        if doc.get("issuer") != issuer:
            raise OidcError(f"the provider's discovery document names issuer {doc.get('issuer')!r}, not {issuer!r}")
        missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not doc.get(k)]
        if missing:
            raise OidcError(f"the provider's discovery document lacks {', '.join(missing)}")
        methods = doc.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise OidcError("the provider does not support PKCE with S256")
        offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        return cls(
            issuer=issuer,
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
            userinfo_endpoint=str(doc["userinfo_endpoint"]) if doc.get("userinfo_endpoint") else None,
            algorithms=tuple(a for a in offered if a in ALLOWED_ALGS),
            iss_parameter=bool(doc.get("authorization_response_iss_parameter_supported")),
        )


class _Cached:
    """A value fetched at most every ``CACHE_SECONDS`` (failures are not kept)."""

    def __init__(self) -> None:
        self.value: Any = None
        self.at = 0.0

    def fresh(self) -> Any:
        return self.value if self.value is not None and time.monotonic() - self.at < CACHE_SECONDS else None

    def keep(self, value: Any) -> Any:
        self.value, self.at = value, time.monotonic()
        return value


class OidcClient:
    """One provider. Building it does no I/O; the first sign-in fetches the discovery document."""

    def __init__(self, settings: OidcProviderSettings, *, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.transport = transport
        self._lock = threading.Lock()
        self._metadata = _Cached()
        self._jwks = _Cached()

    @property
    def name(self) -> str:
        return self.settings.name

    def _get_json(self, url: str, what: str, headers: Mapping[str, str] | None = None) -> Any:
        try:
            with httpx.Client(timeout=self.settings.timeout_seconds, transport=self.transport) as http:
                response = http.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code >= 500:
            raise OidcError(f"{self._title} answered {response.status_code} ({what})", unavailable=True)
        if response.status_code != 200:
            raise OidcError(f"{self._title} refused the request for its {what} ({response.status_code})")
        try:
            return response.json()
        except ValueError as exc:
            raise OidcError(f"{self._title} sent no JSON as its {what}") from exc

    @property
    def _title(self) -> str:
        return f"the sign-in service {self.settings.display_title}"

    def _unreachable(self, exc: Exception) -> OidcError:
        return OidcError(f"{self._title} cannot be reached right now ({type(exc).__name__})", unavailable=True)

    def metadata(self) -> Metadata:
        """The discovery document, fetched from ``<issuer>/.well-known/openid-configuration`` (cached)."""
        with self._lock:
            if (cached := self._metadata.fresh()) is not None:
                return cached  # type: ignore[no-any-return]
        issuer = self.settings.issuer
        doc = self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document")
        if not isinstance(doc, dict):
            raise OidcError(f"{self._title} sent a discovery document that is not a JSON object")
        parsed = Metadata.parse(doc, issuer)
        with self._lock:
            return self._metadata.keep(parsed)  # type: ignore[no-any-return]

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            cached = None if refresh else self._jwks.fresh()
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        doc = self._get_json(self.metadata().jwks_uri, "signing keys")
        try:
            keys = KeySet.import_key_set(doc)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcError(f"{self._title} sent signing keys the factory cannot read") from exc
        with self._lock:
            return self._jwks.keep(keys)  # type: ignore[no-any-return]

    def authorization_url(self, *, redirect_uri: str, state: str, verifier: str, nonce: str) -> str:
        """Where the browser signs in: Authorization Code flow, PKCE S256, the state and the nonce."""
        meta = self.metadata()
        url: str = prepare_grant_uri(
            meta.authorization_endpoint,
            client_id=self.settings.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=" ".join(self.settings.scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return url

    def check_issuer(self, iss: str | None) -> None:
        """RFC 9207: an authorization response that names its issuer names this provider's (mix-up defence)."""
        meta = self.metadata()
        if iss is not None and iss != meta.issuer:
            raise OidcError("the answer came from another sign-in service than the one this sign-in started with")
        if iss is None and meta.iss_parameter:
            raise OidcError("the sign-in service's answer does not name its issuer")

    def exchange(self, *, code: str, redirect_uri: str, verifier: str, nonce: str) -> dict[str, Any]:
        """The code for tokens (PKCE verifier, client authentication), the ID token verified (signature,
        issuer, audience, expiry, nonce), then the userinfo claims for the same subject. Returns the claims."""
        tokens = self._token_request(code=code, redirect_uri=redirect_uri, verifier=verifier)
        id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise OidcError(f"{self._title} sent no ID token")
        claims = self.verify_id_token(id_token, nonce=nonce, access_token=access_token)
        return {**self._userinfo(access_token, claims["sub"]), **claims}

    def _token_request(self, *, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        meta = self.metadata()
        body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=verifier)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        secret = self.settings.client_secret
        method = self.settings.token_endpoint_auth_method if secret else "none"  # a public client names itself
        client_auth = ClientAuth(self.settings.client_id, secret.get_secret_value() if secret else None, method)
        url, headers, body = client_auth.prepare("POST", meta.token_endpoint, headers, body)
        try:
            with httpx.Client(timeout=self.settings.timeout_seconds, transport=self.transport) as http:
                response = http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        return self._token_answer(response)

    def _token_answer(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 500:
            raise OidcError(f"{self._title} answered {response.status_code}", unavailable=True)
        if response.status_code != 200 or not isinstance(data, dict):
            error = data.get("error", response.status_code) if isinstance(data, dict) else response.status_code
            raise OidcError(f"{self._title} refused the sign-in code ({error}): it may have been used already")
        return data

    def verify_id_token(self, id_token: str, *, nonce: str, access_token: str | None = None) -> dict[str, Any]:
        meta = self.metadata()
        if not meta.algorithms:
            raise OidcError(f"{self._title} signs ID tokens with no algorithm the factory accepts")
        try:
            try:
                token = jwt.decode(id_token, self._key_set(), algorithms=list(meta.algorithms))
            except InvalidKeyIdError:  # a key the cache does not know yet: keys rotate
                token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=list(meta.algorithms))
            options = {
                "iss": {"essential": True, "value": meta.issuer},
                "aud": {"essential": True, "value": self.settings.client_id},
            }
            params = {"nonce": nonce, "client_id": self.settings.client_id, "access_token": access_token}
            claims = CodeIDToken(token.claims, token.header, options, params)
            claims.validate(leeway=LEEWAY_SECONDS)
        except JoseError as exc:
            raise OidcError(f"the ID token of {self._title} was refused ({_reason(exc)})") from exc
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OidcError(f"the ID token of {self._title} was refused (nonce)")
        return dict(claims)

    def _userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        """The userinfo claims (many providers release e-mail and groups only there); another subject's
        are refused."""
        endpoint = self.metadata().userinfo_endpoint
        if endpoint is None:
            return {}
        info = self._get_json(endpoint, "userinfo", {"Authorization": f"Bearer {access_token}"})
        if not isinstance(info, dict):
            return {}
        if info.get("sub") != subject:
            raise OidcError(f"{self._title} sent the userinfo of another subject")
        return info


def _reason(exc: JoseError) -> str:
    """e.g. "invalid_claim: Invalid claim: 'nonce'" (joserfc names the claim)."""
    return str(exc)[:200] or type(exc).__name__


class OidcClients:
    """The site's providers by name, built from the settings (no I/O until a sign-in)."""

    def __init__(self, providers: list[OidcProviderSettings], *, transport: httpx.BaseTransport | None = None):
        self._clients = {p.name: OidcClient(p, transport=transport) for p in providers}

    def __iter__(self) -> Iterator[OidcClient]:
        return iter(self._clients.values())

    def get(self, name: str) -> OidcClient | None:
        return self._clients.get(name)

    def __bool__(self) -> bool:
        return bool(self._clients)
