"""Reminders caught up after downtime: the worker down across a reminder and its deadline sends only the
"deadline missed" notice (the reminder is kept in the history as withheld, and the case still re-executes from
its history); down across the reminder alone, the reminder still goes, late but before the deadline."""

from __future__ import annotations

from sqlalchemy import select

from engine.audit.reexecute import reexecute
from engine.models import Challenge
from tests.walk import Walk, at


def _walk(session, clock) -> Walk:
    """csc-practitioner challenges Durham Constabulary on Friday 18 December 2026, 15:00: stage 1 is due Monday
    21 December, 17:00, with a reminder four hours before (13:00)."""
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary")
    walk.notes()
    return walk


def test_down_across_the_reminder_and_its_deadline_only_the_missed_notice_is_sent(session, clock, demo):
    walk = _walk(session, clock)
    mark = walk.last_event_id()
    assert walk.fire(at(2026, 12, 22, 10)) == 1  # nothing ran from Friday until Tuesday morning
    subjects = {subject for _, subject in walk.notes()}
    assert f"{walk.ref}: stage 1 deadline approaching" not in subjects
    assert f"{walk.ref}: stage 1 deadline missed, now at stage 2" in subjects
    fired = [e.data["timer"] for e in walk.events(mark) if e.kind == "timer_fired"]
    assert fired[:2] == ["Stage 1 reminder", "Stage 1 deadline"]
    [withheld] = [e for e in walk.events(mark) if e.kind == "notified" and e.data.get("withheld")]
    assert withheld.data["subject"] == f"{walk.ref}: stage 1 deadline approaching"
    assert withheld.at == at(2026, 12, 21, 13)  # the moment the case lived it
    replayed = reexecute(session, session.scalar(select(Challenge).where(Challenge.id == walk.challenge.id)))
    assert replayed.matches, replayed.message


def test_down_across_the_reminder_alone_it_is_still_sent_before_the_deadline(session, clock, demo):
    walk = _walk(session, clock)
    assert walk.fire(at(2026, 12, 21, 16)) == 1  # the reminder fell due at 13:00; the deadline is at 17:00
    assert (("police-practitioner", f"{walk.ref}: stage 1 deadline approaching") in walk.notes())
