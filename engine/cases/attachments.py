"""Files added to a challenge (the summary email the procedure recommends, a letter, a photograph of a plan): by
anyone who can see the case, while it is open (not the auditors, who change nothing). Each is checked by what
its content is, not what its name says: its name must end as one of the kinds below and its first bytes (or, for
Word and OpenDocument files, the parts inside the zip) must be that kind, or it is refused. Its size is limited
(`MAX_BYTES` unless the caller says otherwise), its name made safe, and it is kept in the database in the same
unit of work as its event (which holds its name, size and SHA-256, never its content). Only those who can see
the case can read it back, and each read is in the access log."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from .. import access_log, events
from ..access_log import Caller
from ..clock import Clock
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import Attachment, User
from ..queries.access import is_auditor
from ..queries.cases import get_challenge
from ..text import storable
from ..unit_of_work import unit_of_work
from . import store

MAX_BYTES = 5 * 1024 * 1024
NAME_LIMIT = 120


@dataclass(frozen=True)
class Kind:
    label: str
    media_type: str  # what a download is served as
    endings: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "pdf": Kind("PDF", "application/pdf", (".pdf",)),
    "docx": Kind("Word document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 (".docx",)),
    "odt": Kind("OpenDocument text", "application/vnd.oasis.opendocument.text", (".odt",)),
    "txt": Kind("Plain text", "text/plain; charset=utf-8", (".txt",)),
    "eml": Kind("Email", "message/rfc822", (".eml",)),
    "png": Kind("PNG image", "image/png", (".png",)),
    "jpeg": Kind("JPEG image", "image/jpeg", (".jpg", ".jpeg")),
}
ALLOWED = "PDF, Word (.docx), OpenDocument text (.odt), plain text (.txt), email (.eml), PNG and JPEG"
REFUSED = "The file was not attached."


def size_in_words(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


# --- what a file is -------------------------------------------------------------------------------------------


def _zip_names(content: bytes) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError):
        return None


def _is_docx(content: bytes) -> bool:
    archive = _zip_names(content) if content.startswith(b"PK\x03\x04") else None
    if archive is None:
        return False
    names = set(archive.namelist())
    return "[Content_Types].xml" in names and "word/document.xml" in names


def _is_odt(content: bytes) -> bool:
    archive = _zip_names(content) if content.startswith(b"PK\x03\x04") else None
    if archive is None:
        return False
    try:
        info = archive.getinfo("mimetype")
        # Only a few bytes are ever read: the member's declared size is checked first (no zip bomb gets in).
        return info.file_size < 100 and archive.read(info).strip() == b"application/vnd.oasis.opendocument.text"
    except (KeyError, zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError):
        return False


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _text(content: bytes) -> str | None:
    """The content as text, if it is UTF-8 text with no control characters but tabs, line and page breaks."""
    try:
        text = content.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


_HEADER = re.compile(r"^[!-9;-~]+:")


def _is_email(content: bytes) -> bool:
    """An RFC 5322 message: header fields up to the first blank line, one of them From."""
    text = _text(content)
    if text is None:
        return False
    fields = []
    for line in text.splitlines():
        if not line.strip():
            break
        if line[0] in " \t" and fields:
            continue  # a folded header field goes on
        if not _HEADER.match(line):
            return False
        fields.append(line.split(":", 1)[0].lower())
    return "from" in fields and len(fields) >= 2


def matches(kind: str, content: bytes) -> bool:
    """Whether the content is what `kind` says, by its bytes."""
    if kind == "pdf":
        return b"%PDF-" in content[:1024]
    if kind == "png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "jpeg":
        return content.startswith(b"\xff\xd8\xff")
    if kind == "docx":
        return _is_docx(content)
    if kind == "odt":
        return _is_odt(content)
    if kind == "txt":
        return _text(content) is not None
    if kind == "eml":
        return _is_email(content)
    return False


def kind_of_name(name: str) -> str | None:
    lowered = name.lower()
    return next((key for key, kind in KINDS.items() if lowered.endswith(kind.endings)), None)


def safe_name(name: object) -> str:
    """A file name safe to keep and to send back: no folders, no control or path characters, no leading dots,
    at most NAME_LIMIT characters (its ending kept)."""
    name = name if isinstance(name, str) else ""
    name = unicodedata.normalize("NFC", re.split(r"[\\/]", name)[-1])
    name = "".join(c if (c.isalnum() or c in " ._-()") else "_" for c in name)
    name = re.sub(r" {2,}", " ", re.sub(r"_{2,}", "_", name)).strip(" ._")
    if len(name) > NAME_LIMIT:
        stem, dot, ending = name.rpartition(".")
        name = (stem[:NAME_LIMIT - len(ending) - 1] + dot + ending) if dot and len(ending) <= 5 else name[:NAME_LIMIT]
    return name


# --- adding one -----------------------------------------------------------------------------------------------


def add_attachment(session: Session, clock: Clock, user: User, challenge_id: int, file_name: object,
                   content: bytes | None, max_bytes: int = MAX_BYTES) -> Attachment:
    """Keep a file with an open challenge the user can see, recorded in its history and told to whoever its
    open tasks wait on. Refused, with nothing kept, when it is empty, too large, or not what its name says."""
    challenge = get_challenge(session, user, challenge_id)  # "not found" for whoever may not see it
    if is_auditor(session, user):
        raise Forbidden("Auditors read challenges and change nothing, attachments included.")
    if challenge.status != "open":
        raise Conflict(f"{challenge.reference} is closed: files can be attached while it is open.")
    name = safe_name(file_name)
    kind = kind_of_name(name)
    size = len(content or b"")
    if not content:
        problem = "Choose a file: this one is empty." if name else "Choose a file to attach."
    elif size > max_bytes:
        limit, this = size_in_words(max_bytes), size_in_words(size)
        problem = f"A file can be at most {limit}; this one is {'a little larger' if this == limit else this}."
    elif not name or not storable(name):
        problem = "Give the file a name."
    elif kind is None:
        problem = f"Only {ALLOWED} files can be attached."
    elif not matches(kind, content):
        problem = (f"This file's name says {KINDS[kind].label}, but its content is not one, so it was not kept. "
                   f"Only {ALLOWED} files can be attached.")
    else:
        problem = None
    if problem:
        raise Invalid({"file": problem}, REFUSED)
    digest = hashlib.sha256(content).hexdigest()
    with unit_of_work(session) as work:
        now = clock.now()
        attachment = Attachment(challenge_id=challenge.id, file_name=name, kind=kind, size=size, sha256=digest,
                                content=content, stage=challenge.current_stage, added_by_id=user.id, added_at=now)
        session.add(attachment)
        session.flush()
        events.write(session, clock, challenge.id, [events.AttachmentAdded(now, {
            "attachment_id": attachment.id, "file_name": name, "kind": kind, "size": size, "sha256": digest,
            "by": user.display_name}, actor_id=user.id)])
        store.queue(session, now, challenge.id, store.recipients(challenge, {}, None, ["referrer", "current"],
                                                                 store.open_task_uuids(session, challenge.id)),
                    f"{challenge.reference}: a file from {user.display_name}",
                    f"{user.display_name} attached {name} ({KINDS[kind].label}, {size_in_words(size)}) to the "
                    f"professional challenge about case {challenge.subject_reference}. Open the challenge to read it.")
        work.commit()
    return attachment


# --- reading them ---------------------------------------------------------------------------------------------


def attachments_of(session: Session, challenge_id: int) -> list[Attachment]:
    """A challenge's attachments, oldest first, without their content (the caller has read the challenge)."""
    return list(session.scalars(select(Attachment).where(Attachment.challenge_id == challenge_id)
                                .order_by(Attachment.id)))


def read_attachment(session: Session, clock: Clock, caller: Caller, challenge_id: int,
                    attachment_id: int) -> Attachment:
    """An attachment of a challenge the caller may see, with its content, the read logged. "Not found" for
    anyone who may not see the case, and for an attachment of another challenge."""
    with unit_of_work(session) as work:
        challenge = get_challenge(session, caller.user, challenge_id)
        attachment = session.scalar(select(Attachment).options(undefer(Attachment.content))
                                    .where(Attachment.id == attachment_id, Attachment.challenge_id == challenge.id))
        if attachment is None:
            raise NotFound("There is no such attachment.")
        if attachment.content is None:
            raise NotFound(f"The content of {attachment.file_name} was erased under the partnership's retention "
                           "period.")
        access_log.log(session, clock, "case_read", caller, challenge_id=challenge.id,
                       what=f"attachment:{attachment.id}", detail={"attachment": attachment.id})
        work.commit()
        return attachment
