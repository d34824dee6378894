"""Timers fire without anyone asking: the worker (the run command's embedded scheduler, or its own process)
and the `fire-timers --now` command. The clock is moved, never waited for."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from engine.cases.raising import raise_challenge
from engine.cases.timers import fire_due_timers
from engine.cases.worker import TimerWorker
from engine.models import Challenge, Event, Task
from tests.conftest import raise_answers

AFTER_STAGE_1_DEADLINE = datetime(2026, 12, 21, 17, 0, 1, tzinfo=UTC)


def _wait_for(predicate, seconds: float = 10.0) -> bool:
    """Poll for the worker thread to have acted (bounded; the deadline itself is reached by moving the clock)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_embedded_worker_escalates_a_case_once_its_deadline_passes(sessions, session, clock, user, agency):
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    worker = TimerWorker(sessions, clock, idle_poll=0.05)
    worker.start_thread()
    try:
        time.sleep(0.3)  # a few idle passes: nothing is due yet, so nothing may move
        session.expire_all()
        assert session.get(Challenge, challenge.id).current_stage == 1
        clock.set(AFTER_STAGE_1_DEADLINE)

        def escalated():
            session.expire_all()
            return session.get(Challenge, challenge.id).current_stage == 2

        assert _wait_for(escalated)
    finally:
        worker.stop()
    fired = session.scalars(select(Event.data).where(Event.challenge_id == challenge.id,
                                                     Event.kind == "timer_fired")).all()
    assert [f["timer"] for f in fired] == ["Stage 1 reminder", "Stage 1 deadline"]


def test_a_deadline_that_passed_while_no_worker_ran_escalates_when_one_starts(sessions, session, clock, user,
                                                                              agency):
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    clock.set(datetime(2026, 12, 30, 9, 0, tzinfo=UTC))  # the worker was down over Christmas
    worker = TimerWorker(sessions, clock)
    assert worker.tick() == 1
    session.expire_all()
    moved = session.get(Challenge, challenge.id)
    # Stage 1 ended Mon 21 Dec 17:00; stage 2 (3 working days from then: 22, 23, 24 Dec) ended Thu 24 Dec
    # 17:00; so the case is at stage 3 now, each escalation stamped in the order it fell due.
    assert moved.current_stage == 3
    fired = session.scalars(select(Event.data).where(Event.challenge_id == challenge.id,
                                                     Event.kind == "timer_fired").order_by(Event.id)).all()
    assert [(f["timer"], f["due"]) for f in fired] == [
        ("Stage 1 reminder", "2026-12-21T13:00:00+00:00"),
        ("Stage 1 deadline", "2026-12-21T17:00:00+00:00"),
        ("Stage 2 reminder", "2026-12-23T17:00:00+00:00"),
        ("Stage 2 deadline", "2026-12-24T17:00:00+00:00"),
    ]
    assert worker.tick() == 0  # nothing fires twice


def test_fire_timers_command_fires_what_is_due_as_of_now(app, session, clock, user, agency):
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    runner = app.test_cli_runner()
    early = runner.invoke(args=["fire-timers", "--now", "2026-12-21T12:59:00Z"])
    assert early.exit_code == 0 and "0 challenge(s) moved on" in early.output
    due = runner.invoke(args=["fire-timers", "--now", "2026-12-21T17:00:00Z"])
    assert due.exit_code == 0 and "1 challenge(s) moved on" in due.output
    session.expire_all()
    assert session.get(Challenge, challenge.id).current_stage == 2
    bad = runner.invoke(args=["fire-timers", "--now", "2026-12-21T17:00:00"])
    assert bad.exit_code != 0 and "time zone" in bad.output


def test_firing_finds_due_cases_by_the_index_and_leaves_waiting_ones(session, clock, user, agency):
    raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    clock.advance(days=30)
    later = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    assert fire_due_timers(session, clock) == 1
    session.expire_all()
    assert session.get(Challenge, later.id).current_stage == 1
    assert session.scalar(select(func.count(Challenge.id)).where(Challenge.current_stage >= 2)) == 1


def test_a_challenge_raised_after_its_stage_1_deadline_passes_through_stage_1_in_order(session, clock, user,
                                                                                       agency):
    """Raised now with `raised_at` last Friday (the API allows it): the case is opened at stage 1 and walked
    through the reminder and the deadline in the order they fell due, each leaving its record."""
    clock.set(datetime(2026, 12, 22, 10, 0, tzinfo=UTC))  # Tuesday; stage 1 was due Monday 17:00
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id),
                                raised_at=datetime(2026, 12, 18, 15, 0, tzinfo=UTC))
    assert challenge.current_stage == 2
    rows = session.scalars(select(Task).where(Task.challenge_id == challenge.id).order_by(Task.id)).all()
    assert [(r.bpmn_id, r.status) for r in rows] == [("s1_respond", "lapsed"), ("s2_review", "open")]
    events = session.scalars(select(Event).where(Event.challenge_id == challenge.id).order_by(Event.id)).all()
    kinds = [(e.kind, e.data.get("timer") or e.data.get("stage") or e.data.get("title")) for e in events]
    assert kinds.index(("timer_fired", "Stage 1 reminder")) < kinds.index(("timer_fired", "Stage 1 deadline"))
    assert kinds.index(("stage_entered", 1)) < kinds.index(("timer_fired", "Stage 1 reminder"))
    assert kinds.index(("timer_fired", "Stage 1 deadline")) < kinds.index(("stage_entered", 2))
    # Stage 2 started at the stage 1 deadline (Mon 21 Dec 17:00): three working days, so Thu 24 Dec 17:00.
    assert rows[1].due_at == datetime(2026, 12, 24, 17, 0, tzinfo=UTC)
