"""A failed step leaves nothing saved; events are append-only; a case's state survives a save and a load and is
stored without its procedure's spec."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, func, select, update

from engine.accounts import create_user
from engine.bpmn.context import StepContext
from engine.bpmn.script_engine import StepScriptEngine
from engine.bpmn.serializer import dump_workflow, load_workflow, state_json
from engine.bpmn.timers import next_timer_due
from engine.calendar import WorkingCalendar
from engine.cases.raising import raise_challenge
from engine.cases.tasks import complete_task
from engine.cases.timers import RETRY_AFTER_FAILURE, fire_due_timers
from engine.demo import add_roles
from engine.errors import StepFailed
from engine.models import Agency, AppendOnlyViolation, Challenge, Event, Notification, Partnership, Task
from engine.procedures.files import ProcedureFiles
from engine.procedures.versions import current_version, publish, specs_of
from tests.conftest import raise_answers

ANSWER_FORM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["answer"],
    "properties": {"answer": {"type": "string", "title": "Your answer", "minLength": 1}},
}
LANES = {
    "Receiver": {"role": "practitioner", "side": "receiving"},
    "Raiser": {"role": "practitioner", "side": "raising"},
}


def procedure(after_answer: str, when_late: str = "late = True") -> str:
    """Start, set a deadline three working days after raising, the receiver answers (a deadline timer on the
    task), a script task runs `after_answer`, the raiser confirms, end. At the deadline, `when_late` runs."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="definitions_failing" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="failing" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_receiver" name="Receiver">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>enter</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>answer</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>answer_deadline</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>late</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>late_end</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>after</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_raiser" name="Raiser">
        <bpmn:flowNodeRef>confirm</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:scriptTask id="enter" name="Enter stage 1">
      <bpmn:script>stage_due = working_days_after(raised_at, 3)</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="answer" name="Answer the challenge">
      <bpmn:extensionElements>
        <spiffworkflow:formJsonSchemaFilename>answer.json</spiffworkflow:formJsonSchemaFilename>
        <spiffworkflow:properties>
          <spiffworkflow:property name="stage" value="1" />
          <spiffworkflow:property name="due" value="stage_due" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="answer_deadline" name="Deadline" attachedToRef="answer" cancelActivity="true">
      <bpmn:timerEventDefinition id="answer_deadline_timer"><bpmn:timeDate>stage_due</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:scriptTask id="late" name="Late"><bpmn:script>{when_late}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="late_end" />
    <bpmn:scriptTask id="after" name="After the answer"><bpmn:script>{after_answer}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="confirm" name="Confirm">
      <bpmn:extensionElements>
        <spiffworkflow:formJsonSchemaFilename>answer.json</spiffworkflow:formJsonSchemaFilename>
        <spiffworkflow:properties><spiffworkflow:property name="stage" value="2" /></spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="enter" />
    <bpmn:sequenceFlow id="f2" sourceRef="enter" targetRef="answer" />
    <bpmn:sequenceFlow id="f3" sourceRef="answer" targetRef="after" />
    <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="confirm" />
    <bpmn:sequenceFlow id="f5" sourceRef="confirm" targetRef="end" />
    <bpmn:sequenceFlow id="f6" sourceRef="answer_deadline" targetRef="late" />
    <bpmn:sequenceFlow id="f7" sourceRef="late" targetRef="late_end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def testshire(session, clock):
    """A partnership of our own: a council raising, a police force receiving, a partnership office."""
    partnership = Partnership(slug="testshire", name="Testshire Safeguarding Partnership", nation="england-wales")
    session.add(partnership)
    session.flush()
    add_roles(session, partnership, {"practitioner": "Practitioner"})
    agencies = {}
    for key, name, kind, body in (("council", "Testshire Council", "children_social_care", False),
                                  ("police", "Testshire Police", "police", False),
                                  ("office", "Testshire Partnership Office", "business_unit", True)):
        agencies[key] = Agency(partnership_id=partnership.id, name=name, kind=kind, is_partnership_body=body)
        session.add(agencies[key])
    session.flush()
    people = {
        "raiser": create_user(session, "t-raiser", "Raiser", "t-raiser@test.invalid", "pw",
                              [(agencies["council"].id, "practitioner")]),
        "receiver": create_user(session, "t-receiver", "Receiver", "t-receiver@test.invalid", "pw",
                                [(agencies["police"].id, "practitioner")]),
    }
    session.commit()
    return partnership, agencies, people


def publish_failing(session, clock, partnership, after_answer: str, when_late: str = "late = True"):
    files = ProcedureFiles(procedure="failing", title="Fails after the answer", process_id="failing",
                           bpmn_xml=procedure(after_answer, when_late), forms={"answer.json": ANSWER_FORM},
                           lanes=LANES)
    version = publish(session, clock, partnership, files)
    session.commit()
    return version


def raise_in(session, clock, testshire) -> Challenge:
    partnership, agencies, people = testshire
    challenge = raise_challenge(session, clock, people["raiser"], raise_answers(agencies["police"].id))
    assert challenge.procedure_version_id == current_version(session, partnership.id).id
    return challenge


def snapshot(session, challenge_id: int) -> dict:
    session.expire_all()
    challenge = session.get(Challenge, challenge_id)
    tasks = session.scalars(select(Task).where(Task.challenge_id == challenge_id).order_by(Task.id)).all()
    return {
        "challenge": (challenge.status, challenge.current_stage, challenge.version, challenge.next_timer_due,
                      challenge.outcome, challenge.state),
        "tasks": [(t.id, t.status, t.claimed_by_id, t.completed_by_id, t.completed_at, t.data) for t in tasks],
        "events": session.scalars(select(Event.id).where(Event.challenge_id == challenge_id)
                                  .order_by(Event.id)).all(),
        "notifications": session.scalar(select(func.count(Notification.id))),
    }


# --- a failed step leaves nothing saved ------------------------------------------------------------------------

@pytest.mark.parametrize("after_answer", [
    'notify("referrer", "Answered", "The receiver answered.")\nratio = 1 / 0',
    'notify("involved", "Answered", "The receiver answered.")\ntotal = undefined_name + 1',
    'outcome = "resolved"\nmissing = {}["key"]',
], ids=["division-by-zero", "undefined-name", "missing-key"])
def test_a_script_failing_after_the_first_task_leaves_the_case_as_it_was(session, clock, testshire, after_answer):
    partnership, _, people = testshire
    publish_failing(session, clock, partnership, after_answer)
    challenge = raise_in(session, clock, testshire)
    # Three working days after Friday 18 December 2026: Mon 21, Tue 22, Wed 23 at 17:00 (GMT).
    assert challenge.next_timer_due == datetime(2026, 12, 23, 17, 0, tzinfo=UTC)
    [task] = session.scalars(select(Task).where(Task.challenge_id == challenge.id)).all()
    before = snapshot(session, challenge.id)

    clock.advance(hours=1)
    with pytest.raises(StepFailed, match="the procedure could not move on"):
        complete_task(session, clock, people["receiver"], task.id, {"answer": "We disagree."})

    after = snapshot(session, challenge.id)
    # Nothing of the step is kept. The case is set aside, which is recorded: one event, and the case row's
    # version moves on; nothing else changed.
    *kept_events, failed = after["events"]
    assert kept_events == before["events"]
    assert session.get(Event, failed).kind == "step_failed"
    status, stage, version, due, outcome, state = after["challenge"]
    assert (status, stage, version, due, outcome, state) == (*before["challenge"][:2], before["challenge"][2] + 1,
                                                            *before["challenge"][3:])
    assert (after["tasks"], after["notifications"]) == (before["tasks"], before["notifications"])
    session.expire_all()
    row = session.get(Task, task.id)
    assert (row.status, row.completed_at, row.claimed_by_id, row.data) == ("open", None, None, None)
    kept = session.get(Challenge, challenge.id)
    assert (kept.status, kept.current_stage, kept.state) == ("open", 1, before["challenge"][5])
    assert kept.next_timer_due == datetime(2026, 12, 23, 17, 0, tzinfo=UTC)
    assert "could not move on" in kept.set_aside_reason and kept.set_aside_at == clock.now()
    assert not session.scalars(select(Notification).where(Notification.subject == "Answered")).all()
    assert not session.scalars(select(Event).where(Event.kind == "task_completed")).all()


@pytest.mark.parametrize(("after_answer", "limit"), [
    ("text = answer * len(answer) ** 5", "a repeated value"),
    ("x = len(answer)\nfor i in range(len(answer)):\n    x = x * x", "larger than 4,096 bits"),
    ("for i in range(len(answer) * 10000):\n    for j in range(len(answer)):\n        pass", "loops took more"),
], ids=["memory", "squaring", "loops"])
def test_a_script_stopped_at_a_limit_fails_the_step_cleanly_and_sets_the_case_aside(
        session, clock, testshire, after_answer, limit):
    # Publishing cannot know: the answer decides how much the script makes.
    partnership, _, people = testshire
    publish_failing(session, clock, partnership, after_answer)
    challenge = raise_in(session, clock, testshire)
    [task] = session.scalars(select(Task).where(Task.challenge_id == challenge.id)).all()
    before = snapshot(session, challenge.id)

    with pytest.raises(StepFailed, match=limit):
        complete_task(session, clock, people["receiver"], task.id, {"answer": "We disagree."})

    after = snapshot(session, challenge.id)
    assert after["tasks"] == before["tasks"] and after["notifications"] == before["notifications"]
    assert after["challenge"][5] == before["challenge"][5]  # the stored state is the one before the step
    *kept_events, failed = after["events"]
    assert kept_events == before["events"]
    event = session.get(Event, failed)
    assert event.kind == "step_failed" and limit in event.data["error"] and event.data["task_id"] == task.id
    assert limit in session.get(Challenge, challenge.id).set_aside_reason

    # The next step that succeeds (a timer here) takes the case out of its set-aside.
    clock.set(datetime(2026, 12, 23, 17, 0, 1, tzinfo=UTC))
    assert fire_due_timers(session, clock) == 1
    session.expire_all()
    assert session.get(Challenge, challenge.id).set_aside_reason is None


def test_a_failed_step_can_be_tried_again_and_fails_the_same_way_leaving_nothing(session, clock, testshire):
    # Nothing of the first failure was kept, so the same task is still there: the failure repeats, it does not
    # corrupt the case.
    partnership, _, people = testshire
    publish_failing(session, clock, partnership, "ratio = 1 / 0")
    challenge = raise_in(session, clock, testshire)
    [task] = session.scalars(select(Task).where(Task.challenge_id == challenge.id)).all()
    for _ in range(2):
        with pytest.raises(StepFailed):
            complete_task(session, clock, people["receiver"], task.id, {"answer": "We disagree."})
    session.expire_all()
    assert session.get(Task, task.id).status == "open"
    assert session.scalar(select(func.count(Event.id)).where(Event.kind == "task_completed")) == 0


def test_a_timer_step_that_fails_is_not_kept_and_is_retried_later(session, clock, testshire):
    partnership, _, _ = testshire
    publish_failing(session, clock, partnership, "fine = True",
                    when_late='notify("involved", "Late", "The deadline passed.")\nratio = 1 / 0')
    challenge = raise_in(session, clock, testshire)
    before = snapshot(session, challenge.id)

    clock.set(datetime(2026, 12, 23, 17, 0, 1, tzinfo=UTC))
    assert fire_due_timers(session, clock) == 0

    session.expire_all()
    kept = session.get(Challenge, challenge.id)
    assert kept.state == before["challenge"][5]
    assert (kept.status, kept.current_stage) == ("open", 1)
    # Tried again in five minutes, not at every pass of the worker.
    assert kept.next_timer_due == clock.now() + RETRY_AFTER_FAILURE
    tasks = session.scalars(select(Task).where(Task.challenge_id == challenge.id)).all()
    assert [(t.status, t.title) for t in tasks] == [("open", "Answer the challenge")]
    new_events = session.scalars(select(Event).where(Event.challenge_id == challenge.id,
                                                     Event.id.not_in(before["events"]))).all()
    assert [e.kind for e in new_events] == ["timer_failed"]
    assert "division by zero" in new_events[0].data["error"]
    assert "division by zero" in kept.set_aside_reason and kept.set_aside_at == clock.now()
    assert session.scalar(select(func.count(Notification.id))) == before["notifications"]
    assert not session.scalars(select(Event).where(Event.kind == "timer_fired")).all()


def test_a_failing_case_in_a_batch_is_set_aside_and_the_cases_around_it_still_move(session, clock, testshire):
    # Raised on a version whose deadline works, then on one whose deadline script fails, then on the good one
    # again: one batch holds all three, the failing one in the middle.
    partnership, _, _ = testshire
    good = publish_failing(session, clock, partnership, "fine = True", when_late='notify("involved", "Late", "x")')
    first = raise_in(session, clock, testshire)
    publish_failing(session, clock, partnership, "fine = True", when_late="ratio = 1 / 0")
    failing = raise_in(session, clock, testshire)
    publish_failing(session, clock, partnership, "fine = True", when_late='notify("involved", "Late", "x")')
    last = raise_in(session, clock, testshire)
    assert first.procedure_version_id == last.procedure_version_id == good.id != failing.procedure_version_id
    before = snapshot(session, failing.id)

    clock.set(datetime(2026, 12, 23, 17, 0, 1, tzinfo=UTC))
    assert fire_due_timers(session, clock) == 2

    session.expire_all()
    for moved in (first, last):
        kinds = session.scalars(select(Event.kind).where(Event.challenge_id == moved.id)).all()
        assert kinds.count("timer_fired") == 1 and "notified" in kinds
        assert session.get(Challenge, moved.id).status == "closed"
    kept = session.get(Challenge, failing.id)
    assert kept.state == before["challenge"][5]
    assert kept.next_timer_due == clock.now() + RETRY_AFTER_FAILURE
    assert session.scalars(select(Event.kind).where(Event.challenge_id == failing.id,
                                                    Event.id.not_in(before["events"]))).all() == ["timer_failed"]


# --- events are append-only ---------------------------------------------------------------------------------------

@pytest.fixture
def darlington_challenge(session, clock, user, agency) -> Challenge:
    return raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))


def first_event(session, challenge: Challenge) -> Event:
    return session.scalars(select(Event).where(Event.challenge_id == challenge.id).order_by(Event.id)).first()


def test_updating_an_event_through_the_session_is_refused(session, darlington_challenge):
    event = first_event(session, darlington_challenge)
    assert event.kind == "challenge_raised"
    event.kind = "nothing_happened"
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    assert first_event(session, darlington_challenge).kind == "challenge_raised"


def test_replacing_an_events_data_is_refused(session, darlington_challenge):
    event = first_event(session, darlington_challenge)
    event.data = {**event.data, "summary": "Something else entirely."}
    with pytest.raises(AppendOnlyViolation):
        session.commit()
    session.rollback()
    assert first_event(session, darlington_challenge).data["summary"].startswith("The referral was closed")


def test_moving_an_event_in_time_is_refused(session, darlington_challenge):
    event = first_event(session, darlington_challenge)
    event.at = event.at - timedelta(days=3)
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()


def test_deleting_an_event_through_the_session_is_refused(session, darlington_challenge):
    count = session.scalar(select(func.count(Event.id)))
    session.delete(first_event(session, darlington_challenge))
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    assert session.scalar(select(func.count(Event.id))) == count


def test_adding_events_is_allowed(session, clock, darlington_challenge):
    count = session.scalar(select(func.count(Event.id)))
    session.add(Event(challenge_id=darlington_challenge.id, at=clock.now(), recorded_at=clock.now(), kind="note",
                      data={"text": "hello"}))
    session.commit()
    assert session.scalar(select(func.count(Event.id))) == count + 1


def test_a_bulk_update_of_events_through_the_session_is_refused(session, darlington_challenge):
    with pytest.raises(AppendOnlyViolation):
        session.execute(update(Event).where(Event.challenge_id == darlington_challenge.id).values(kind="edited"))
    session.rollback()
    assert session.scalar(select(func.count(Event.id)).where(Event.kind == "edited")) == 0


def test_a_bulk_delete_of_events_through_the_session_is_refused(session, darlington_challenge):
    count = session.scalar(select(func.count(Event.id)))
    with pytest.raises(AppendOnlyViolation):
        session.execute(delete(Event).where(Event.challenge_id == darlington_challenge.id))
    session.rollback()
    assert session.scalar(select(func.count(Event.id))) == count


# --- save and load ------------------------------------------------------------------------------------------------

RESPOND = {"rationale": "The referral did not meet the threshold.", "response": "We will review it."}


@pytest.fixture
def midway(session, clock, user, darlington_challenge) -> Challenge:
    """Stage 1 answered by the receiving practitioner; the raising practitioner's decision is waiting."""
    [task] = session.scalars(select(Task).where(Task.challenge_id == darlington_challenge.id)).all()
    clock.advance(hours=1)
    complete_task(session, clock, user("police-practitioner"), task.id, RESPOND)
    return darlington_challenge


def loaded(challenge, clock):
    """The case's workflow loaded here, in this process, as a step process loads it."""
    return load_workflow(challenge.state, *specs_of(challenge.procedure_version),
                         StepScriptEngine(StepContext(now=clock.now(), calendar=WorkingCalendar("england-wales"))))


def ready(workflow) -> list[tuple[str, str]]:
    return sorted((str(t.id), t.task_spec.bpmn_id) for t in workflow.get_tasks(state=TaskState.READY, manual=True))


def test_save_and_load_give_the_same_ready_tasks_and_data(session, clock, midway):
    workflow = loaded(midway, clock)
    assert [bpmn_id for _, bpmn_id in ready(workflow)] == ["s1_decide"]

    saved = dump_workflow(workflow)
    again = load_workflow(saved, *specs_of(midway.procedure_version),
                          StepScriptEngine(StepContext(now=clock.now(), calendar=WorkingCalendar("england-wales"))))

    assert ready(again) == ready(workflow)
    [before] = workflow.get_tasks(state=TaskState.READY, manual=True)
    [after] = again.get_tasks(state=TaskState.READY, manual=True)
    assert after.data == before.data
    assert after.data["rationale"] == RESPOND["rationale"]
    assert after.data["stage_due"] == "2026-12-21T17:00:00+00:00"
    assert next_timer_due(again) == next_timer_due(workflow) == datetime(2026, 12, 21, 13, 0, tzinfo=UTC)
    assert state_json(dump_workflow(again)) == state_json(saved)


def test_the_stored_state_is_the_one_the_case_loads(session, clock, midway):
    assert state_json(dump_workflow(loaded(midway, clock))) == state_json(midway.state)


def test_the_stored_state_does_not_contain_the_spec(session, midway):
    stored = state_json(midway.state)
    assert "spec" not in stored
    assert "subprocess_specs" not in stored
    text = json.dumps(stored)
    assert '"task_specs"' not in text
    # The diagram's drawing and scripts are nowhere in it either.
    assert "BPMNShape" not in text and "working_days_after" not in text
    bpmn = midway.procedure_version.bpmn_xml
    assert len(text) < len(bpmn) / 2
    assert len(midway.state) < len(bpmn) / 10
