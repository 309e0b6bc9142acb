"""The ``ldap`` identity provisioner: posixAccount and posixGroup entries in an LDAP directory (OpenLDAP,
FreeIPA's or 389's LDAP tree) that the cluster's nodes read through NSS (sssd, nslcd). Through ``ldap3``.

Users are ``uid=<name>,<users dn>`` (objectClass account + posixAccount, no home, no login shell) with a private
group ``cn=<name>,<groups dn>`` (gidNumber = uidNumber); projects are ``cn=<name>,<groups dn>`` posixGroups
whose ``memberUid`` values are their members. Idempotent; an entry with the same name and another id (or an id
taken by another name) is a conflict, never overwritten. One connection per call, no I/O in ``__init__``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn

from ..domain.posix import IdentityPolicy, PosixGroup, PosixUser
from ..services.ports import ProvisioningFailed
from .local import NO_HOME, NO_SHELL

if TYPE_CHECKING:
    from ..config import Settings


class LdapProvisioner:
    kind: ClassVar[str] = "ldap"

    def __init__(
        self, url: str, bind_dn: str, password: str, users_dn: str, groups_dn: str, *, timeout: float = 10.0
    ) -> None:
        self.url, self.bind_dn, self.password = url, bind_dn, password
        self.users_dn, self.groups_dn = users_dn, groups_dn
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> LdapProvisioner:
        needed = {
            "AIFACTORY_LDAP_URL": settings.ldap_url,
            "AIFACTORY_LDAP_BIND_DN": settings.ldap_bind_dn,
            "AIFACTORY_LDAP_BIND_PASSWORD": settings.ldap_bind_password,
            "AIFACTORY_LDAP_USERS_DN": settings.ldap_users_dn,
            "AIFACTORY_LDAP_GROUPS_DN": settings.ldap_groups_dn,
        }
        missing = [name for name, value in needed.items() if not value]
        if missing or settings.ldap_bind_password is None:
            raise ValueError(f"the ldap identity kind needs {', '.join(missing)}")
        return cls(
            str(settings.ldap_url),
            str(settings.ldap_bind_dn),
            settings.ldap_bind_password.get_secret_value(),
            str(settings.ldap_users_dn),
            str(settings.ldap_groups_dn),
        )

    @contextmanager
    def _session(self) -> Iterator[ldap3.Connection]:
        try:
            server = ldap3.Server(self.url, connect_timeout=self.timeout, get_info=ldap3.NONE)
            conn = ldap3.Connection(
                server,
                user=self.bind_dn,
                password=self.password,
                raise_exceptions=True,
                receive_timeout=max(1, round(self.timeout)),  # whole seconds (it goes into a socket option)
            )
            conn.bind()
        except LDAPException as exc:
            raise ProvisioningFailed(f"LDAP {self.url}: cannot bind as {self.bind_dn}: {exc}") from exc
        try:
            yield conn
        except LDAPException as exc:
            raise ProvisioningFailed(f"LDAP {self.url}: {exc}") from exc
        finally:
            conn.unbind()

    def ensure_group(self, group: PosixGroup) -> None:
        with self._session() as conn:
            self._group(conn, group)

    def ensure_user(self, user: PosixUser, groups: Sequence[PosixGroup]) -> None:
        name = IdentityPolicy.checked(user.name)
        with self._session() as conn:
            self._group(conn, PosixGroup(name, user.uid))  # the private group: gid = uid
            self._account(conn, name, user.uid)
            current = {e["dn"]: e for e in self._find(conn, self.groups_dn, f"(memberUid={escape_filter_chars(name)})")}
            want = {self._group_dn(IdentityPolicy.checked(g.name)) for g in groups}
            for dn in sorted(want - set(current)):
                conn.modify(dn, {"memberUid": [(ldap3.MODIFY_ADD, [name])]})
            for dn in sorted(set(current) - want):
                conn.modify(dn, {"memberUid": [(ldap3.MODIFY_DELETE, [name])]})

    def groups_of(self, user_name: str) -> set[str]:
        """The groups (under the groups DN) that list the user as a ``memberUid`` now."""
        name = IdentityPolicy.checked(user_name)
        with self._session() as conn:
            found = self._find(conn, self.groups_dn, f"(memberUid={name})", ["cn"])
        return {str(e["attributes"]["cn"][0]) for e in found}

    # -- entries

    def _group_dn(self, name: str) -> str:
        return f"cn={escape_rdn(name)},{self.groups_dn}"

    def _group(self, conn: ldap3.Connection, group: PosixGroup) -> None:
        name = IdentityPolicy.checked(group.name)
        found = self._find(conn, self.groups_dn, f"(cn={name})", ["gidNumber"])
        if found:
            gid = _number(found[0], "gidNumber")
            if gid != group.gid:
                raise ProvisioningFailed(f"LDAP group {name} exists with gidNumber {gid}, not {group.gid}")
            return
        taken = self._find(conn, self.groups_dn, f"(gidNumber={int(group.gid)})", ["cn"])
        if taken:
            raise ProvisioningFailed(f"gidNumber {group.gid} is taken by {taken[0]['dn']}, not {name}")
        conn.add(self._group_dn(name), ["posixGroup"], {"cn": name, "gidNumber": group.gid})

    def _account(self, conn: ldap3.Connection, name: str, uid: int) -> None:
        found = self._find(conn, self.users_dn, f"(&(objectClass=posixAccount)(uid={name}))", ["uidNumber"])
        if found:
            number = _number(found[0], "uidNumber")
            if number != uid:
                raise ProvisioningFailed(f"LDAP user {name} exists with uidNumber {number}, not {uid}")
            return
        taken = self._find(conn, self.users_dn, f"(&(objectClass=posixAccount)(uidNumber={int(uid)}))", ["uid"])
        if taken:
            raise ProvisioningFailed(f"uidNumber {uid} is taken by {taken[0]['dn']}, not {name}")
        attributes = {
            "uid": name,
            "cn": name,
            "uidNumber": uid,
            "gidNumber": uid,
            "homeDirectory": NO_HOME,
            "loginShell": NO_SHELL,
            "description": "aifactory job identity",
        }
        conn.add(f"uid={escape_rdn(name)},{self.users_dn}", ["account", "posixAccount"], attributes)

    @staticmethod
    def _find(
        conn: ldap3.Connection, base: str, condition: str, attributes: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        conn.search(base, condition, search_scope=ldap3.SUBTREE, attributes=list(attributes) or ldap3.NO_ATTRIBUTES)
        return [e for e in conn.response or [] if e.get("type") == "searchResEntry"]


def _number(entry: dict[str, Any], attribute: str) -> int | None:
    """A numeric attribute of a search result (without schema information ldap3 gives a list of strings)."""
    value = entry["attributes"].get(attribute)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
