"""A note added at any stage by anyone taking part (never by an auditor, never to a case one cannot see):
recorded in the history and told to the referrer and whoever the open tasks wait on."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.cases.notes import add_note
from engine.cases.raising import raise_challenge
from engine.errors import Forbidden, Invalid, NotFound
from engine.models import Event, Notification, User
from tests.conftest import raise_answers


@pytest.fixture
def challenge(session, clock, user, agency):
    return raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))


def test_a_note_is_in_the_history_and_told_to_the_referrer_and_the_task_holders(session, clock, user, challenge):
    add_note(session, clock, user("police-manager"), challenge.id, "  The officer is on leave until Monday.  ")
    note = session.scalar(select(Event).where(Event.challenge_id == challenge.id, Event.kind == "note_added"))
    assert note.data == {"text": "The officer is on leave until Monday.",
                         "by": "Line Manager / DSL, Durham Constabulary"}
    told = set(session.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                               .where(Notification.subject.like("%a note from%"))))
    assert told == {"csc-practitioner", "police-practitioner"}


def test_a_note_is_refused_when_empty_to_outsiders_and_to_auditors(session, clock, user, challenge):
    before = session.scalar(select(func.count(Event.id)))
    with pytest.raises(Invalid):
        add_note(session, clock, user("csc-practitioner"), challenge.id, "   ")
    with pytest.raises(Invalid):
        add_note(session, clock, user("csc-practitioner"), challenge.id, "x" * 5001)
    with pytest.raises(NotFound):
        add_note(session, clock, user("health-practitioner"), challenge.id, "hello")
    with pytest.raises(Forbidden):
        add_note(session, clock, user("dsp-auditor"), challenge.id, "hello")
    assert session.scalar(select(func.count(Event.id))) == before
