"""The Darlington procedure, stage by stage, through the engine's services, with the clock moved by hand.

Darlington Children's Social Care (csc-practitioner) challenges Durham Constabulary on Friday 18 December 2026 at
15:00. Stage 1 is practitioner to practitioner within one working day; stage 2 the line managers within three
working days; stage 3 an inter-agency meeting recorded on the Professional Challenge Recording Tool and copied to
the DSP Business Unit; stage 4 the heads of service; stage 5 the Business Unit's monitoring questions and the Lead
Safeguarding Partners / Independent Scrutineer's ultimate decision. Stages 3 to 5 have a five-working-day target
that warns when it passes but never escalates by itself.

Deadlines below were worked out by hand (England and Wales: Christmas Day Friday 25 December, Boxing Day
substituted on Monday 28 December, New Year's Day Friday 1 January 2027; GMT, so 17:00 London is 17:00 UTC).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.accounts import create_user
from engine.cases.tasks import claim_task, complete_task
from engine.errors import Conflict, NotFound
from engine.models import ChallengeFacts, Event, Notification, Task
from engine.queries.access import can_view, my_tasks
from engine.queries.documents import available, build, prefilled_answers
from tests.conftest import raise_answers
from tests.walk import Walk

USERS = [f"{agency}-{role}" for agency in ("csc", "police", "health", "school")
         for role in ("practitioner", "manager", "head")] + ["dsp-business-unit", "dsp-scrutineer"]

RESPOND = {"rationale": "The referral did not meet the threshold for a section 47 enquiry.",
           "response": "We will review the case with the school's DSL."}
ESCALATE = {"discussion": "We spoke on the phone and could not agree.", "decision": "escalate",
            "reason": "The injuries are still unexplained."}
RESOLVED = {"discussion": "We agreed a strategy discussion will be held.", "decision": "resolved",
            "satisfied": "yes", "reason": "A strategy discussion addresses the concern."}
RECORDING_TOOL_ESCALATE = {
    "meeting_held": True,
    "meeting_date": "2026-12-22",
    "attendees": "Line managers of Children's Social Care and Durham Constabulary.",
    "discussion": "Each agency set out its view of the threshold decision.",
    "agreed_outcomes": "Police will share the full incident log.",
    "outstanding_issues": "Whether a section 47 enquiry is needed.",
    "next_steps": "Escalate to the heads of service.",
    "decision": "escalate",
    "reason": "The threshold disagreement remains.",
}
MONITORING = {
    "what_was_the_challenge": "Closure of a referral without assessment despite repeated injuries.",
    "what_was_done": "Practitioner, manager, inter-agency and head-of-service discussions.",
    "outcome_of_actions": "No agreement on the threshold.",
    "how_resolved": "Not resolved; referred to the Lead Safeguarding Partners.",
    "satisfied": "no",
    "referred_to_partnership": True,
}
# Stage 2 starts with the raising line manager reviewing whether the concern is justified.
REVIEW_JUSTIFIED = {"justified": True, "review": "The injuries are repeated and unexplained: the concern stands.",
                    "liaison": "Why no assessment followed the school's reports."}
PARTNERS_DECISION = {"decision": "A section 47 enquiry will be opened.",
                     "next_course_of_action": "Strategy discussion within two working days."}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


RAISED = utc(2026, 12, 18, 15, 0)  # Friday 18 December 2026, 15:00 GMT

# Who responds and who decides at stages 1 to 4, with which decision form answers, and when (by hand, so that
# no reminder falls due on the way).
STAGES = {
    1: ("police-practitioner", "csc-practitioner", ESCALATE, utc(2026, 12, 18, 16, 0), utc(2026, 12, 18, 16, 30)),
    2: ("police-manager", "csc-manager", ESCALATE, utc(2026, 12, 21, 10, 0), utc(2026, 12, 21, 11, 0)),
    3: ("police-manager", "csc-manager", RECORDING_TOOL_ESCALATE, utc(2026, 12, 22, 10, 0),
        utc(2026, 12, 22, 14, 0)),
    4: ("police-head", "csc-head", ESCALATE, utc(2026, 12, 23, 10, 0), utc(2026, 12, 23, 12, 0)),
}
REVIEW_AT = utc(2026, 12, 21, 9, 0)
MONITORING_AT = utc(2026, 12, 24, 10, 0)
DECISION_AT = utc(2026, 12, 24, 11, 0)

# Each stage's due moment, from the moment the stage was entered on the timeline above.
DUE = {
    1: utc(2026, 12, 21, 17, 0),  # 1 working day after Fri 18 Dec: Mon 21
    2: utc(2026, 12, 23, 17, 0),  # 3 after Fri 18 Dec (entered 16:30): Mon 21, Tue 22, Wed 23
    3: utc(2026, 12, 30, 17, 0),  # 5 after Mon 21 Dec: Tue 22, Wed 23, Thu 24, (25-28) Tue 29, Wed 30
    4: utc(2026, 12, 31, 17, 0),  # 5 after Tue 22 Dec: Wed 23, Thu 24, Tue 29, Wed 30, Thu 31
    5: utc(2027, 1, 4, 17, 0),  # 5 after Wed 23 Dec: Thu 24, Tue 29, Wed 30, Thu 31, (Fri 1 Jan) Mon 4 Jan
}
# The earliest timer of each stage is its reminder.
REMINDER = {
    1: utc(2026, 12, 21, 13, 0),  # four hours before the stage 1 deadline
    2: utc(2026, 12, 22, 17, 0),  # one working day before Wed 23 Dec
    3: utc(2026, 12, 23, 17, 0),  # two working days after Mon 21 Dec
    4: utc(2026, 12, 24, 17, 0),  # two working days after Tue 22 Dec
    5: utc(2026, 12, 29, 17, 0),  # two working days after Wed 23 Dec: Thu 24, Tue 29
}


def stage(walk: Walk, n: int, decision: dict | None = None) -> None:
    respond_by, decide_by, answers, respond_at, decide_at = STAGES[n]
    if n == 2:
        walk.act(decide_by, REVIEW_JUSTIFIED, REVIEW_AT)
    walk.act(respond_by, RESPOND, respond_at)
    walk.act(decide_by, decision or answers, decide_at)


def escalate_to(walk: Walk, n: int) -> None:
    for number in range(walk.challenge.current_stage, n):
        stage(walk, number)
    assert walk.challenge.current_stage == n


def who_has(walk: Walk, task: Task) -> list[str]:
    """Every demo user of Darlington whose My tasks lists this task."""
    return walk.who_has(task, USERS)


@pytest.fixture
def walk(session, clock, demo) -> Walk:
    """csc-practitioner raises the challenge against Durham Constabulary at Friday 18 December 2026, 15:00."""
    assert clock.now() == RAISED
    walk = Walk(session, clock, "darlington")
    given = raise_answers(0)
    del given["receiving_agency_id"]
    walk.raise_("csc-practitioner", "Durham Constabulary", **given)
    return walk


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


# --- a) escalation by decision, all the way ----------------------------------------------------------------------

def test_stage_1_the_receiving_practitioner_responds_by_monday_17_00(walk):
    challenge = walk.challenge
    assert (challenge.status, challenge.current_stage, challenge.outcome) == ("open", 1, None)
    assert challenge.reference == f"DAR-2026-{challenge.id:05d}"
    task = walk.only_open_task()
    assert task.title == "Stage 1: respond to the challenge"
    assert (task.stage, task.lane, task.form) == (1, "Receiving practitioner", "respond.json")
    assert task.due_at == DUE[1]
    assert who_has(walk, task) == ["police-practitioner"]
    assert challenge.next_timer_due == REMINDER[1]
    # The referrer is not told that their own new challenge is at stage 1; the receiving practitioner is told
    # there is a task for them.
    assert walk.subjects("csc-practitioner") == []
    assert walk.subjects("police-practitioner") == [f"{walk.ref}: new task - Stage 1: respond to the challenge"]
    assert kinds(walk.events()) == ["challenge_raised", "task_opened", "stage_entered"]
    assert walk.events()[-1].data == {"stage": 1, "previous": 0}


def test_stage_1_then_the_raising_practitioner_records_the_discussion_and_decides(walk):
    walk.act("police-practitioner", RESPOND, STAGES[1][3])
    task = walk.only_open_task()
    assert task.title == "Stage 1: record the discussion and decide"
    assert (task.lane, task.form, task.due_at) == ("Raising practitioner", "decide.json", DUE[1])
    assert who_has(walk, task) == ["csc-practitioner"]
    assert walk.challenge.current_stage == 1


def test_stage_2_line_managers_once_the_practitioners_escalate(walk):
    walk.act("police-practitioner", RESPOND, STAGES[1][3])
    mark = walk.last_event_id()
    walk.act("csc-practitioner", ESCALATE, STAGES[1][4])

    assert walk.challenge.current_stage == 2
    # The procedure gives the raising practitioner's line manager the first move: reviewing whether the concern
    # is justified, before liaising with the receiving line manager.
    task = walk.only_open_task()
    assert (task.title, task.stage, task.lane) == ("Stage 2: review whether the concern is justified", 2,
                                                   "Raising line manager")
    assert task.due_at == DUE[2]
    assert who_has(walk, task) == ["csc-manager"]
    assert ("csc-manager", f"{walk.ref}: new task - Stage 2: review whether the concern is justified") in \
        walk.notes()
    assert walk.challenge.next_timer_due == REMINDER[2]
    assert f"{walk.ref}: now at stage 2" in walk.subjects("csc-practitioner")
    assert kinds(walk.events(mark)) == ["task_claimed", "task_completed", "task_opened", "stage_entered"]
    assert walk.events(mark)[-1].data == {"stage": 2, "previous": 1}
    [opened] = [e for e in walk.events(mark) if e.kind == "task_opened"]
    assert opened.data["due_at"] == "2026-12-23T17:00:00+00:00"

    walk.act("csc-manager", REVIEW_JUSTIFIED, REVIEW_AT)
    task = walk.only_open_task()
    assert (task.title, task.stage, task.lane) == ("Stage 2: respond to the challenge", 2, "Receiving line manager")
    assert task.due_at == DUE[2]
    assert who_has(walk, task) == ["police-manager"]

    walk.act("police-manager", RESPOND, STAGES[2][3])
    task = walk.only_open_task()
    assert (task.title, task.lane, task.due_at) == ("Stage 2: record the discussion and decide",
                                                    "Raising line manager", DUE[2])
    assert who_has(walk, task) == ["csc-manager"]


def test_a_concern_the_raising_line_manager_finds_not_justified_closes_at_the_start_of_stage_2(walk):
    escalate_to_2 = STAGES[1]
    walk.act("police-practitioner", RESPOND, escalate_to_2[3])
    walk.act("csc-practitioner", ESCALATE, escalate_to_2[4])
    walk.notes()
    walk.act("csc-manager", {"justified": False, "review": "The injuries were explained by the GP's report.",
                             "satisfied": "yes"}, REVIEW_AT)
    challenge = walk.challenge
    assert (challenge.status, challenge.outcome, challenge.current_stage) == ("closed", "closed", 2)
    assert walk.open_tasks() == {}
    closed = f"{walk.ref}: closed at stage 2, the concern not justified"
    assert {"csc-practitioner", "police-practitioner", "csc-manager"} <= walk.recipients(closed)
    assert my_tasks(walk.session, walk.user("police-manager")) == []  # the receiving manager never had a task
    facts = walk.session.get(ChallengeFacts, challenge.id)  # the reports count it closed at stage 2, satisfied
    assert (facts.status, facts.stage_reached, facts.outcome, facts.satisfied) == ("closed", 2, "closed", "yes")


def test_stage_3_inter_agency_meeting_recorded_and_copied_to_the_business_unit(walk):
    escalate_to(walk, 3)
    task = walk.only_open_task()
    assert (task.title, task.stage, task.due_at) == ("Stage 3: respond to the challenge", 3, DUE[3])
    assert who_has(walk, task) == ["police-manager"]
    assert walk.challenge.next_timer_due == REMINDER[3]
    assert f"{walk.ref}: now at stage 3" in walk.subjects("csc-practitioner")

    walk.act("police-manager", RESPOND, STAGES[3][3])
    task = walk.only_open_task()
    assert (task.title, task.form, task.due_at) == ("Stage 3: Professional Challenge Recording Tool",
                                                    "recording_tool.json", DUE[3])
    assert who_has(walk, task) == ["csc-manager"]
    copy = f"{walk.ref}: Professional Challenge Recording Tool (stage 3)"
    assert copy not in walk.subjects("dsp-business-unit")

    mark = walk.last_event_id()
    walk.act("csc-manager", RECORDING_TOOL_ESCALATE, STAGES[3][4])
    assert walk.recipients(copy) == {"dsp-business-unit"}
    assert sorted(kinds(walk.events(mark))) == ["notified", "stage_entered", "task_claimed", "task_completed",
                                                "task_opened"]
    [notified] = [e for e in walk.events(mark) if e.kind == "notified"]
    assert notified.data == {"subject": copy, "to": ["lane:DSP Business Unit"], "recipients": 1}
    [recorded] = [e for e in walk.events(mark) if e.kind == "task_completed"]
    assert recorded.data["answers"] == RECORDING_TOOL_ESCALATE
    assert recorded.data["stage"] == 3
    assert [e.data["stage"] for e in walk.events(mark) if e.kind == "stage_entered"] == [4]
    # The Business Unit keeps the record of every challenge of its partnership, so it can read the copy.
    assert can_view(walk.session, walk.user("dsp-business-unit"), walk.challenge.id)


def test_the_recording_tool_is_offered_once_stage_3_has_started_and_carries_the_disagreement(walk):
    assert "recording_tool" not in available(walk.session, walk.challenge)
    escalate_to(walk, 2)
    assert list(available(walk.session, walk.challenge)) == ["monitoring_return"]
    with pytest.raises(NotFound) as refused:
        build(walk.session, walk.challenge, "recording_tool")
    assert "not offered yet" in str(refused.value)
    escalate_to(walk, 3)
    assert list(available(walk.session, walk.challenge)) == ["recording_tool", "monitoring_return"]
    tool = build(walk.session, walk.challenge, "recording_tool")
    disagreement = tool.sections[0]
    assert disagreement.heading == "The disagreement"
    said = {a.label: a.text for a in disagreement.answers}
    assert said["The disagreement"] == walk.challenge.summary
    assert said["Area of challenge"] != walk.challenge.area  # its label, as the raise form words it
    assert "Durham Constabulary" in disagreement.note
    assert [s.heading for s in tool.sections[1:]] == ["Stage 3: respond to the challenge (Durham Constabulary)"]
    # The monitoring return names each task once ("Stage 1: respond ...", never "Stage 1: Stage 1: ...").
    done = build(walk.session, walk.challenge, "monitoring_return").sections[1].answers
    assert done[0].label == "Stage 1: respond to the challenge"
    assert not [a for a in done if a.label.count("Stage") > 1]


def test_stage_4_heads_of_service(walk):
    escalate_to(walk, 4)
    task = walk.only_open_task()
    assert (task.title, task.lane, task.due_at) == ("Stage 4: respond to the challenge",
                                                    "Receiving head of service", DUE[4])
    assert who_has(walk, task) == ["police-head"]
    assert walk.challenge.next_timer_due == REMINDER[4]
    assert f"{walk.ref}: now at stage 4" in walk.subjects("csc-practitioner")

    walk.act("police-head", RESPOND, STAGES[4][3])
    task = walk.only_open_task()
    assert (task.title, task.lane, task.due_at) == ("Stage 4: record the discussion and decide",
                                                    "Raising head of service", DUE[4])
    assert who_has(walk, task) == ["csc-head"]


def test_stage_5_monitoring_questions_from_the_raising_dsl_then_the_scrutineers_decision(walk):
    escalate_to(walk, 5)
    reached = f"{walk.ref}: professional challenge reached stage 5"
    assert walk.recipients(reached) == {"dsp-scrutineer"}
    task = walk.only_open_task()
    # The designated lead / manager of the agency that raised it gives the Business Unit the information.
    assert (task.title, task.stage, task.lane, task.form) == ("Stage 5: monitoring questions", 5,
                                                              "Raising designated safeguarding lead", "monitoring.json")
    assert task.due_at == DUE[5]
    assert who_has(walk, task) == ["csc-manager"]
    assert my_tasks(walk.session, walk.user("police-manager")) == []
    assert my_tasks(walk.session, walk.user("dsp-business-unit")) == []
    assert walk.challenge.next_timer_due == REMINDER[5]
    assert f"{walk.ref}: now at stage 5" in walk.subjects("csc-practitioner")

    # The answers start from what the stages recorded.
    given = prefilled_answers(walk.session, task)
    assert set(given) == {"what_was_the_challenge", "what_was_done", "outcome_of_actions", "how_resolved",
                          "referred_to_partnership"}  # nobody said whether they were satisfied yet
    assert given["what_was_the_challenge"].startswith(walk.challenge.summary)
    assert "Area of challenge: " in given["what_was_the_challenge"]
    done = given["what_was_done"].splitlines()
    assert done[0] == "Stage 1: respond to the challenge: Practitioner, Durham Constabulary (Durham Constabulary), " \
        "Friday 18 December 2026, 16:00"
    assert [line.split(":")[0] for line in done] == ["Stage 1"] * 2 + ["Stage 2"] * 3 + ["Stage 3"] * 2 + [
        "Stage 4"] * 2
    assert not [line for line in done if "Stage 1: Stage 1" in line]
    assert given["outcome_of_actions"].startswith("Still open at stage 5.")
    assert "Stage 4: Why: The injuries are still unexplained." in given["outcome_of_actions"]
    assert "Stage 3: Agreed outcomes and actions: Police will share the full incident log." in given["how_resolved"]
    assert given["referred_to_partnership"] is True

    walk.act("csc-manager", {**given, "satisfied": "no"}, MONITORING_AT)
    # The Business Unit receives it, to share with the Lead Safeguarding Partners.
    received = f"{walk.ref}: stage 5 monitoring information from Darlington Children's Social Care"
    assert walk.recipients(received) == {"dsp-business-unit"}
    assert "Police will share the full incident log." in walk.body("dsp-business-unit", received)
    task = walk.only_open_task()
    assert (task.title, task.lane, task.form) == ("Stage 5: decide the next course of action",
                                                  "Lead Safeguarding Partners", "partners_decision.json")
    assert task.due_at == DUE[5]
    assert who_has(walk, task) == ["dsp-scrutineer"]

    walk.act("dsp-scrutineer", PARTNERS_DECISION, DECISION_AT)
    challenge = walk.challenge
    assert (challenge.status, challenge.outcome, challenge.current_stage) == ("closed", "decided_by_partnership", 5)
    assert challenge.closed_at == DECISION_AT
    assert challenge.next_timer_due is None
    assert walk.open_tasks() == {}
    decided = f"{walk.ref}: decision of the Lead Safeguarding Partners"
    assert walk.recipients(decided) == {"csc-practitioner", "police-practitioner", "csc-manager", "police-manager",
                                        "csc-head", "police-head", "dsp-business-unit", "dsp-scrutineer"}
    closed = walk.events()[-1]
    assert closed.kind == "challenge_closed"
    assert closed.data == {"outcome": "decided_by_partnership", "stage": 5}
    assert closed.actor_id == walk.user("dsp-scrutineer").id


def test_escalation_by_decision_all_the_way_leaves_a_complete_record(walk):
    escalate_to(walk, 5)
    walk.act("csc-manager", MONITORING, MONITORING_AT)
    walk.act("dsp-scrutineer", PARTNERS_DECISION, DECISION_AT)

    events = walk.events()
    assert events[0].kind == "challenge_raised"
    assert events[-1].kind == "challenge_closed"
    assert Counter(kinds(events)) == {
        "challenge_raised": 1,
        "task_opened": 11,  # two tasks at each of the five stages, and stage 2's review first
        "task_claimed": 11,
        "task_completed": 11,
        "stage_entered": 5,
        # The recording tool copied to the Business Unit, the Lead Safeguarding Partners told of stage 5, the
        # monitoring information sent to the Business Unit, and everyone told of their decision.
        "notified": 4,
        "challenge_closed": 1,
    }
    assert [e.data["stage"] for e in events if e.kind == "stage_entered"] == [1, 2, 3, 4, 5]
    assert [e.data["stage"] for e in events if e.kind == "task_completed"] == [1, 1, 2, 2, 2, 3, 3, 4, 4, 5,
                                                                                     5]
    assert walk.subjects("csc-practitioner") == [
        f"{walk.ref}: new task - Stage 1: record the discussion and decide",
        f"{walk.ref}: now at stage 2",
        f"{walk.ref}: now at stage 3",
        f"{walk.ref}: now at stage 4",
        f"{walk.ref}: now at stage 5",
        f"{walk.ref}: decision of the Lead Safeguarding Partners",
    ]
    tasks = walk.session.scalars(select(Task).where(Task.challenge_id == walk.challenge.id).order_by(Task.id)).all()
    assert [(t.stage, t.status, t.completed_by.username) for t in tasks] == [
        (1, "completed", "police-practitioner"), (1, "completed", "csc-practitioner"),
        (2, "completed", "csc-manager"), (2, "completed", "police-manager"), (2, "completed", "csc-manager"),
        (3, "completed", "police-manager"), (3, "completed", "csc-manager"),
        (4, "completed", "police-head"), (4, "completed", "csc-head"),
        (5, "completed", "csc-manager"), (5, "completed", "dsp-scrutineer"),
    ]
    assert not [e for e in walk.events() if e.kind in ("timer_fired", "task_lapsed", "task_withdrawn")]


# --- b) deadlines ------------------------------------------------------------------------------------------------

def test_the_stage_1_reminder_fires_at_13_00_on_monday_to_the_task_holder(walk):
    approaching = f"{walk.ref}: stage 1 deadline approaching"
    assert walk.fire(utc(2026, 12, 21, 12, 59)) == 0
    assert walk.recipients(approaching) == set()

    assert walk.fire(utc(2026, 12, 21, 13, 0)) == 1
    assert walk.recipients(approaching) == {"police-practitioner"}
    [note] = walk.session.scalars(select(Notification).where(Notification.subject == approaching)).all()
    assert "Monday 21 December 2026, 17:00" in note.body
    [fired] = [e for e in walk.events() if e.kind == "timer_fired"]
    assert fired.data == {"timer": "Stage 1 reminder", "bpmn_id": "s1_respond_reminder",
                          "due": "2026-12-21T13:00:00+00:00"}
    assert walk.challenge.current_stage == 1
    assert walk.only_open_task().title == "Stage 1: respond to the challenge"
    assert walk.challenge.next_timer_due == DUE[1]


@pytest.fixture
def second_police_practitioner(session, agency):
    created = create_user(session, "police-practitioner-2", "Second practitioner, Durham Constabulary",
                          "police-practitioner-2@test.invalid", "demo-password", [(agency("Durham").id,
                                                                                   "practitioner")])
    session.commit()
    return created


def test_the_reminder_of_an_unclaimed_task_goes_to_everyone_who_may_take_it(walk, second_police_practitioner):
    walk.fire(utc(2026, 12, 21, 13, 0))
    assert walk.recipients(f"{walk.ref}: stage 1 deadline approaching") == {"police-practitioner",
                                                                            "police-practitioner-2"}


def test_the_reminder_of_a_claimed_task_goes_to_whoever_claimed_it(walk, session, clock, user,
                                                                   second_police_practitioner):
    task = walk.only_open_task()
    claim_task(session, clock, second_police_practitioner, task.id)
    walk.fire(utc(2026, 12, 21, 13, 0))
    assert walk.recipients(f"{walk.ref}: stage 1 deadline approaching") == {"police-practitioner-2"}


def test_missing_the_stage_1_deadline_moves_the_challenge_to_stage_2(walk):
    walk.fire(utc(2026, 12, 21, 13, 0))
    mark = walk.last_event_id()
    assert walk.fire(utc(2026, 12, 21, 17, 0, 1)) == 1

    challenge = walk.challenge
    assert (challenge.status, challenge.current_stage) == ("open", 2)
    new = walk.events(mark)
    assert sorted(kinds(new)) == ["deadline_missed", "notified", "stage_entered", "task_lapsed", "task_opened",
                                  "timer_fired"], kinds(new)
    [fired] = [e for e in new if e.kind == "timer_fired"]
    assert fired.data == {"timer": "Stage 1 deadline", "bpmn_id": "s1_respond_deadline",
                          "due": "2026-12-21T17:00:00+00:00"}
    [lapsed] = [e for e in new if e.kind == "task_lapsed"]
    assert lapsed.data["title"] == "Stage 1: respond to the challenge"
    [missed_deadline] = [e for e in new if e.kind == "deadline_missed"]
    assert missed_deadline.data == {"title": "Stage 1: respond to the challenge", "stage": 1,
                                    "due": "2026-12-21T17:00:00+00:00", "timer": "s1_respond_deadline"}
    assert missed_deadline.at == utc(2026, 12, 21, 17, 0) and missed_deadline.recorded_at == utc(2026, 12, 21, 17, 0, 1)
    missed = f"{walk.ref}: stage 1 deadline missed, now at stage 2"
    # The referrer, the practitioner whose task lapsed, and the line manager who now holds stage 2 (the raising
    # practitioner's, who reviews the concern first).
    assert walk.recipients(missed) == {"csc-practitioner", "police-practitioner", "csc-manager"}
    assert f"{walk.ref}: now at stage 2" in walk.subjects("csc-practitioner")
    [note] = walk.session.scalars(select(Notification).where(Notification.subject == missed,
                                                             Notification.user_id == walk.user("csc-practitioner").id))
    assert "Monday 21 December 2026, 17:00" in note.body

    task = walk.only_open_task()
    assert task.title == "Stage 2: review whether the concern is justified"
    assert who_has(walk, task) == ["csc-manager"]
    # Stage 2 counts from the deadline (Mon 21 Dec 17:00): Tue 22, Wed 23, Thu 24 December.
    assert task.due_at == utc(2026, 12, 24, 17, 0)
    assert challenge.next_timer_due == utc(2026, 12, 23, 17, 0)  # its reminder, a working day before
    assert my_tasks(walk.session, walk.user("police-practitioner")) == []


def test_the_practitioner_whose_stage_1_task_lapsed_is_told_the_deadline_was_missed(walk):
    walk.fire(utc(2026, 12, 21, 17, 0, 1))
    missed = f"{walk.ref}: stage 1 deadline missed, now at stage 2"
    assert "police-practitioner" in walk.recipients(missed)


def test_a_late_worker_catches_up_every_timer_in_due_order(walk):
    walk.fire(utc(2026, 12, 21, 13, 0))
    walk.fire(utc(2026, 12, 21, 17, 0, 1))
    assert walk.challenge.current_stage == 2
    mark = walk.last_event_id()

    # Nothing runs from Christmas to Tuesday 5 January 2027, noon; then the worker fires what fell due.
    assert walk.fire(utc(2027, 1, 5, 12, 0)) == 1

    fired = [e.data for e in walk.events(mark) if e.kind == "timer_fired"]
    assert fired == [
        {"timer": "Stage 2 reminder", "bpmn_id": "s2_review_reminder", "due": "2026-12-23T17:00:00+00:00"},
        {"timer": "Stage 2 deadline", "bpmn_id": "s2_review_deadline", "due": "2026-12-24T17:00:00+00:00"},
        # Stage 3 began at the stage 2 deadline (Thu 24 Dec 17:00); two working days later: Tue 29, Wed 30.
        {"timer": "Stage 3 reminder", "bpmn_id": "s3_respond_reminder", "due": "2026-12-30T17:00:00+00:00"},
    ]
    # The stage 2 reminder's moment and its deadline both passed while nothing ran: "deadline approaching" would
    # come after the deadline, so only the "missed" notice is sent (the history keeps the reminder, withheld).
    # The stage 3 reminder fell due while down too, but its task's target (5 January, 17:00) is still ahead.
    assert walk.notification_ids(f"{walk.ref}: stage 2 deadline approaching") == []
    [withheld] = [e.data for e in walk.events(mark) if e.kind == "notified"
                  and e.data["subject"] == f"{walk.ref}: stage 2 deadline approaching"]
    assert withheld["recipients"] == 0 and withheld["withheld"].startswith("not sent: the case was caught up")
    missed_2 = walk.notification_ids(f"{walk.ref}: stage 2 deadline missed, now at stage 3")
    reminder_3 = walk.notification_ids(f"{walk.ref}: stage 3 is waiting for you")
    assert missed_2 and reminder_3
    assert max(missed_2) < min(reminder_3)
    # The referrer, the raising line manager whose review lapsed, and the receiving line manager now at stage 3.
    assert walk.recipients(f"{walk.ref}: stage 2 deadline missed, now at stage 3") == {
        "csc-practitioner", "csc-manager", "police-manager"}
    assert walk.recipients(f"{walk.ref}: stage 3 is waiting for you") == {"police-manager"}

    challenge = walk.challenge
    assert (challenge.status, challenge.current_stage) == ("open", 3)
    task = walk.only_open_task()
    assert task.title == "Stage 3: respond to the challenge"
    assert who_has(walk, task) == ["police-manager"]
    # A target of five working days after Thu 24 Dec: Tue 29, Wed 30, Thu 31, Mon 4, Tue 5 January 2027.
    assert task.due_at == utc(2027, 1, 5, 17, 0)
    assert challenge.next_timer_due == utc(2027, 1, 5, 17, 0)
    assert f"{walk.ref}: now at stage 3" in walk.subjects("csc-practitioner")


def test_passing_the_stage_3_target_tells_everyone_but_does_not_escalate(walk):
    walk.fire(utc(2026, 12, 21, 17, 0, 1))
    walk.fire(utc(2027, 1, 5, 12, 0))
    task = walk.only_open_task()
    mark = walk.last_event_id()

    assert walk.fire(utc(2027, 1, 5, 17, 0, 1)) == 1

    overdue = f"{walk.ref}: stage 3 is overdue"
    assert walk.recipients(overdue) == {"csc-practitioner", "police-manager", "dsp-business-unit"}
    new = walk.events(mark)
    # The target is the task's deadline: it is missed, though the case does not move on by itself.
    assert sorted(kinds(new)) == ["deadline_missed", "notified", "timer_fired"]
    [fired] = [e for e in new if e.kind == "timer_fired"]
    assert fired.data == {"timer": "Stage 3 target passed", "bpmn_id": "s3_respond_target",
                          "due": "2027-01-05T17:00:00+00:00"}
    challenge = walk.challenge
    assert (challenge.status, challenge.current_stage) == ("open", 3)
    assert [t.id for t in walk.open_tasks().values()] == [task.id]
    assert who_has(walk, task) == ["police-manager"]
    assert challenge.next_timer_due is None
    # Nothing further fires however long it waits: the managers decide stage 3, not the clock.
    assert walk.fire(utc(2027, 3, 1, 12, 0)) == 0
    assert walk.challenge.current_stage == 3


# --- c) resolved at stage 1 ------------------------------------------------------------------------------------

def test_resolved_at_stage_1_closes_the_challenge(walk):
    walk.act("police-practitioner", RESPOND, utc(2026, 12, 18, 16, 0))
    walk.act("csc-practitioner", RESOLVED, utc(2026, 12, 18, 16, 30))

    challenge = walk.challenge
    assert (challenge.status, challenge.outcome, challenge.current_stage) == ("closed", "resolved", 1)
    assert challenge.closed_at == utc(2026, 12, 18, 16, 30)
    assert challenge.next_timer_due is None
    assert walk.open_tasks() == {}
    resolved = f"{walk.ref}: resolved at stage 1"
    assert walk.recipients(resolved) == {"csc-practitioner", "police-practitioner"}
    assert walk.subjects("csc-practitioner")[-1] == resolved
    assert kinds(walk.events())[-1] == "challenge_closed"
    assert "notified" in kinds(walk.events())
    assert walk.events()[-1].data == {"outcome": "resolved", "stage": 1}
    # Nothing is left to fire at Monday's deadline.
    assert walk.fire(utc(2026, 12, 21, 17, 0, 1)) == 0
    assert walk.challenge.status == "closed"
    assert all(my_tasks(walk.session, walk.user(name)) == [] for name in USERS)


# --- d) resolved at stage 4 ------------------------------------------------------------------------------------

def test_resolved_at_stage_4_by_the_heads_of_service_closes_the_challenge(walk):
    escalate_to(walk, 4)
    stage(walk, 4, decision=RESOLVED)

    challenge = walk.challenge
    assert (challenge.status, challenge.outcome, challenge.current_stage) == ("closed", "resolved", 4)
    assert challenge.closed_at == STAGES[4][4]
    assert challenge.next_timer_due is None
    assert walk.open_tasks() == {}
    assert walk.recipients(f"{walk.ref}: resolved at stage 4") == {
        "csc-practitioner", "police-practitioner", "csc-manager", "police-manager", "csc-head", "police-head"}
    assert walk.events()[-1].data == {"outcome": "resolved", "stage": 4}
    # Stage 5 was never entered: the Lead Safeguarding Partners were not told.
    assert walk.subjects("dsp-scrutineer") == []


# --- e) a task whose deadline passed before anyone fired the timer -----------------------------------------------

def snapshot(walk: Walk) -> dict:
    walk.refresh()
    tasks = walk.session.scalars(select(Task).where(Task.challenge_id == walk.challenge.id).order_by(Task.id)).all()
    return {
        "challenge": (walk.challenge.status, walk.challenge.current_stage, walk.challenge.version,
                      walk.challenge.next_timer_due, walk.challenge.state),
        "tasks": [(t.id, t.status, t.claimed_by_id, t.completed_by_id, t.data) for t in tasks],
        "events": [e.id for e in walk.events()],
        "notifications": walk.session.scalar(select(func.count(Notification.id))),
    }


def test_completing_a_task_whose_deadline_passed_unfired_is_a_conflict_and_keeps_nothing(walk, session, clock, user):
    task = walk.only_open_task()
    before = snapshot(walk)

    # Monday 21 December, 17:30: the deadline passed half an hour ago, but no worker has fired it.
    clock.set(utc(2026, 12, 21, 17, 30))
    with pytest.raises(Conflict, match="moved on"):
        complete_task(session, clock, user("police-practitioner"), task.id, RESPOND)

    assert snapshot(walk) == before
    assert not [e for e in walk.events() if e.kind == "task_completed"]

    # The worker then moves the case on, as the deadline says.
    assert walk.fire(utc(2026, 12, 21, 17, 30)) == 1
    assert walk.challenge.current_stage == 2
    session.expire_all()
    assert session.get(Task, task.id).status == "lapsed"
    assert session.get(Task, task.id).data is None
    assert walk.only_open_task().title == "Stage 2: review whether the concern is justified"


def test_a_reminder_that_fell_due_before_a_completion_is_sent_with_it(walk):
    # Monday 21 December, 14:00: the 13:00 reminder was never fired; the deadline (17:00) has not passed.
    walk.act("police-practitioner", RESPOND, utc(2026, 12, 21, 14, 0))
    assert walk.challenge.current_stage == 1
    task = walk.only_open_task()
    assert task.title == "Stage 1: record the discussion and decide"
    fired = [e.data["bpmn_id"] for e in walk.events() if e.kind == "timer_fired"]
    # The respond task's reminder, and the decide task's own reminder, whose moment had also passed.
    assert fired == ["s1_respond_reminder", "s1_decide_reminder"]
    assert walk.recipients(f"{walk.ref}: stage 1 deadline approaching") == {"police-practitioner",
                                                                            "csc-practitioner"}
    assert walk.challenge.next_timer_due == DUE[1]
