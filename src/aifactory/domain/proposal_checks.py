"""Whether a proposal may be submitted, asked at any time: the same problems that submission refuses, gathered
at once and sorted into the proposal's sections, so that an applicant (portal wizard, API, CLI) learns what a step
lacks while filling it in, not only at the end."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .calls import Call, eligibility_problems
from .enums import OrgKind
from .errors import FieldError
from .proposals import Proposal, submittable_problems
from .questions import missing_answers

#: The proposal's sections in the order an applicant fills them in; "plan" holds the call's own questions.
SECTIONS: dict[str, frozenset[str]] = {
    "project": frozenset({"title", "abstract", "application_field"}),
    "team": frozenset({"team", "partner_organization_ids"}),
    "resources": frozenset({"resource_id", "requested_gpu_hours", "duration_months"}),
    "plan": frozenset({"answers", "attachments"}),
    "ethics": frozenset({"risk_category", "personal_data", "health_data", "dual_use", "ethics_notes"}),
}


def section_of(field_name: str) -> str | None:
    """The section a field belongs to (``answers.work_plan`` → plan, ``team-0-name`` → team); None for problems
    of the whole proposal (the call is closed, the organization is not eligible)."""
    base = re.split(r"[-.]", field_name, maxsplit=1)[0]
    return next((name for name, fields in SECTIONS.items() if base in fields), None)


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    section: str | None


def submission_problems(
    p: Proposal, call: Call, *, org_kind: OrgKind, org_country: str, attached: set[str], today: date
) -> list[Problem]:
    """Everything submission would refuse now, in section order (empty: ready to submit, once the partner
    organizations have confirmed and the author's e-mail address is verified)."""
    errs: list[FieldError] = [
        *submittable_problems(p),
        *eligibility_problems(
            call,
            org_kind=org_kind,
            org_country=org_country,
            gpu_hours=p.requested_gpu_hours,
            duration_months=p.duration_months,
            resource_id=p.resource_id,
            today=today,
        ),
        *missing_answers(call.questions, p.answers, attached, p.duration_months),
    ]
    order = {name: i for i, name in enumerate(SECTIONS)}
    problems = [Problem(e.field, e.message, section_of(e.field)) for e in errs]
    return sorted(problems, key=lambda x: order.get(x.section or "", -1))
