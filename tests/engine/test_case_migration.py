"""Moving running Darlington cases onto a new version: a case whose run so far the new version leaves alone moves,
keeping its history, claims and deadlines (or re-arming them), with an event naming both versions' hashes; a case
that has already run a task the new version changed stays where it is and is told why; a move is undone while
nothing has happened since, and not after."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from engine.audit.reexecute import reexecute
from engine.cases.raising import raise_challenge
from engine.cases.tasks import claim_task, complete_task
from engine.errors import Conflict
from engine.models import CaseMigration, Challenge, Event, Partnership, ProcedureVersion, Task
from engine.procedures import migration
from engine.procedures.files import WORKFLOWS, read_folder
from engine.procedures.versions import publish
from tests.conftest import raise_answers

# Stage 3's target (a script the case has not run yet), stage 1's reminder (a timer it waits on), stage 1's deadline
# (a script it has run).
LATER_STAGE = ("stage_due = working_days_after(stage_started, 5)\nstage_reminder",
               "stage_due = working_days_after(stage_started, 6)\nstage_reminder")
TIMER = '<bpmn:timerEventDefinition id="s1_respond_reminder_timer">\n        <bpmn:timeDate>'
REMINDER = (f"{TIMER}stage_reminder", f"{TIMER}hours_before(stage_due, 6)")
FIRST_STAGE = ("stage_due = working_days_after(stage_started, 1)", "stage_due = working_days_after(stage_started, 2)")


@pytest.fixture
def darlington(session, demo):
    return session.scalar(select(Partnership).where(Partnership.slug == "darlington"))


def new_version(session, clock, partnership, *changes):
    files = read_folder(WORKFLOWS / "darlington")
    xml = files.bpmn_xml
    for old, new in changes:
        assert old in xml
        xml = xml.replace(old, new, 1)
    version = publish(session, clock, partnership, dataclasses.replace(files, bpmn_xml=xml), by="test")
    session.commit()
    return version


@pytest.fixture
def open_case(session, clock, user, agency):
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    task = session.scalar(select(Task).where(Task.challenge_id == challenge.id))
    claim_task(session, clock, user("police-practitioner"), task.id)
    session.commit()
    return challenge


def history(session, challenge_id):
    return [e.kind for e in session.scalars(select(Event).where(Event.challenge_id == challenge_id)
                                            .order_by(Event.id))]


def test_a_case_moves_keeping_history_claims_and_deadlines(session, clock, darlington, open_case, user):
    before_events, due = history(session, open_case.id), open_case.next_timer_due
    v2 = new_version(session, clock, darlington, LATER_STAGE, REMINDER)
    [dry] = migration.dry_run(session, clock, darlington, [open_case.id])
    assert (dry.moved, dry.reason) == (True, "can move")
    session.expire_all()
    assert session.get(Challenge, open_case.id).procedure_version_id != v2.id  # a dry run changes nothing
    [move] = migration.migrate(session, clock, darlington, [open_case.id], by="dsp-process-owner")
    assert move.moved, move.reason
    session.expire_all()
    challenge = session.get(Challenge, open_case.id)
    assert challenge.procedure_version_id == v2.id
    assert challenge.next_timer_due == due  # the reminder the case was waiting on keeps its moment
    assert history(session, challenge.id) == before_events + ["case_migrated"]
    event = session.scalars(select(Event).where(Event.kind == "case_migrated")).one()
    v1 = session.scalar(select(ProcedureVersion).where(ProcedureVersion.number == 1,
                                                       ProcedureVersion.partnership_id == darlington.id))
    assert (event.data["from_hash"], event.data["to_hash"]) == (v1.content_hash, v2.content_hash)
    task = session.scalar(select(Task).where(Task.challenge_id == challenge.id))
    assert (task.status, task.claimed_by.username) == ("open", "police-practitioner")
    # The case goes on, on the new version: stage 1 answered, stage 1's decision is next.
    complete_task(session, clock, user("police-practitioner"), task.id,
                  {"rationale": "The threshold was not met.", "response": "We will review it."})
    session.expire_all()
    assert [t.bpmn_id for t in session.scalars(select(Task).where(Task.challenge_id == challenge.id,
                                                                 Task.status == "open"))] == ["s1_decide"]


def test_re_arming_evaluates_the_waiting_timers_on_the_new_version(session, clock, darlington, open_case):
    due = open_case.next_timer_due
    new_version(session, clock, darlington, REMINDER)
    [move] = migration.migrate(session, clock, darlington, [open_case.id], by="owner", rearm=True)
    assert move.moved, move.reason
    session.expire_all()
    assert (due - session.get(Challenge, open_case.id).next_timer_due).total_seconds() == 2 * 3600


def test_a_case_that_ran_a_changed_task_is_left_untouched_and_told_why(session, clock, darlington, open_case):
    state, version_id = open_case.state, open_case.procedure_version_id
    new_version(session, clock, darlington, FIRST_STAGE)
    [dry] = migration.dry_run(session, clock, darlington, [open_case.id])
    assert not dry.moved and "Enter stage 1 (enter_1), which this case has already run" in dry.reason
    [move] = migration.migrate(session, clock, darlington, [open_case.id], by="owner")
    assert not move.moved and move.reason == dry.reason
    session.expire_all()
    challenge = session.get(Challenge, open_case.id)
    assert (challenge.state, challenge.procedure_version_id) == (state, version_id)
    assert "case_migrated" not in history(session, challenge.id)
    assert session.scalar(select(CaseMigration.id)) is None


def test_a_move_is_undone_while_nothing_has_happened_since_and_not_after(session, clock, darlington, open_case,
                                                                         user):
    state, version_id, due = open_case.state, open_case.procedure_version_id, open_case.next_timer_due
    new_version(session, clock, darlington, LATER_STAGE)
    migration.migrate(session, clock, darlington, [open_case.id], by="owner")
    undo = session.scalars(select(CaseMigration)).one()
    migration.revert(session, clock, darlington, undo.id, "owner")
    session.commit()
    session.expire_all()
    challenge = session.get(Challenge, open_case.id)
    assert (challenge.state, challenge.procedure_version_id, challenge.next_timer_due) == (state, version_id, due)
    assert history(session, challenge.id)[-2:] == ["case_migrated", "migration_reverted"]
    assert reexecute(session, challenge).matches  # the move undone changed nothing
    with pytest.raises(Conflict, match="undone already"):
        migration.revert(session, clock, darlington, undo.id, "owner")
    session.rollback()

    migration.migrate(session, clock, darlington, [open_case.id], by="owner")
    again = session.scalars(select(CaseMigration).order_by(CaseMigration.id.desc())).first()
    task = session.scalar(select(Task).where(Task.challenge_id == open_case.id))
    complete_task(session, clock, user("police-practitioner"), task.id,
                  {"rationale": "The threshold was not met.", "response": "We will review it."})
    with pytest.raises(Conflict, match="cannot be undone"):
        migration.revert(session, clock, darlington, again.id, "owner")


def test_an_element_given_another_id_is_mapped_to_its_new_one(session, clock, darlington, open_case, user):
    files = read_folder(WORKFLOWS / "darlington")
    renamed = files.bpmn_xml.replace('"enter_1"', '"start_stage_1"').replace(">enter_1<", ">start_stage_1<")
    version = publish(session, clock, darlington, dataclasses.replace(files, bpmn_xml=renamed), by="test")
    session.commit()
    [refused] = migration.dry_run(session, clock, darlington, [open_case.id])
    assert not refused.moved and "(enter_1), which this case has already run" in refused.reason
    [wrong] = migration.dry_run(session, clock, darlington, [open_case.id], mapping={"enter_1": "nowhere"})
    assert not wrong.moved and "'nowhere'" in wrong.reason
    [move] = migration.migrate(session, clock, darlington, [open_case.id], by="owner",
                               mapping={"enter_1": "start_stage_1"})
    assert move.moved, move.reason
    session.expire_all()
    assert session.get(Challenge, open_case.id).procedure_version_id == version.id
    event = session.scalars(select(Event).where(Event.kind == "case_migrated")).one()
    assert event.data["mapping"] == {"enter_1": "start_stage_1"}
    task = session.scalar(select(Task).where(Task.challenge_id == open_case.id))
    complete_task(session, clock, user("police-practitioner"), task.id,
                  {"rationale": "The threshold was not met.", "response": "We will review it."})
    session.expire_all()
    assert [t.bpmn_id for t in session.scalars(select(Task).where(Task.challenge_id == open_case.id,
                                                                 Task.status == "open"))] == ["s1_decide"]


def test_a_moved_case_re_executes_from_its_history_across_the_move(session, clock, darlington, open_case, user):
    """The auditors' re-execution starts a moved case on the version it was raised on and moves it where its
    history says, deadlines kept as they were."""
    new_version(session, clock, darlington, LATER_STAGE, REMINDER)
    migration.migrate(session, clock, darlington, [open_case.id], by="owner")
    session.expire_all()
    assert reexecute(session, session.get(Challenge, open_case.id)).matches
    task = session.scalar(select(Task).where(Task.challenge_id == open_case.id))
    complete_task(session, clock, user("police-practitioner"), task.id,
                  {"rationale": "The threshold was not met.", "response": "We will review it."})
    session.expire_all()
    assert reexecute(session, session.get(Challenge, open_case.id)).matches


def test_the_command_moves_the_open_cases_of_a_version(app, session, clock, darlington, open_case):
    new_version(session, clock, darlington, LATER_STAGE)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["procedure", "migrate", "--partnership", "darlington", "--dry-run"])
    assert result.exit_code == 0 and "1 of 1 open cases can move" in result.output, result.output
    result = runner.invoke(args=["procedure", "migrate", "--partnership", "darlington", "--from-version", "7"])
    assert result.exit_code == 1 and "no version 7" in result.output
    result = runner.invoke(args=["procedure", "migrate", "--partnership", "darlington", "--map", "x"])
    assert result.exit_code == 1 and "is not OLD=NEW" in result.output
    result = runner.invoke(args=["procedure", "migrate", "--partnership", "darlington", "--from-version", "1"])
    assert result.exit_code == 0 and "1 of 1 open cases moved" in result.output, result.output
    session.expire_all()
    assert session.get(Challenge, open_case.id).procedure_version.number == 2
