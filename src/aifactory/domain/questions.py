"""What a call asks of applicants beyond the standard fields: a work plan, milestones, data and code readiness,
the team's experience, the expected impact, a PDF attachment... Operators choose per call; nothing is hard-coded
for a mode. A question is one of four kinds: free ``text``, a ``choice`` among options, a list of ``milestones``
(month and what is done by then) and an ``attachment`` (one PDF up to a size limit).

Standard questions (``PRESETS``) come with their wording in English and German: an operator names one by its key
(``{"key": "work_plan", "required": true}``); any other key is the operator's own question and needs a title."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from .errors import FieldError, InvalidInput

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_QUESTIONS = 20
MAX_TEXT_CHARS = 20_000
MAX_MILESTONES = 24
MAX_OPTIONS = 12
MIB = 1 << 20
DEFAULT_ATTACHMENT_BYTES = 10 * MIB
MAX_ATTACHMENT_BYTES = 50 * MIB  # a site may lower it (Settings.proposal_attachment_max_bytes)


class QuestionKind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    MILESTONES = "milestones"
    ATTACHMENT = "attachment"


@dataclass(frozen=True, kw_only=True)
class Question:
    """One question of a call, in the words applicants read (English, and German where given)."""

    key: str
    kind: QuestionKind
    title: str
    help: str = ""
    title_de: str = ""
    help_de: str = ""
    required: bool = False
    max_chars: int = 5_000  # text
    options: tuple[str, ...] = ()  # choice: the answers offered (the answer stored is the English option)
    options_de: tuple[str, ...] = ()
    max_bytes: int = DEFAULT_ATTACHMENT_BYTES  # attachment

    def title_in(self, lang: str) -> str:
        return self.title_de if lang == "de" and self.title_de else self.title

    def help_in(self, lang: str) -> str:
        return self.help_de if lang == "de" and self.help_de else self.help

    def options_in(self, lang: str) -> list[tuple[str, str]]:
        """(stored value, label in ``lang``) of each option."""
        labels = self.options_de if lang == "de" and len(self.options_de) == len(self.options) else self.options
        return list(zip(self.options, labels, strict=True))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind.value,
            "title": self.title,
            "help": self.help,
            "title_de": self.title_de,
            "help_de": self.help_de,
            "required": self.required,
        }
        if self.kind is QuestionKind.TEXT:
            out["max_chars"] = self.max_chars
        elif self.kind is QuestionKind.CHOICE:
            out.update(options=list(self.options), options_de=list(self.options_de))
        elif self.kind is QuestionKind.ATTACHMENT:
            out["max_bytes"] = self.max_bytes
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Question:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["kind"] = QuestionKind(values["kind"])
        for k in ("options", "options_de"):
            values[k] = tuple(values.get(k) or ())
        return cls(**values)


def _preset(key: str, kind: QuestionKind, title: tuple[str, str], help: tuple[str, str], **more: Any) -> Question:
    return Question(key=key, kind=kind, title=title[0], title_de=title[1], help=help[0], help_de=help[1], **more)


PRESETS: dict[str, Question] = {
    q.key: q
    for q in (
        _preset(
            "work_plan",
            QuestionKind.TEXT,
            ("Work plan", "Arbeitsplan"),
            (
                "The work in phases: what you do in which order, with which data and models, and who does it.",
                "Die Arbeit in Phasen: was Sie in welcher Reihenfolge tun, mit welchen Daten und Modellen, und wer.",
            ),
            max_chars=10_000,
        ),
        _preset(
            "milestones",
            QuestionKind.MILESTONES,
            ("Milestones", "Meilensteine"),
            (
                "What you will have achieved by which month of the project.",
                "Was Sie bis zu welchem Projektmonat erreicht haben werden.",
            ),
        ),
        _preset(
            "data_readiness",
            QuestionKind.CHOICE,
            ("Data readiness", "Stand der Daten"),
            ("Is the data you need available to you today?", "Stehen Ihnen die nötigen Daten heute zur Verfügung?"),
            options=("Ready and accessible", "Partly available", "Not yet available"),
            options_de=("Vorhanden und zugänglich", "Teilweise vorhanden", "Noch nicht vorhanden"),
        ),
        _preset(
            "code_readiness",
            QuestionKind.CHOICE,
            ("Code readiness", "Stand des Codes"),
            ("How far is the software you will run?", "Wie weit ist die Software, die Sie ausführen werden?"),
            options=("Runs on several GPUs", "Runs on one GPU or a workstation", "Still being written"),
            options_de=(
                "Läuft auf mehreren GPUs",
                "Läuft auf einer GPU oder einem Arbeitsplatzrechner",
                "Wird noch geschrieben",
            ),
        ),
        _preset(
            "team_experience",
            QuestionKind.TEXT,
            ("The team's experience", "Erfahrung des Teams"),
            (
                "What your team has done before with AI, data or computing at this scale.",
                "Was Ihr Team bisher mit KI, Daten oder Rechnen in dieser Größenordnung gemacht hat.",
            ),
        ),
        _preset(
            "impact",
            QuestionKind.TEXT,
            ("Expected impact", "Erwartete Wirkung"),
            (
                "What changes if the project succeeds: for your organization, your customers, your field.",
                "Was sich ändert, wenn das Projekt gelingt: für Ihre Organisation, Ihre Kunden, Ihr Fachgebiet.",
            ),
        ),
        _preset(
            "attachment",
            QuestionKind.ATTACHMENT,
            ("Supporting document (PDF)", "Ergänzendes Dokument (PDF)"),
            (
                "A detailed description, figures or letters of support, as one PDF.",
                "Eine ausführliche Beschreibung, Abbildungen oder Unterstützungsschreiben, als eine PDF-Datei.",
            ),
        ),
    )
}


def build_questions(specs: list[dict[str, Any]], max_bytes: int = MAX_ATTACHMENT_BYTES) -> list[Question]:
    """A call's questions from the operator's specs (a preset's key with overrides, or a question of their own),
    every problem named by its place: ``questions.2.title``."""
    errs: list[FieldError] = []
    out: list[Question] = []
    if len(specs) > MAX_QUESTIONS:
        raise InvalidInput.on("questions", f"at most {MAX_QUESTIONS} questions per call")
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        at = f"questions.{i}"
        key = str(spec.get("key", ""))
        if not KEY.fullmatch(key):
            errs.append(FieldError(f"{at}.key", "lower-case letters, digits and _ (a letter first, at most 40)"))
            continue
        if key in seen:
            errs.append(FieldError(f"{at}.key", f"{key!r} is asked twice"))
            continue
        seen.add(key)
        q = _one(spec, PRESETS.get(key), at, errs, max_bytes)
        if q is not None:
            out.append(q)
    if errs:
        raise InvalidInput("invalid questions", errs)
    return out


def _one(spec: dict[str, Any], preset: Question | None, at: str, errs: list[FieldError], cap: int) -> Question | None:
    given = {k: v for k, v in spec.items() if v is not None}
    if preset is None and ("kind" not in given or not str(given.get("title", "")).strip()):
        names = ", ".join(PRESETS)
        errs.append(FieldError(f"{at}.title", f"a question of your own needs a kind and a title (standard: {names})"))
        return None
    base = preset or Question(key=given["key"], kind=QuestionKind(given["kind"]), title="")
    if preset is not None and "kind" in given and QuestionKind(given["kind"]) is not preset.kind:
        errs.append(FieldError(f"{at}.kind", f"{preset.key!r} is a standard question of kind {preset.kind.value}"))
        return None
    changes = {k: v for k, v in given.items() if k in {"title", "help", "title_de", "help_de", "required"}}
    for k in ("options", "options_de"):
        if k in given:
            changes[k] = tuple(str(o).strip() for o in given[k])
    for k in ("max_chars", "max_bytes"):
        if k in given:
            changes[k] = int(given[k])
    q = replace(base, **changes)
    before = len(errs)
    _check_question(q, at, errs, cap)
    return q if len(errs) == before else None


def _check_question(q: Question, at: str, errs: list[FieldError], cap: int) -> None:
    if not q.title.strip() or len(q.title) > 200 or len(q.title_de) > 200:
        errs.append(FieldError(f"{at}.title", "a title of 1 to 200 characters"))
    if len(q.help) > 1000 or len(q.help_de) > 1000:
        errs.append(FieldError(f"{at}.help", "at most 1000 characters"))
    if q.kind is QuestionKind.TEXT and not 20 <= q.max_chars <= MAX_TEXT_CHARS:
        errs.append(FieldError(f"{at}.max_chars", f"must be between 20 and {MAX_TEXT_CHARS:,}"))
    if q.kind is QuestionKind.CHOICE:
        if not 2 <= len(q.options) <= MAX_OPTIONS or any(not o or len(o) > 120 for o in q.options):
            errs.append(FieldError(f"{at}.options", f"2 to {MAX_OPTIONS} options of 1 to 120 characters"))
        elif len(set(q.options)) != len(q.options):
            errs.append(FieldError(f"{at}.options", "options must differ"))
        if q.options_de and len(q.options_de) != len(q.options):
            errs.append(FieldError(f"{at}.options_de", "one German label per option, in the same order"))
    if q.kind is QuestionKind.ATTACHMENT and not MIB // 10 <= q.max_bytes <= cap:
        errs.append(FieldError(f"{at}.max_bytes", f"must be between {MIB // 10:,} and {cap:,} bytes"))


@dataclass
class Answers:
    """A draft's answers, checked against its call's questions as they are given (``answers.<key>``)."""

    questions: list[Question]
    errors: list[FieldError] = field(default_factory=list)

    def merged(self, current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """``current`` with ``changes`` applied (None removes an answer); InvalidInput naming each bad answer."""
        asked = {q.key: q for q in self.questions}
        out = dict(current)
        for key, value in changes.items():
            q = asked.get(key)
            at = f"answers.{key}"
            if q is None:
                names = ", ".join(k for k, x in asked.items() if x.kind is not QuestionKind.ATTACHMENT) or "none"
                self.errors.append(FieldError(at, f"this call asks no such question (its questions: {names})"))
            elif q.kind is QuestionKind.ATTACHMENT:
                self.errors.append(FieldError(at, "an attachment is uploaded as a file, not given as an answer"))
            elif value is None or value == "" or value == []:
                out.pop(key, None)
            else:
                out[key] = self._value(q, value, at)
        if self.errors:
            raise InvalidInput("invalid answers", self.errors)
        return out

    def _value(self, q: Question, value: Any, at: str) -> Any:
        if q.kind is QuestionKind.MILESTONES:
            return self._milestones(value, at)
        if not isinstance(value, str):
            self.errors.append(FieldError(at, "must be text"))
            return None
        text = value.strip()
        if q.kind is QuestionKind.TEXT and len(text) > q.max_chars:
            self.errors.append(FieldError(at, f"at most {q.max_chars:,} characters ({len(text):,} given)"))
        if q.kind is QuestionKind.CHOICE and text not in q.options:
            self.errors.append(FieldError(at, f"choose one of: {'; '.join(q.options)}"))
        return text

    def _milestones(self, value: Any, at: str) -> list[dict[str, Any]]:
        if not isinstance(value, list) or len(value) > MAX_MILESTONES:
            self.errors.append(FieldError(at, f"a list of at most {MAX_MILESTONES} milestones"))
            return []
        out = []
        for i, m in enumerate(value):
            month, title = (m.get("month"), str(m.get("title", "")).strip()) if isinstance(m, dict) else (None, "")
            if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 60:
                self.errors.append(FieldError(f"{at}.{i}.month", "a month of the project, 1 to 60"))
            if not 1 <= len(title) <= 300:
                self.errors.append(FieldError(f"{at}.{i}.title", "what is done by then, 1 to 300 characters"))
            out.append({"month": month, "title": title})
        return sorted(out, key=lambda m: m["month"] if isinstance(m["month"], int) else 0)


def missing_answers(
    questions: list[Question], answers: dict[str, Any], attached: set[str], duration_months: int
) -> list[FieldError]:
    """What a submission still lacks or no longer fits: required answers and files, milestones after the end."""
    errs: list[FieldError] = []
    for q in questions:
        at = f"answers.{q.key}"
        given = q.key in attached if q.kind is QuestionKind.ATTACHMENT else bool(answers.get(q.key))
        if q.required and not given:
            what = "upload the PDF" if q.kind is QuestionKind.ATTACHMENT else "an answer is required"
            errs.append(FieldError(at, what))
        if q.kind is QuestionKind.MILESTONES:
            late = [m for m in answers.get(q.key) or [] if int(m.get("month") or 0) > duration_months]
            if late:
                errs.append(
                    FieldError(at, f"{len(late)} milestone(s) fall after the project's {duration_months} months")
                )
    return errs
