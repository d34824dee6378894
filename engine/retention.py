"""Retention: a closed challenge's personal content is erased once its partnership's retention period has passed since
it closed (UK GDPR's storage limitation). What people wrote and answered goes: the summary and subject reference,
the answers of its tasks, its notifications' text, the data of its events that carry content (notes, the reason it
was withdrawn, the names of its files), its attachments' content and names, and the workflow's state (an attachment
keeps its kind, size, hash, stage and who added it when). What the statistics need stays (agencies, area, stages,
times, deadlines, outcome), and so do the events themselves with their kinds, times and people: the audit log
committed to each event's content by a hash, so the history still verifies (engine.audit.verify checks an erased
event by its header and that hash, and says it was erased). The database lets an event's data be replaced by the
erased marker and nothing else."""

from __future__ import annotations

import json
import zlib
from datetime import timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from . import events
from .bpmn.serializer import state_json
from .clock import Clock
from .models import Attachment, Challenge, Event, LogEntry, Notification, Partnership, Task
from .unit_of_work import unit_of_work

# The events whose data is what people wrote or answered (the others hold titles, stages, times and outcomes).
CONTENT_KINDS = ("challenge_raised", "task_completed", "notified", "step_failed", "timer_failed", "note_added",
                 "challenge_withdrawn", "attachment_added")
ERASED_TEXT = "(erased)"
_events = Event.__table__


def _without_data(state: bytes) -> bytes:
    """The stored workflow with every task's data and the workflow's own emptied: its tree (which tasks ran, in
    what order, as the replay page draws it) is kept, what people answered is not."""
    workflow = state_json(state)
    for part in (workflow, *workflow.get("subprocesses", {}).values()):
        part["data"] = {}
        for task in part.get("tasks", {}).values():
            task["data"] = {}
            if "internal_data" in task:
                task["internal_data"] = {}
            if "delta" in task:  # what each task changed of the data
                task["delta"] = {"updates": {}, "deletions": []}
    return zlib.compress(json.dumps(workflow, separators=(",", ":")).encode(), 1)


def due_for_erasure(session: Session, clock: Clock, limit: int = 200) -> list[Challenge]:
    """Closed challenges whose partnership's retention period has passed since they closed, not yet erased, and
    whose every event the audit log has taken (so its hashes were recorded before the words go)."""
    now = clock.now()
    candidates = session.scalars(
        select(Challenge).join(Partnership, Partnership.id == Challenge.partnership_id)
        .where(Challenge.status == "closed", Challenge.erased_at.is_(None), Challenge.closed_at.is_not(None),
               Partnership.retention_days.is_not(None),
               ~exists().where(Event.challenge_id == Challenge.id,
                               ~exists().where(LogEntry.source == "event", LogEntry.source_id == Event.id)))
        .order_by(Challenge.closed_at).limit(limit * 4))
    return [c for c in candidates if c.closed_at + timedelta(days=c.partnership.retention_days) <= now][:limit]


def erase(session: Session, clock: Clock, challenge: Challenge) -> int:
    """Erase one closed challenge's personal content; returns how many events' data went. Commits."""
    with unit_of_work(session) as work:
        now = clock.now()
        ids = list(session.scalars(select(Event.id).where(Event.challenge_id == challenge.id,
                                                          Event.kind.in_(CONTENT_KINDS))))
        if ids:
            # Core, not the ORM: the ORM refuses any change to events; the database allows this one alone.
            session.execute(update(_events).where(_events.c.id.in_(ids)).values(data={"erased": True}))
        session.execute(update(Task).where(Task.challenge_id == challenge.id).values(data=None)
                        .execution_options(synchronize_session=False))
        session.execute(update(Notification).where(Notification.challenge_id == challenge.id)
                        .values(subject=ERASED_TEXT, body="").execution_options(synchronize_session=False))
        session.execute(update(Attachment).where(Attachment.challenge_id == challenge.id)
                        .values(content=None, file_name=ERASED_TEXT, erased_at=now)
                        .execution_options(synchronize_session=False))
        challenge.summary, challenge.subject_reference = "", ERASED_TEXT
        challenge.state, challenge.erased_at = _without_data(challenge.state), now
        events.write(session, clock, challenge.id, [events.ContentErased(
            now, {"retention_days": challenge.partnership.retention_days,
                  "closed_at": challenge.closed_at.isoformat(), "events": len(ids)})])
        work.commit()
        return len(ids)


def erase_due(session: Session, clock: Clock) -> int:
    """Erase every challenge due for it, one transaction each; returns how many were erased."""
    erased = 0
    while batch := due_for_erasure(session, clock):
        for challenge in batch:
            erase(session, clock, challenge)
            erased += 1
    return erased
