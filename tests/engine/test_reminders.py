"""Tasks a procedure wants done "as soon as possible" (procedure.json's as_soon_as_possible) remind their holder and
their manager every working day until they close: Tees stage 1 ("this discussion must take place as soon as
possible") and Darlington stage 4 (the heads of service, "a decision to be reached as soon as possible"). The
reminders run on the engine's clock, on each worker pass: one after downtime, however many intervals it missed.

Tees: tees-csc-practitioner challenges Cleveland Police on Friday 18 December 2026, 15:00; stage 1 is due two
working days later (Tuesday 22 December, 17:00), with the diagram's own reminder one working day before it."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from engine.audit.reexecute import reexecute
from engine.cases.reminders import manager_of, send_due_reminders
from engine.cases.tasks import claim_task
from engine.cases.worker import TimerWorker
from engine.errors import InvalidProcedure
from engine.models import Challenge, Event
from engine.procedures.check import check_procedure
from engine.procedures.files import WORKFLOWS, read_folder
from tests.engine.test_darlington_scenario import RESPOND, escalate_to
from tests.walk import Walk, at

REMINDER = "reminder, as soon as possible - "


def remind(walk: Walk, when) -> int:
    """What a worker pass does at `when`: the timers due, then the reminders due."""
    walk.fire(when)
    sent = send_due_reminders(walk.session, walk.clock)
    walk.refresh()
    return sent


def reminders(walk: Walk, mark: int = 0) -> list[Event]:
    return [e for e in walk.events(mark) if e.kind == "reminder_sent"]


def tees(session, clock) -> Walk:
    walk = Walk(session, clock, "tees")
    walk.raise_("tees-csc-practitioner", "Cleveland Police")
    walk.notes()
    return walk


def test_the_holders_and_their_line_manager_are_reminded_when_a_working_day_has_passed(session, clock, demo):
    walk = tees(session, clock)
    task = walk.task("s1_respond")
    assert task.remind_at == at(2026, 12, 21, 17)  # one working day after Friday: Monday, end of the day
    assert remind(walk, at(2026, 12, 21, 16, 59)) == 0
    assert remind(walk, at(2026, 12, 21, 17)) == 1
    subject = f"{walk.ref}: {REMINDER}Stage 1: respond to the challenge"
    assert walk.recipients(subject) == {"tees-police-practitioner", "tees-police-manager"}
    assert "held by nobody yet" in walk.body("tees-police-manager", subject)
    assert "as soon as possible" in walk.body("tees-police-practitioner", subject)
    [event] = reminders(walk)
    assert event.data | {} == {"title": "Stage 1: respond to the challenge", "stage": 1, "holders": 1,
                               "managers": 1, "manager_role": "line_manager",
                               "next": "2026-12-22T17:00:00+00:00"}
    assert (event.at, event.task_id, event.element_id) == (at(2026, 12, 21, 17), task.id, "s1_respond")
    # Not again on the next pass, nor until the next working day's end.
    assert remind(walk, at(2026, 12, 21, 17, 1)) == 0


def test_a_claimed_task_reminds_whoever_claimed_it_and_their_manager(session, clock, demo):
    walk = tees(session, clock)
    claimer = walk.user("tees-police-practitioner")
    claim_task(session, clock, claimer, walk.task("s1_respond").id)
    assert remind(walk, at(2026, 12, 21, 17)) == 1
    subject = f"{walk.ref}: {REMINDER}Stage 1: respond to the challenge"
    assert walk.recipients(subject) == {"tees-police-practitioner", "tees-police-manager"}
    assert f"held by {claimer.display_name}" in walk.body("tees-police-manager", subject)


def test_the_deadline_closes_the_task_before_a_reminder_due_at_the_same_moment(session, clock, demo):
    walk = tees(session, clock)
    remind(walk, at(2026, 12, 21, 17))
    mark = walk.last_event_id()
    # Tuesday 17:00: the stage 1 deadline and the next reminder fall due together; the deadline is taken first.
    assert remind(walk, at(2026, 12, 22, 17)) == 0
    assert walk.rows("s1_respond")[0].status == "lapsed"
    assert reminders(walk, mark) == []


def test_a_manager_is_the_next_role_up_the_ladder_that_someone_in_the_agency_holds(session, demo, agency):
    darlington_police, tees_police = agency("Durham Constabulary"), agency("Cleveland Police")
    assert manager_of(session, "practitioner", tees_police.id)[0] == "line_manager"
    assert manager_of(session, "line_manager", tees_police.id)[0] == "senior_manager"
    # Tees has every tier of stage 3: a head of service answers to the director, who answers to nobody here.
    assert manager_of(session, "head_of_service", tees_police.id)[0] == "director"
    assert manager_of(session, "director", tees_police.id) == (None, [])
    # Darlington's agencies have no senior managers: a line manager answers to the head of service.
    assert manager_of(session, "line_manager", darlington_police.id)[0] == "head_of_service"
    assert manager_of(session, "head_of_service", darlington_police.id) == (None, [])
    assert manager_of(session, "business_unit", darlington_police.id) == (None, [])


def darlington_at_stage_4(session, clock) -> Walk:
    """Escalated by decision to stage 4 on Tuesday 22 December, 14:00: the receiving head of service responds;
    the stage's target is Thursday 31 December and the diagram reminds on Thursday 24 December, 17:00."""
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary")
    escalate_to(walk, 4)
    walk.notes()
    return walk


def test_stage_4_reminds_every_working_day_until_the_task_is_completed(session, clock, demo):
    walk = darlington_at_stage_4(session, clock)
    subject = f"{walk.ref}: {REMINDER}Stage 4: respond to the challenge"
    assert walk.task("s4_respond").remind_at == at(2026, 12, 23, 17)
    assert remind(walk, at(2026, 12, 23, 17)) == 1
    assert remind(walk, at(2026, 12, 24, 17)) == 1  # the next working day (beside the diagram's own reminder)
    # Christmas Day, the Boxing Day holiday on Monday 28 and the weekend are not working days.
    assert remind(walk, at(2026, 12, 28, 17)) == 0
    assert remind(walk, at(2026, 12, 29, 17)) == 1
    assert walk.recipients(subject) == {"police-head"}  # the head of service has no manager above them
    assert [e.at for e in reminders(walk)] == [at(2026, 12, 23, 17), at(2026, 12, 24, 17), at(2026, 12, 29, 17)]
    assert len(walk.notification_ids(subject)) == 3

    walk.act("police-head", RESPOND, at(2026, 12, 30, 9))
    assert walk.rows("s4_respond")[0].status == "completed"
    mark = walk.last_event_id()
    # The next task of the stage has reminders of its own, from when it opened; the completed one has no more.
    assert walk.task("s4_decide").remind_at == at(2026, 12, 31, 17)
    assert remind(walk, at(2026, 12, 31, 17)) == 1
    assert [e.data["title"] for e in reminders(walk, mark)] == ["Stage 4: record the discussion and decide"]
    assert len(walk.notification_ids(subject)) == 3
    replayed = reexecute(session, session.scalar(select(Challenge).where(Challenge.id == walk.challenge.id)))
    assert replayed.matches, replayed.message


def test_after_downtime_one_reminder_not_one_per_working_day_missed(session, clock, sessions, demo):
    walk = darlington_at_stage_4(session, clock)
    mark = walk.last_event_id()
    worker = TimerWorker(sessions, clock)
    # Nothing ran from Tuesday 22 December until Wednesday 30 December, noon: four reminders' moments passed.
    clock.set(at(2026, 12, 30, 12))
    while worker.tick():
        pass
    walk.refresh()
    [event] = reminders(walk, mark)
    assert event.at == at(2026, 12, 30, 12)
    assert event.data["next"] == "2026-12-31T17:00:00+00:00"  # counted from now
    assert len(walk.notification_ids(f"{walk.ref}: {REMINDER}Stage 4: respond to the challenge")) == 1
    # The diagram's own stage 4 reminder (Thursday 24 December) was caught up first, as the timers are.
    fired = [e for e in walk.events(mark) if e.kind == "timer_fired"]
    assert [e.data["timer"] for e in fired] == ["Stage 4 reminder"] and fired[0].id < event.id
    clock.set(at(2026, 12, 31, 17))
    assert worker.tick() == 2  # the stage 4 target passed (a timer) and the day's reminder
    assert len(reminders(walk, mark)) == 2


@pytest.mark.parametrize("entry, message", [
    ({"tasks": ["s1_respond"], "remind_every_working_days": 0}, "a whole number from 1 to 20"),
    ({"tasks": ["s1_respond"], "remind_every_working_days": "1"}, "a whole number from 1 to 20"),
    ({"tasks": [], "remind_every_working_days": 1}, "as_soon_as_possible must be"),
    ({"tasks": ["s1_respond"], "remind_every_working_days": 1, "hours": 4}, "as_soon_as_possible must be"),
    ({"tasks": ["s1_respond_deadline"], "remind_every_working_days": 1}, "'s1_respond_deadline', which is not a user"),
])
def test_publishing_refuses_an_as_soon_as_possible_the_engine_cannot_keep(entry, message):
    files = read_folder(WORKFLOWS / "tees")
    assert files.meta["as_soon_as_possible"]["tasks"] == ["s1_respond", "s1_decide"]
    check_procedure(files, scripts_checker=lambda xml: None)
    wrong = dataclasses.replace(files, meta={**files.meta, "as_soon_as_possible": entry})
    with pytest.raises(InvalidProcedure, match=message):
        check_procedure(wrong, scripts_checker=lambda xml: None)


def test_the_fire_timers_command_sends_the_reminders_due_too(app, session, clock, demo):
    walk = tees(session, clock)
    runner = app.test_cli_runner()
    early = runner.invoke(args=["fire-timers", "--now", "2026-12-21T16:59:00Z"])
    assert early.exit_code == 0 and "reminded" not in early.output
    due = runner.invoke(args=["fire-timers", "--now", "2026-12-21T17:00:00Z"])
    assert due.exit_code == 0 and "1 task(s) wanted as soon as possible reminded" in due.output, due.output
    assert walk.recipients(f"{walk.ref}: {REMINDER}Stage 1: respond to the challenge") == {
        "tees-police-practitioner", "tees-police-manager"}
