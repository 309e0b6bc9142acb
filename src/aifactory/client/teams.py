"""Invitations (to a project or an organization), an organization's members, partner consents."""

from __future__ import annotations

from .base import ClientBase, Json


class TeamsMixin(ClientBase):
    def invite_to_project(self, project_id: int, email: str, role: str = "member") -> Json:
        return self._call("POST", f"/projects/{project_id}/invitations", {"email": email, "role": role})

    def project_invitations(self, project_id: int) -> list[Json]:
        return self._get_list(f"/projects/{project_id}/invitations")

    def invite_to_organization(self, org_id: int, email: str, role: str = "member") -> Json:
        return self._call("POST", f"/organizations/{org_id}/invitations", {"email": email, "role": role})

    def organization_invitations(self, org_id: int) -> list[Json]:
        return self._get_list(f"/organizations/{org_id}/invitations")

    def revoke_invitation(self, invitation_id: int) -> Json:
        return self._call("DELETE", f"/invitations/{invitation_id}")

    def accept_invitation(self, token: str) -> Json:
        return self._call("POST", "/invitations/accept", {"token": token})

    def organization_members(self, org_id: int) -> list[Json]:
        return self._get_list(f"/organizations/{org_id}/members")

    def set_organization_admin(self, org_id: int, user_id: int, admin: bool) -> Json:
        return self._call("PATCH", f"/organizations/{org_id}/members/{user_id}", {"admin": admin})

    def remove_organization_member(self, org_id: int, user_id: int) -> None:
        self.request("DELETE", f"/organizations/{org_id}/members/{user_id}")

    def proposal_consents(self, proposal_id: int) -> list[Json]:
        return self._get_list(f"/proposals/{proposal_id}/consents")

    def consent_requests(self) -> list[Json]:
        return self._get_list("/consents")

    def answer_consent(self, consent_id: int, confirm: bool) -> Json:
        return self._call("POST", f"/consents/{consent_id}", {"confirm": confirm})
