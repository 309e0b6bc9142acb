"""What a call asks of applicants (domain.questions), the answers, the attachments and the readiness check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from ...domain.questions import MAX_OPTIONS, MAX_TEXT_CHARS, QuestionKind
from .common import In, Out

Key = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
Short = Annotated[str, Field(max_length=200)]
Help = Annotated[str, Field(max_length=1000)]
Label = Annotated[str, Field(min_length=1, max_length=120)]


class QuestionIn(In):
    """One question of a call. A standard question needs only its key (work_plan, milestones, data_readiness,
    code_readiness, team_experience, impact, attachment); anything given overrides its wording. A question of
    your own needs a key, a kind and a title."""

    key: Key
    kind: QuestionKind | None = None
    title: Short | None = None
    help: Help | None = None
    title_de: Short | None = None
    help_de: Help | None = None
    required: bool | None = None
    max_chars: Annotated[int, Field(ge=20, le=MAX_TEXT_CHARS)] | None = Field(default=None, description="text")
    options: Annotated[list[Label], Field(max_length=MAX_OPTIONS)] | None = Field(default=None, description="choice")
    options_de: Annotated[list[Label], Field(max_length=MAX_OPTIONS)] | None = None
    max_bytes: Annotated[int, Field(ge=1, le=1 << 30)] | None = Field(
        default=None, description="attachment: the largest PDF, in bytes (at most the site's limit)"
    )


class QuestionOut(Out):
    key: str
    kind: QuestionKind
    title: str
    help: str
    title_de: str
    help_de: str
    required: bool
    max_chars: int
    options: list[str]
    options_de: list[str]
    max_bytes: int


class MilestoneIn(In):
    month: Annotated[int, Field(ge=1, le=60, description="the project month by which it is done")]
    title: Annotated[str, Field(min_length=1, max_length=300)]


#: An answer: text (a text or choice question), milestones, or null to remove it.
Answer = Annotated[str, Field(max_length=MAX_TEXT_CHARS)] | Annotated[list[MilestoneIn], Field(max_length=24)] | None


class AttachmentOut(Out):
    key: str
    filename: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


class ProblemOut(Out):
    field: str
    message: str
    section: str | None = Field(description="project, team, resources, plan or ethics; null: the whole proposal")


class ChecksOut(Out):
    ready: bool = Field(description="nothing in the proposal keeps it from being submitted")
    problems: list[ProblemOut]
    waiting_for: list[str] = Field(
        description="what submission also waits for outside the proposal: partner_consent, verified_email"
    )
