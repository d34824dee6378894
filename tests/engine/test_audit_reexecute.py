"""Re-execution proves the history explains the state: each case rebuilt from its pinned version and its events
on the recorded clock ends exactly where the stored case stands, moment by moment; a case whose rows were
changed by hand does not, and the first place it parts is named."""

from __future__ import annotations

from sqlalchemy import select, text

from engine.audit.reexecute import reexecute
from engine.models import Challenge, Event
from tests.walk import Walk, at

RESPOND = {"rationale": "The disclosure did not meet the threshold.", "response": "We will look at it again."}
ESCALATE = {"discussion": "We spoke and could not agree.", "decision": "escalate", "reason": "No agreement."}
RESOLVED = {"discussion": "We agreed a strategy discussion.", "decision": "resolved", "satisfied": "yes",
            "reason": "Agreed."}


def test_a_case_moved_by_people_and_by_deadlines_replays_exactly(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary")
    walk.complete("police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 10))
    # Nobody decides stage 1: its deadline (Monday 17:00) escalates the case, with a reminder before it.
    assert walk.fire(at(2026, 12, 21, 17, 1)) == 1
    walk.complete("csc-manager", "s2_review", {"justified": True, "review": "It stands."}, at(2026, 12, 22, 9))
    walk.complete("police-manager", "s2_respond", RESPOND, at(2026, 12, 22, 10))
    walk.complete("csc-manager", "s2_decide", RESOLVED, at(2026, 12, 22, 11))
    assert walk.refresh().status == "closed"
    result = reexecute(session, walk.challenge)
    assert result.matches, result.message


def test_a_tees_case_through_every_tier_by_its_deadlines_replays_exactly(session, clock, demo):
    walk = Walk(session, clock, "tees")
    walk.raise_("tees-csc-practitioner", "Cleveland Police", cp_or_lac="child_protection_plan")
    walk.complete("tees-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 10))
    walk.complete("tees-csc-practitioner", "s1_decide", ESCALATE, at(2026, 12, 21, 11))
    walk.complete("tees-police-manager", "s2_respond", RESPOND, at(2026, 12, 22, 10))
    walk.complete("tees-csc-manager", "s2_decide", ESCALATE, at(2026, 12, 22, 11))
    # Past every tier's reminder and deadline: each tier lapses into the next, the last into stage 4.
    walk.fire(at(2027, 1, 20, 12))
    assert walk.refresh().current_stage == 4
    result = reexecute(session, walk.refresh())
    assert result.matches, result.message


def test_a_case_whose_rows_were_changed_by_hand_does_not_replay(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary")
    walk.complete("police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 10))
    challenge = walk.refresh()
    session.execute(text("UPDATE challenges SET current_stage = 3 WHERE id = :id"), {"id": challenge.id})
    session.commit()
    session.expire_all()
    result = reexecute(session, session.get(Challenge, challenge.id))
    assert not result.matches and "stage is 3" in result.message


def test_an_event_missing_from_the_history_is_where_the_replay_parts(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary")
    assert walk.fire(at(2026, 12, 21, 17, 1)) == 1  # the deadline escalates stage 1
    challenge = walk.refresh()
    reminder = session.scalar(select(Event).where(Event.challenge_id == challenge.id, Event.kind == "timer_fired")
                              .order_by(Event.id))
    for table in ("events",):
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text(f"DROP TRIGGER {table}_append_only_delete"))
        else:
            session.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
    session.execute(text("DELETE FROM events WHERE id = :id"), {"id": reminder.id})
    session.commit()
    result = reexecute(session, challenge)
    # The reminder's moment is where the history and the procedure part: what is left of it is named.
    [left] = session.scalars(select(Event.id).where(Event.challenge_id == challenge.id, Event.at == reminder.at)
                             .order_by(Event.id).limit(1)).all()
    assert (result.matches, result.event_id) == (False, left)
    assert "13:00" in result.message
