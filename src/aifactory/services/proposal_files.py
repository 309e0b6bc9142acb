"""A proposal's attachments: the PDFs its call asks for, uploaded by the applicant while it is a draft, read by
whoever may read the proposal (its organizations, its assigned reviewers, operators).

The bytes live with the factory's other stored files, under ``<data dir>/proposals/<proposal id>/`` (0700, the
server's alone: no job identity reads them), one file per upload named by its checksum, so that a row always
names a complete file: a new upload is written aside, checked (size, PDF), renamed into place, then recorded; the
file it replaces is removed after the commit."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..domain.attachments import ProposalAttachment, check_pdf, clean_filename
from ..domain.calls import Call
from ..domain.errors import InvalidInput, NotFound, TooLarge
from ..domain.proposals import Action, require
from ..domain.questions import QuestionKind
from ..domain.storage import human_bytes
from .audit import record, snapshot
from .context import Actor, found
from .ports import Clock, UnitOfWork
from .proposals import get, get_own

BLOCK = 1 << 20


@dataclass(frozen=True)
class AttachmentArea:
    data_dir: Path
    cap: int  # the site's largest attachment (Settings.proposal_attachment_max_bytes)

    def folder(self, proposal_id: int) -> Path:
        return self.data_dir / "proposals" / str(proposal_id)

    def path(self, a: ProposalAttachment) -> Path:
        return self.folder(a.proposal_id) / f"{a.key}-{a.sha256}.pdf"

    def _ensure(self, proposal_id: int) -> Path:
        folder = self.folder(proposal_id)
        for d in (folder.parent, folder):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(d, 0o700)
        return folder

    def write(self, proposal_id: int, key: str, source: BinaryIO, limit: int, what: str) -> tuple[Path, int, str]:
        """(temporary path, size, sha256) of ``source`` copied aside; TooLarge over ``limit``, InvalidInput if it is
        not a PDF (nothing left behind either way)."""
        temp = self._ensure(proposal_id) / f".{key}.{secrets.token_hex(8)}.part"
        digest, size = hashlib.sha256(), 0
        try:
            with open(temp, "xb") as out:
                os.chmod(temp, 0o600)
                while block := source.read(BLOCK):
                    if size == 0:
                        check_pdf(block, f"attachments.{key}")
                    size += len(block)
                    if size > limit:
                        raise TooLarge(f"{what} may be at most {human_bytes(limit)}; nothing was saved")
                    digest.update(block)
                    out.write(block)
            if size == 0:
                raise InvalidInput.on(f"attachments.{key}", "the file is empty")
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp, size, digest.hexdigest()


def _attachment_question(call: Call, key: str) -> tuple[str, int]:
    """(title, size limit) of the call's attachment question ``key``; NotFound naming those it has."""
    for q in call.questions:
        if q.key == key and q.kind is QuestionKind.ATTACHMENT:
            return q.title, q.max_bytes
    asked = [q.key for q in call.questions if q.kind is QuestionKind.ATTACHMENT]
    raise NotFound(f"this call asks for no attachment {key!r} (it asks for: {', '.join(asked) or 'none'})")


def attach(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    area: AttachmentArea,
    proposal_id: int,
    key: str,
    *,
    filename: str,
    source: BinaryIO,
) -> ProposalAttachment:
    """Store ``source`` as the draft's answer to attachment question ``key`` (replacing an earlier upload)."""
    p = get_own(uow, actor, proposal_id)
    require(p.status, Action.EDIT)
    call: Call = found(uow.calls.get(p.call_id), "call", p.call_id)
    title, max_bytes = _attachment_question(call, key)
    temp, size, sha = area.write(p.stored_id, key, source, min(max_bytes, area.cap), f"{title!r}")
    old = uow.attachments.find(p.stored_id, key)
    old_path = area.path(old) if old is not None else None
    before = snapshot(old) if old is not None else None
    a = old or ProposalAttachment(
        proposal_id=p.stored_id,
        key=key,
        filename="",
        size_bytes=0,
        sha256="",
        uploaded_by=actor.id,
        uploaded_at=clock.now(),
    )
    a.filename, a.size_bytes, a.sha256 = clean_filename(filename), size, sha
    a.uploaded_by, a.uploaded_at = actor.id, clock.now()
    final = area.path(a)
    try:
        os.replace(temp, final)
        if old is None:
            uow.attachments.add(a)
        record(uow, clock, actor, "proposal.attachment_uploaded", a, before, snapshot(a))
        uow.commit()
    except BaseException:
        temp.unlink(missing_ok=True)
        if old_path != final:
            final.unlink(missing_ok=True)
        raise
    if old_path is not None and old_path != final:
        old_path.unlink(missing_ok=True)
    return a


def listed(uow: UnitOfWork, actor: Actor, proposal_id: int) -> list[ProposalAttachment]:
    """The proposal's attachments, to whoever may read the proposal."""
    p = get(uow, actor, proposal_id)
    return uow.attachments.for_proposal(p.stored_id)


def open_attachment(
    uow: UnitOfWork, actor: Actor, area: AttachmentArea, proposal_id: int, key: str
) -> tuple[ProposalAttachment, Path]:
    """The attachment and its file, to whoever may read the proposal; NotFound otherwise."""
    p = get(uow, actor, proposal_id)
    a = uow.attachments.find(p.stored_id, key)
    if a is None or not area.path(a).is_file():
        raise NotFound(f"proposal {proposal_id} has no attachment {key!r}")
    return a, area.path(a)


def remove(uow: UnitOfWork, clock: Clock, actor: Actor, area: AttachmentArea, proposal_id: int, key: str) -> None:
    p = get_own(uow, actor, proposal_id)
    require(p.status, Action.EDIT)
    a = uow.attachments.find(p.stored_id, key)
    if a is None:
        raise NotFound(f"proposal {proposal_id} has no attachment {key!r}")
    path = area.path(a)
    record(uow, clock, actor, "proposal.attachment_removed", a, snapshot(a), None)
    uow.attachments.remove(a)
    uow.commit()
    with contextlib.suppress(OSError):
        path.unlink()
