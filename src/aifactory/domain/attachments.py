"""A proposal's attachments: one PDF per attachment question of its call, with its size and checksum."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from .errors import InvalidInput

PDF_MAGIC = b"%PDF-"


@dataclass(eq=False, kw_only=True)
class ProposalAttachment:
    proposal_id: int
    key: str  # the call's question it answers
    filename: str  # as the applicant named it (cleaned); the stored file's name is the server's
    size_bytes: int
    sha256: str
    uploaded_by: int
    uploaded_at: datetime
    id: int | None = None


def clean_filename(name: str) -> str:
    """A name safe to show and to offer in a download: the last path part, printable, at most 120 characters,
    ending in .pdf."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable() and c not in '"<>|:*?')
    base = base.strip(" .")[:120] or "attachment"
    return base if base.lower().endswith(".pdf") else f"{base}.pdf"


def check_pdf(head: bytes, field: str) -> None:
    """Only PDF files are taken (by their content, not their name)."""
    if not head.startswith(PDF_MAGIC):
        raise InvalidInput.on(field, "only PDF files can be attached (this file does not start like a PDF)")
