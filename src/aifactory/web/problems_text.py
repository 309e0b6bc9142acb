"""The domain's validation messages in the viewer's language. The domain and the services say what is wrong in
English (the API's problem+json keeps that text); the portal shows each known message through gettext, with
its figures in the page's style. An unknown message is shown as it is. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable

from .formats import number_text


def N_(message: str) -> str:
    """Marks a msgid for extraction (web.messages); translated when shown."""
    return message


# (the domain's English message as a pattern, the msgid); named groups become the msgid's placeholders
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), m)
    for p, m in [
        (r"must be between (?P<low>[\d,]+) and (?P<high>[\d,]+)", N_("must be between %(low)s and %(high)s")),
        (r"must be at least (?P<n>[\d,]+)", N_("must be at least %(n)s")),
        (r"must not be empty", N_("must not be empty")),
        (r"an answer is required", N_("an answer is required")),
        (r"upload the PDF", N_("upload the PDF")),
        (
            r"(?P<n>[\d,]+) milestone\(s\) fall after the project's (?P<months>[\d,]+) months",
            N_("%(n)s milestone(s) fall after the project's %(months)s months"),
        ),
        (
            r"only PDF files can be attached \(this file does not start like a PDF\)",
            N_("only PDF files can be attached (this file does not start like a PDF)"),
        ),
        (r"the file is empty", N_("the file is empty")),
        (r"a month of the project, 1 to 60", N_("a month of the project, 1 to 60")),
        (r"what is done by then, 1 to 300 characters", N_("what is done by then, 1 to 300 characters")),
        (r"must not be negative", N_("must not be negative")),
        (r"must be positive", N_("must be positive")),
        (r"must be >= min_gpu_hours", N_("must be at least the smallest number of GPU-hours")),
        (r"must be between 1 and max_gpu_hours", N_("must be between 1 and the largest number of GPU-hours")),
        (r"must not be before opens_on", N_("must not be before the opening day")),
        (r"must list durations between 1 and 60 months", N_("must list durations between 1 and 60 months")),
        (r"days of the month must be between 1 and 31", N_("days of the month must be between 1 and 31")),
        (r"a call must offer at least one resource", N_("a call must offer at least one resource")),
        (r"a submitted proposal needs a title", N_("a submitted proposal needs a title")),
        (
            r"a submitted proposal needs an abstract of at least 20 characters",
            N_("a submitted proposal needs an abstract of at least 20 characters"),
        ),
        (r"the lead organization cannot also be a partner", N_("the lead organization cannot also be a partner")),
        (r"the proposal does not meet the call's conditions", N_("the proposal does not meet the call's conditions")),
        (r"resource (?P<id>\S+) is not offered by this call", N_("resource %(id)s is not offered by this call")),
        (r"resource (?P<id>\S+) does not exist", N_("resource %(id)s does not exist")),
        (
            r"call (?P<call>'[^']*') is not open: choose an open call",
            N_("call %(call)s is not open: choose an open call"),
        ),
        (r"call (?P<call>'[^']*') is not open for submissions", N_("call %(call)s is not open for submissions")),
        (
            r"(?P<n>[\d,]+) exceeds the (?P<max>[\d,]+) GPU-hours requested",
            N_("%(n)s exceeds the %(max)s GPU-hours requested"),
        ),
        (r"(?P<email>'[^']*') is not a valid e-mail address", N_("%(email)s is not a valid e-mail address")),
        (r"(?P<value>'[^']*') is not one of (?P<choices>.+)", N_("%(value)s is not one of %(choices)s")),
        (r"wrong password", N_("wrong password")),
        (
            r"the intended use is a prohibited AI practice under the EU AI Act \(Art\. 5\)",
            N_("the intended use is a prohibited AI practice under the EU AI Act (Art. 5)"),
        ),
        (r"such proposals cannot be submitted", N_("such proposals cannot be submitted")),
        (r"over the project's storage quota", N_("over the project's storage quota")),
        (r"over the project's file quota", N_("over the project's file quota")),
        (r"name at least one reviewer", N_("name at least one reviewer")),
        (r"at most (?P<n>[\d,]+) characters", N_("at most %(n)s characters")),
        (
            r"say in a few words what the conflict is \(e\.g\. a former employer\)",
            N_("say in a few words what the conflict is (e.g. a former employer)"),
        ),
    ]
]
# the clause a message may add about a cap ("… (or none: no cap)")
NO_CAP = " (or none: no cap)"


def _figure(text: str, lang: str) -> str:
    """An English-style whole figure (``100,000,000``) in the page's style; anything else as it is."""
    return number_text(int(text.replace(",", "")), lang) if re.fullmatch(r"\d[\d,]*", text) else text


def problem_text(message: str | None, t: Callable[..., str], lang: str) -> str:
    """``message`` (the domain's English) in the viewer's words; messages joined with ``; `` each on their own."""
    if not message:
        return ""
    return "; ".join(_one(part, t, lang) for part in str(message).split("; "))


def _one(message: str, t: Callable[..., str], lang: str) -> str:
    core, cap = (message[: -len(NO_CAP)], True) if message.endswith(NO_CAP) else (message, False)
    for pattern, msgid in PATTERNS:
        if found := pattern.fullmatch(core):
            text = t(msgid, **{k: _figure(v, lang) for k, v in found.groupdict().items()})
            return text + (t(" (or none: no cap)") if cap else "")
    return message
