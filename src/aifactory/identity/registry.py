"""The identity provisioners by kind: one module with a ``from_settings`` classmethod and one line here.

``auto`` is ``local`` when the server runs as root (it can create accounts on this machine), else ``none``;
``none`` means no provisioner: jobs run as the server's own user (sandboxed by the local executor).
Modules are imported on demand, so naming the kinds imports none of them.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..config import Settings
    from ..services.ports import IdentityProvisioner

PROVISIONERS: dict[str, str] = {  # kind -> "module:Class"
    "local": "aifactory.identity.local:LocalProvisioner",
    "ldap": "aifactory.identity.ldap:LdapProvisioner",
}
KINDS = ("auto", "none", *PROVISIONERS)


class ProvisionerFactory(Protocol):
    def from_settings(self, settings: Settings) -> IdentityProvisioner: ...


def resolved_kind(kind: str, *, root: bool | None = None) -> str:
    """The kind in effect: ``auto`` becomes ``local`` for a root server, else ``none``."""
    if kind not in KINDS:
        raise ValueError(f"unknown identity kind {kind!r} (valid: {', '.join(KINDS)})")
    if kind != "auto":
        return kind
    is_root = os.geteuid() == 0 if root is None else root
    return "local" if is_root else "none"


def build_provisioner(settings: Settings) -> IdentityProvisioner | None:
    """The site's provisioner (``AIFACTORY_IDENTITY_KIND``), or None for ``none``. No I/O happens here."""
    kind = resolved_kind(settings.identity_kind)
    if kind == "none":
        return None
    module_name, _, cls_name = PROVISIONERS[kind].partition(":")
    factory: ProvisionerFactory = getattr(importlib.import_module(module_name), cls_name)
    return factory.from_settings(settings)
