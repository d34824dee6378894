"""A note added to a challenge at any stage, by anyone taking part in it (not the auditors, who change nothing):
recorded in its history as an event, and told to the referrer and whoever its open tasks wait on."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import events
from ..clock import Clock
from ..errors import Forbidden, Invalid
from ..models import User
from ..queries.access import is_auditor
from ..queries.cases import get_challenge
from ..unit_of_work import unit_of_work
from . import store

NOTE_LIMIT = 5000


def add_note(session: Session, clock: Clock, user: User, challenge_id: int, text: object) -> None:
    challenge = get_challenge(session, user, challenge_id)  # "not found" for whoever may not see it
    if is_auditor(session, user):
        raise Forbidden("Auditors read challenges and change nothing, notes included.")
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise Invalid({"note": "Write the note."}, "The note was not added.")
    if len(text) > NOTE_LIMIT:
        raise Invalid({"note": f"Keep a note to {NOTE_LIMIT} characters."}, "The note was not added.")
    with unit_of_work(session) as work:
        now = clock.now()
        events.write(session, clock, challenge.id, [events.NoteAdded(now, {"text": text, "by": user.display_name},
                                                                     actor_id=user.id)])
        store.queue(session, now, challenge.id, store.recipients(challenge, {}, None, ["referrer", "current"],
                                                                 store.open_task_uuids(session, challenge.id)),
                    f"{challenge.reference}: a note from {user.display_name}", text)
        work.commit()

