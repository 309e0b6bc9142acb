"""Cookies, CSRF tokens and response headers of the portal.

CSRF: every form and every htmx request carries a token derived (HMAC with the site's secret key) from a
per-browser seed: the session's secret once signed in, else a random HttpOnly cookie. A token taken from
another browser or an older session does not match; a missing one neither."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

SESSION_COOKIE = "aif_session"
SEED_COOKIE = "aif_csrf"
LANG_COOKIE = "aif_lang"
FLASH_COOKIE = "aif_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

# frame-src 'self': the job page frames a job's report from /jobs/{id}/view/… (sandboxed, see api.downloads);
# frame-ancestors 'none' and X-Frame-Options: the portal's own pages are framed by nobody, itself included.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def new_seed() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secret_key: str, seed: str) -> str:
    return hmac.new(secret_key.encode(), f"csrf|{seed}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret_key: str, seed: str | None, sent: str | None) -> bool:
    if not seed or not sent or len(sent) > 128:
        return False
    return hmac.compare_digest(csrf_token(secret_key, seed), sent)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site (no scheme, no host, no ``//``, no backslash) is followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target
