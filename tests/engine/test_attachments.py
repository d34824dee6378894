"""Files attached to a challenge: by anyone who can see it while it is open, checked by their content (not their
name), size-limited, their names made safe, kept in the database with an event naming them (size and SHA-256,
never the content); read back only by those who can see the case, each read logged; erased with the challenge's
words under the retention period, and in the subject access export."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from engine import retention
from engine.access_log import Caller
from engine.audit.log import extend
from engine.audit.notes import Signer
from engine.audit.reexecute import reexecute
from engine.audit.verify import verify
from engine.cases.attachments import MAX_BYTES, add_attachment, attachments_of, read_attachment, safe_name
from engine.cases.withdraw import withdraw_challenge
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import AccessLog, Attachment, Event, Notification, User
from engine.subject_access import export
from tests.walk import Walk, at

SIGNER = Signer.generate("test.invalid/audit")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20) + b"\xff\xd9"
EMAIL = (b"From: Police Practitioner <police@example.invalid>\r\nTo: csc@example.invalid\r\n"
         b"Subject: Summary of our discussion\r\nDate: Mon, 21 Dec 2026 10:00:00 +0000\r\n\r\n"
         b"We agreed to hold a strategy discussion.\r\n")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document/>"})


@pytest.fixture
def walk(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary")
    return walk


def _attach(walk, username: str, name: str, content: bytes, **options):
    return add_attachment(walk.session, walk.clock, walk.user(username), walk.challenge.id, name, content, **options)


def _counts(session):
    return (session.scalar(select(func.count(Event.id))), session.scalar(select(func.count(Attachment.id))),
            session.scalar(select(func.count(Notification.id))))


@pytest.mark.parametrize("name, content", [
    ("summary.pdf", PDF), ("plan.png", PNG), ("photo.JPG", JPEG), ("photo.jpeg", JPEG), ("letter.docx", DOCX),
    ("letter.odt", ODT), ("notes.txt", "Agreed at 10:00 — a strategy discussion.\n".encode()),
    ("summary email.eml", EMAIL)])
def test_each_allowed_kind_is_kept_with_an_event_naming_it(session, clock, walk, name, content):
    attachment = _attach(walk, "police-practitioner", name, content)
    [kept] = attachments_of(session, walk.challenge.id)
    assert (kept.file_name, kept.size, kept.sha256, kept.stage) == (name, len(content),
                                                                     hashlib.sha256(content).hexdigest(), 1)
    event = walk.events()[-1]
    assert event.kind == "attachment_added" and event.actor_id == walk.user("police-practitioner").id
    assert event.data == {"attachment_id": attachment.id, "file_name": name, "kind": kept.kind,
                          "size": len(content), "sha256": kept.sha256,
                          "by": "Practitioner, Durham Constabulary"}
    assert ("csc-practitioner", f"{walk.ref}: a file from Practitioner, Durham Constabulary") in walk.notes()


@pytest.mark.parametrize("name, content, says", [
    ("program.exe", b"MZ\x90\x00", "Only PDF"),
    ("page.html", b"<html><script>alert(1)</script></html>", "Only PDF"),
    ("no-ending", PDF, "Only PDF"),
    ("report.pdf", PNG, "its content is not one"),
    ("picture.png", b"GIF89a" + bytes(20), "its content is not one"),
    ("letter.docx", _zip({"a.txt": b"x"}), "its content is not one"),
    ("letter.odt", DOCX, "its content is not one"),
    ("notes.txt", b"\x00\x01binary\xff", "its content is not one"),
    ("mail.eml", b"Just some words, no headers.\n", "its content is not one"),
    ("empty.pdf", b"", "empty"),
    ("huge.pdf", b"%PDF-1.4\n" + bytes(MAX_BYTES), "at most 5 MB"),
])
def test_a_file_of_another_kind_or_too_large_is_refused_with_nothing_kept(session, clock, walk, name, content, says):
    before = _counts(session)
    with pytest.raises(Invalid) as refused:
        _attach(walk, "police-practitioner", name, content)
    assert says in refused.value.errors["file"]
    assert _counts(session) == before


def test_the_size_limit_is_the_callers_setting(session, clock, walk):
    with pytest.raises(Invalid, match="not attached") as refused:
        _attach(walk, "police-practitioner", "summary.pdf", PDF, max_bytes=20)
    assert "at most 20 bytes" in refused.value.errors["file"]


def test_names_are_made_safe():
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("C:\\Users\\me\\Summary <final>.pdf") == "Summary _final_.pdf"
    assert safe_name("..hidden.pdf") == "hidden.pdf"
    assert safe_name("line\r\nbreak\x00.txt") == "line_break_.txt"
    assert safe_name("é" * 300 + ".docx").endswith(".docx") and len(safe_name("é" * 300 + ".docx")) == 120


def test_outsiders_auditors_and_a_closed_challenge_are_refused(session, clock, walk):
    before = _counts(session)
    with pytest.raises(NotFound):
        _attach(walk, "health-practitioner", "summary.pdf", PDF)
    with pytest.raises(Forbidden):
        _attach(walk, "dsp-auditor", "summary.pdf", PDF)
    assert _counts(session) == before
    _attach(walk, "csc-manager", "summary.pdf", PDF)  # a manager of the raising agency sees it, so may add to it
    withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, "Resolved informally.")
    with pytest.raises(Conflict, match="closed"):
        _attach(walk, "csc-practitioner", "later.pdf", PDF)


def test_only_those_who_can_see_the_case_read_it_and_each_read_is_logged(session, clock, walk):
    attachment = _attach(walk, "police-practitioner", "summary.eml", EMAIL)
    reader = Caller(walk.user("csc-manager"), "192.0.2.7")
    got = read_attachment(session, clock, reader, walk.challenge.id, attachment.id)
    assert got.content == EMAIL
    logged = session.scalar(select(AccessLog).order_by(AccessLog.id.desc()))
    assert (logged.kind, logged.user_id, logged.challenge_id, logged.what) == (
        "case_read", reader.user.id, walk.challenge.id, f"attachment:{attachment.id}")
    with pytest.raises(NotFound):
        read_attachment(session, clock, Caller(walk.user("health-practitioner")), walk.challenge.id, attachment.id)
    other = Walk(session, clock, "darlington")
    other.raise_("health-practitioner", "Durham Constabulary")
    with pytest.raises(NotFound):  # an attachment read through another challenge is not found
        read_attachment(session, clock, Caller(walk.user("health-practitioner")), other.challenge.id,
                        attachment.id)


def test_the_history_still_re_executes_and_verifies(session, clock, walk):
    _attach(walk, "police-practitioner", "summary.pdf", PDF)
    assert reexecute(session, walk.refresh()).matches
    extend(session, clock, SIGNER)
    assert verify(session, SIGNER.verifier()).ok


def test_retention_erases_the_files_and_the_export_holds_them_until_then(session, clock, walk, demo):
    attachment = _attach(walk, "police-practitioner", "summary.eml", EMAIL)
    business_unit = Caller(session.scalar(select(User).where(User.username == "dsp-business-unit")))
    archive = zipfile.ZipFile(io.BytesIO(export(session, clock, business_unit, demo.id, "CH-3071")))
    folder = walk.ref
    assert archive.read(f"{folder}/attachments/{attachment.id}-summary.eml") == EMAIL
    [listed] = json.loads(archive.read(f"{folder}/attachments.json"))
    assert (listed["file_name"], listed["size"]) == ("summary.eml", len(EMAIL))

    withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, "Resolved informally.")
    demo.retention_days = 30
    session.commit()
    extend(session, clock, SIGNER)
    clock.set(at(2027, 2, 1, 12))
    assert retention.erase_due(session, clock) == 1
    session.expire_all()
    kept = session.get(Attachment, attachment.id)
    assert (kept.content, kept.file_name, kept.size) == (None, "(erased)", len(EMAIL))
    history = walk.events()
    assert all(e.data == {"erased": True} for e in history if e.kind in ("attachment_added", "challenge_withdrawn"))
    with pytest.raises(NotFound, match="erased"):
        read_attachment(session, clock, Caller(walk.user("csc-practitioner")), walk.challenge.id, attachment.id)
    archive = zipfile.ZipFile(io.BytesIO(export(session, clock, business_unit, demo.id, "(erased)")))
    assert not [n for n in archive.namelist() if "/attachments/" in n]
    extend(session, clock, SIGNER)
    assert verify(session, SIGNER.verifier()).ok
