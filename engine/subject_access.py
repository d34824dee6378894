"""A subject access export: everything held under a case reference (the child's or adult's reference, not a
challenge's) in one partnership, as a zip its business unit can hand over: for each challenge its details, its
history with every answer, its notifications, its attached files, and its records as PDFs. Only the
partnership's business unit may make one; each challenge put in it is access-logged."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from . import access_log, events
from .access_log import Caller
from .clock import Clock
from .errors import Forbidden, Invalid, NotFound
from .models import Agency, Attachment, Challenge, Membership, Notification, User
from .queries.documents import available, build
from .queries.printing import render_pdf
from .queries.records import challenged_json, history, raised_answers, stage_records
from .text import storable
from .unit_of_work import unit_of_work

EXPORTER = "business_unit"


def exporting_partnerships(session: Session, user: User) -> list[int]:
    """The partnerships whose business unit the user is in."""
    return list(session.scalars(select(Agency.partnership_id).join(Membership, Membership.agency_id == Agency.id)
                                .where(Membership.user_id == user.id, Membership.role == EXPORTER).distinct()))


def _moment(value) -> str | None:
    return value.isoformat() if value is not None else None


def _challenge(session: Session, challenge: Challenge) -> dict[str, Any]:
    raised = raised_answers(session, challenge)
    return {"reference": challenge.reference, "subject_reference": challenge.subject_reference,
            "partnership": challenge.partnership.name, "raising_agency": challenge.raising_agency.name,
            "receiving_agency": challenge.receiving_agency.name, "referrer": challenge.referrer.display_name,
            "area": challenge.area, "summary": challenge.summary, "status": challenge.status,
            "outcome": challenge.outcome, "stage": challenge.current_stage, "raised_at": _moment(challenge.raised_at),
            "closed_at": _moment(challenge.closed_at), "erased_at": _moment(challenge.erased_at),
            "challenged": challenged_json(raised), "concern_first_raised": raised.get("concern_first_raised")}


def _history(session: Session, challenge: Challenge) -> list[dict[str, Any]]:
    return [{"at": _moment(e.at), "what": events.label(e.kind), "kind": e.kind,
             "who": e.actor.display_name if e.actor else None, "data": e.data} for e in history(session, challenge)]


def _stages(session: Session, challenge: Challenge) -> list[dict[str, Any]]:
    return [{"stage": stage.stage, "tasks": [
        {"task": record.task.title, "status": record.task.status, "opened_at": _moment(record.task.opened_at),
         "completed_at": _moment(record.task.completed_at),
         "completed_by": record.task.completed_by.display_name if record.task.completed_by else None,
         "answers": {answer.label: answer.text for answer in record.answers}} for record in stage.tasks]}
        for stage in stage_records(session, challenge)]


def _notifications(session: Session, challenge: Challenge) -> list[dict[str, Any]]:
    rows = session.scalars(select(Notification).where(Notification.challenge_id == challenge.id)
                           .order_by(Notification.id))
    return [{"at": _moment(n.created_at), "to": n.email, "subject": n.subject, "body": n.body} for n in rows]


def _attachments(session: Session, challenge: Challenge) -> list[Attachment]:
    return list(session.scalars(select(Attachment).options(undefer(Attachment.content))
                                .where(Attachment.challenge_id == challenge.id).order_by(Attachment.id)))


def _attachment(attachment: Attachment) -> dict[str, Any]:
    return {"number": attachment.id, "file_name": attachment.file_name, "kind": attachment.kind,
            "size": attachment.size, "sha256": attachment.sha256, "stage": attachment.stage,
            "added_by": attachment.added_by.display_name, "added_at": _moment(attachment.added_at),
            "erased_at": _moment(attachment.erased_at)}


README = """Subject access export
=====================

Everything Professional Challenge holds under the case reference {subject} in {partnership}, made {made} by
{by}. One folder per challenge raised about them:

  challenge.json      the challenge: agencies, area of challenge, what was said when it was raised, outcome
  stages.json         each stage's tasks, who completed them and their answers
  history.json        every event of the challenge's history, with its data
  notifications.json  every notification sent about it (email and in the service)
  attachments.json    the files attached to it: name, kind, size, SHA-256, who added it and when
  attachments/        the files themselves, each named by its number and its name
  *.pdf               the challenge's records as printed by the service

A challenge whose personal content was erased under the partnership's retention period says when (erased_at);
what was erased is not held any more.
"""


def export(session: Session, clock: Clock, caller: Caller, partnership_id: int, subject_reference: str) -> bytes:
    """The zip of everything held under the case reference in the partnership, for its business unit. Commits
    (the access log)."""
    reference = (subject_reference or "").strip()
    if not reference or len(reference) > 80 or not storable(reference):
        raise Invalid({"subject_reference": "Give the case reference, as it was given when the challenges were "
                                            "raised."})
    if caller.user is None or partnership_id not in exporting_partnerships(session, caller.user):
        raise Forbidden("Only the partnership's business unit can export what is held about someone.")
    challenges = list(session.scalars(select(Challenge).where(Challenge.partnership_id == partnership_id,
                                                              Challenge.subject_reference == reference)
                                      .order_by(Challenge.raised_at)))
    if not challenges:
        raise NotFound(f"Nothing is held under the case reference {reference!r} in this partnership.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(subject=reference, partnership=challenges[0].partnership.name,
                                                     made=clock.now().isoformat(), by=caller.user.display_name))
        for challenge in challenges:
            folder = challenge.reference
            files = _attachments(session, challenge)
            parts = {"challenge.json": _challenge(session, challenge), "stages.json": _stages(session, challenge),
                     "history.json": _history(session, challenge),
                     "notifications.json": _notifications(session, challenge),
                     "attachments.json": [_attachment(a) for a in files]}
            for name, content in parts.items():
                archive.writestr(f"{folder}/{name}", json.dumps(content, indent=2, ensure_ascii=False))
            for attachment in files:
                if attachment.content is not None:
                    archive.writestr(f"{folder}/attachments/{attachment.id}-{attachment.file_name}",
                                     attachment.content)
            if challenge.erased_at is None:
                for key in available(session, challenge):
                    archive.writestr(f"{folder}/{key}.pdf", render_pdf(build(session, challenge, key)))
    with unit_of_work(session) as work:
        for challenge in challenges:
            access_log.log(session, clock, "subject_access_export", caller, challenge_id=challenge.id,
                           what="subject access export", detail={"subject_reference": reference})
        work.commit()
    return buffer.getvalue()
