"""The proposal wizard's steps: which fields each step holds, their labels, reading a step's posted form into the
service's fields (InvalidInput naming every field that cannot be read), and sorting errors onto the steps."""

from __future__ import annotations

import re
from typing import Any

from ..domain.enums import ApplicationField, RiskCategory
from ..domain.errors import DomainError, FieldError, InvalidInput
from ..domain.identity import normalize_email
from ..domain.proposal_checks import section_of
from .formats import number_text
from .forms import as_int
from .i18n import Translator


def N_(message: str) -> str:
    """Marks a message for translation where it is defined; it is translated where it is shown."""
    return message


#: The wizard's steps by name (the proposal's sections, domain.proposal_checks.SECTIONS, then the review); "plan"
#: only where the call asks questions of its own.
STEP_TITLES = {
    "project": N_("Project"),
    "team": N_("Team and partners"),
    "resources": N_("Resources"),
    "plan": N_("Plan and documents"),
    "ethics": N_("Ethics and AI Act"),
    "review": N_("Review and submit"),
}


def wizard_steps(has_plan: bool) -> list[str]:
    return [name for name in STEP_TITLES if has_plan or name != "plan"]


LABELS = {
    "title": N_("Title"),
    "abstract": N_("Abstract"),
    "application_field": N_("Application field"),
    "team": N_("Team"),
    "partner_organization_ids": N_("Partner organizations"),
    "resource_id": N_("Resource"),
    "requested_gpu_hours": N_("GPU-hours requested"),
    "duration_months": N_("Duration (months)"),
    "risk_category": N_("EU AI Act risk category"),
    "personal_data": N_("Personal data"),
    "health_data": N_("Health data"),
    "dual_use": N_("Dual use"),
    "ethics_notes": N_("Ethics notes"),
    "call": N_("Call"),
    "organization": N_("Your organization"),
}
BOOLS = ("personal_data", "health_data", "dual_use")
MAX_TEAM = 20
MAX_ID = 2_147_483_647
LIMITS = {"title": 300, "abstract": 20_000, "ethics_notes": 20_000, "name": 200, "email": 254, "role": 100}
NOT_OPEN = N_("This call does not exist or is not open: choose an open call.")
NUMBER = re.compile(r"[0-9]{1,9}|[0-9]{1,3}([,.' ])[0-9]{3}(?:\1[0-9]{3})?")


def step_number(value: str | None, steps: list[str]) -> int:
    n = as_int(value, 1) or 1
    return n if 1 <= n <= len(steps) else 1


def step_of(name: str, steps: list[str]) -> int | None:
    """The wizard step (1-based) that shows field ``name``; None for problems of the whole proposal."""
    section = section_of(name)
    return steps.index(section) + 1 if section in steps else None


def _label(t: Translator, name: str, questions: dict[str, str]) -> str:
    """The field's label as the page shows it; ``questions``: the titles of the call's questions by key."""
    base, *rest = re.split(r"[-.]", name)
    if base in ("answers", "attachments") and rest and rest[0] in questions:
        return questions[rest[0]]
    return t.gettext(LABELS[base]) if base in LABELS else name


def sort_errors(
    exc: DomainError, step: int, steps: list[str], t: Translator, questions: dict[str, str] | None = None
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Errors of this step's fields go next to them; every error is also listed on top, naming its field and
    its step (a link for the other steps)."""
    fields: dict[str, str] = {}
    top: list[dict[str, Any]] = []
    for err in exc.errors:
        where = step_of(err.field, steps)
        if where == step:
            fields[err.field] = f"{fields[err.field]}; {err.message}" if err.field in fields else err.message
        top.append({"step": where, "label": _label(t, err.field, questions or {}), "message": err.message})
    if not exc.errors:
        top.append({"step": None, "label": "", "message": str(exc)})
    return fields, top


# -- reading a step's form --------------------------------------------------------------------------------------


def _text(form: dict[str, str], name: str, errs: list[FieldError], t: Translator, limit: int) -> str:
    value = form.get(name, "").strip()
    if len(value) > limit:
        errs.append(FieldError(name, t.gettext("at most %(n)s characters", n=number_text(limit, t.lang))))
    return value


def _number(form: dict[str, str], name: str, errs: list[FieldError], t: Translator) -> int | None:
    raw = form.get(name, "").strip()
    if not NUMBER.fullmatch(raw):
        errs.append(FieldError(name, t.gettext("enter a whole number, e.g. 5000")))
        return None
    return int(re.sub(r"[^0-9]", "", raw))


def _choice(form: dict[str, str], name: str, allowed: set[str], errs: list[FieldError], t: Translator) -> str | None:
    value = form.get(name, "")
    if value not in allowed:
        errs.append(FieldError(name, t.gettext("choose one of the options")))
        return None
    return value


def _team(form: dict[str, str], errs: list[FieldError], t: Translator) -> list[dict[str, str]]:
    team = []
    for i in range(MAX_TEAM):
        row = {k: form.get(f"team-{i}-{k}", "").strip() for k in ("name", "email", "role")}
        if not any(row.values()):
            continue
        if not row["name"]:
            errs.append(FieldError(f"team-{i}-name", t.gettext("a team member needs a name")))
        for key, value in row.items():
            if len(value) > LIMITS[key]:
                errs.append(FieldError(f"team-{i}-{key}", t.gettext("at most %(n)s characters", n=LIMITS[key])))
        try:
            row["email"] = normalize_email(row["email"][: LIMITS["email"] + 1])
        except InvalidInput:
            errs.append(FieldError(f"team-{i}-email", t.gettext("enter a valid e-mail address")))
        team.append(row)
    return team


def parse_step(step: str, form: dict[str, str], chosen: list[str], t: Translator) -> dict[str, Any]:
    """The service's fields of one step (not the plan: web.proposal_plan); InvalidInput (nothing saved) if any
    of them cannot be read."""
    errs: list[FieldError] = []
    out: dict[str, Any] = {}
    if step == "project":
        out["title"] = _text(form, "title", errs, t, LIMITS["title"])
        out["abstract"] = _text(form, "abstract", errs, t, LIMITS["abstract"])
        out["application_field"] = _choice(form, "application_field", {f.value for f in ApplicationField}, errs, t)
    elif step == "team":
        out["team"] = _team(form, errs, t)
        ids = [as_int(v) for v in chosen]
        if any(i is None or not 1 <= i <= MAX_ID for i in ids):
            errs.append(FieldError("partner_organization_ids", t.gettext("choose organizations from the list")))
        out["partner_organization_ids"] = ids
    elif step == "resources":
        for name in ("requested_gpu_hours", "duration_months", "resource_id"):
            out[name] = _number(form, name, errs, t)
        if out["resource_id"] is not None and not 1 <= out["resource_id"] <= MAX_ID:
            errs.append(FieldError("resource_id", t.gettext("choose one of the options")))
    elif step == "ethics":
        out["risk_category"] = _choice(form, "risk_category", {r.value for r in RiskCategory}, errs, t)
        out.update({b: bool(form.get(b)) for b in BOOLS})
        out["ethics_notes"] = _text(form, "ethics_notes", errs, t, LIMITS["ethics_notes"])
    if errs:
        raise InvalidInput(t.gettext("Please correct the marked fields."), errs)
    return out
