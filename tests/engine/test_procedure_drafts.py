"""A process owner's draft: saved without publishing, every problem listed on its element, publishing refused
while any stands and, once none does, an immutable version made current (open cases keep theirs); a new
procedure from a blank diagram; two versions compared; deadlines chosen as words written as expressions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.calendar import WorkingCalendar
from engine.cases.raising import raise_challenge
from engine.cases.tasks import claim_task, complete_task
from engine.errors import InvalidProcedure
from engine.models import Challenge, Partnership, ProcedureDraft, ProcedureVersion, Task, User
from engine.procedures import drafts
from engine.procedures.compare import compare
from engine.procedures.deadlines import Deadline
from engine.procedures.files import WORKFLOWS, ProcedureFiles, read_folder
from engine.procedures.versions import current_version, publish
from tests.conftest import raise_answers


@pytest.fixture
def darlington(session, demo):
    return session.scalar(select(Partnership).where(Partnership.slug == "darlington"))


def test_each_demo_partnership_has_a_process_owner_who_owns_only_it(session, demo):
    for username, slug in [("dsp-process-owner", "darlington"), ("dudley-process-owner", "dudley"),
                           ("tees-process-owner", "tees"), ("stoke-process-owner", "stoke")]:
        owner = session.scalar(select(User).where(User.username == username))
        assert drafts.is_process_owner(session, owner)
        assert [p.slug for p in drafts.owned_partnerships(session, owner)] == [slug]
    practitioner = session.scalar(select(User).where(User.username == "csc-practitioner"))
    assert not drafts.is_process_owner(session, practitioner)


def test_a_draft_is_saved_without_publishing_and_published_when_valid(session, clock, darlington):
    files = drafts.working_files(session, darlington, "darlington")
    assert files.content_hash() == current_version(session, darlington.id).content_hash
    changed = dataclasses.replace(files, bpmn_xml=files.bpmn_xml.replace(
        "stage_due = working_days_after(stage_started, 1)", "stage_due = working_days_after(stage_started, 2)"))
    drafts.save_draft(session, clock, darlington, changed, "dsp-process-owner")
    session.commit()
    assert current_version(session, darlington.id).number == 1
    assert drafts.working_files(session, darlington, "darlington").content_hash() == changed.content_hash()
    assert drafts.validate(session, darlington, changed) == []
    version = drafts.publish_draft(session, clock, darlington, "darlington", "dsp-process-owner", "two days")
    session.commit()
    assert (version.number, version.published_by) == (2, "dsp-process-owner")
    assert current_version(session, darlington.id).id == version.id
    assert session.scalar(select(ProcedureDraft.procedure)) == "darlington"  # kept for the next change


def test_every_problem_is_listed_on_its_element_and_publishing_is_refused(session, clock, darlington):
    files = drafts.working_files(session, darlington, "darlington")
    xml = files.bpmn_xml.replace(">respond.json<", ">missing.json<", 1)
    broken = dataclasses.replace(files, bpmn_xml=xml, lanes={**files.lanes, "DSP Business Unit": {
        "role": "nobody", "side": "partnership"}})
    problems = drafts.validate(session, darlington, broken)
    messages = " | ".join(p.message for p in problems)
    assert "missing.json" in messages and "nobody" in messages
    assert "s1_respond" in {p.element for p in problems}
    assert "lane_6" in {p.element for p in problems}  # the DSP Business Unit's lane
    drafts.save_draft(session, clock, darlington, broken, "dsp-process-owner")
    with pytest.raises(InvalidProcedure, match="not published"):
        drafts.publish_draft(session, clock, darlington, "darlington", "dsp-process-owner", None)
    session.rollback()
    assert session.scalar(select(ProcedureVersion.number).order_by(ProcedureVersion.number.desc())
                          .where(ProcedureVersion.partnership_id == darlington.id)) == 1


@pytest.mark.parametrize("xml, message", [
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "DOCTYPE"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>', "DOCTYPE"),
    ("<bpmn:definitions", "not well-formed"),
])
def test_hostile_diagrams_are_refused_with_a_message(session, darlington, xml, message):
    files = drafts.working_files(session, darlington, "darlington")
    problems = drafts.validate(session, darlington, dataclasses.replace(files, bpmn_xml=xml))
    assert len(problems) == 1 and message in problems[0].message


def test_scripts_that_reach_dunders_or_import_are_refused_on_their_element(session, darlington):
    files = drafts.working_files(session, darlington, "darlington")
    for script in ("import os", "x = ().__class__"):
        xml = files.bpmn_xml.replace("<bpmn:script>missed_deadlines = []",
                                     f"<bpmn:script>{script}\nmissed_deadlines = []")
        problems = drafts.validate(session, darlington, dataclasses.replace(files, bpmn_xml=xml))
        assert [p.element for p in problems] == ["raised"], problems


def test_an_unreachable_element_is_a_problem(session, darlington):
    files = drafts.working_files(session, darlington, "darlington")
    xml = files.bpmn_xml.replace('<bpmn:endEvent id="s1_end" name="Resolved">',
                                 '<bpmn:endEvent id="stray" name="Stray" /><bpmn:endEvent id="s1_end" name="Resolved">')
    problems = drafts.validate(session, darlington, dataclasses.replace(files, bpmn_xml=xml))
    assert [(p.element, "cannot be reached" in p.message) for p in problems] == [("stray", True)]


def test_a_new_procedure_starts_from_a_blank_diagram_and_names_are_checked(session, clock, darlington):
    draft = drafts.new_procedure(session, clock, darlington, "adults", "Adults' escalation", "dsp-process-owner")
    assert draft.process_id == "adults_procedure" and "startEvent" in draft.bpmn_xml
    assert "adults" in drafts.procedures_of(session, darlington)
    problems = drafts.validate(session, darlington, drafts.working_files(session, darlington, "adults"))
    assert "the diagram has no user tasks" in [p.message for p in problems]
    for name in ("Adults", "../x", "adults"):
        with pytest.raises(InvalidProcedure):
            drafts.new_procedure(session, clock, darlington, name, "T", None)


def test_two_versions_compared(session, darlington):
    before = read_folder(WORKFLOWS / "darlington")
    xml = before.bpmn_xml.replace("stage_due = working_days_after(stage_started, 1)",
                                  "stage_due = working_days_after(stage_started, 2)")
    xml = xml.replace('<bpmn:endEvent id="s1_end" name="Resolved">', '<bpmn:endEvent id="s1_end" name="Closed">')
    forms = {k: v for k, v in before.forms.items() if k != "monitoring.json"}
    lanes = {**before.lanes, "DSP Business Unit": {"role": "business_unit", "side": "receiving"}}
    result = compare(before, dataclasses.replace(before, bpmn_xml=xml, forms=forms, lanes=lanes))
    assert result.changed == ["enter_1", "s1_end"] and result.added == result.removed == []
    assert result.forms == {"monitoring.json": "removed"}
    assert result.lanes == {"DSP Business Unit": "side 'partnership' → 'receiving'"}
    assert compare(before, before).changed == []


def test_deadlines_in_words_become_expressions_with_their_sample_dates():
    calendar, start = WorkingCalendar(), datetime(2026, 12, 18, 15, 0, tzinfo=UTC)  # a Friday before Christmas
    cases = [(Deadline("working_days", 2, "stage"), "working_days_after(stage_started, 2)",
              "Tuesday 22 December 2026, 17:00"),
             (Deadline("day", 9, "raised"), "day_n(raised_at, 9)", "Monday 4 January 2027, 17:00"),
             (Deadline("hours", 48, "task"), "hours_after(now(), 48)", "Sunday 20 December 2026, 15:00"),
             (Deadline("working_days", 1, "stage_due", before=True), "working_days_before(stage_due, 1)",
              "Thursday 17 December 2026, 15:00"),
             (Deadline("hours", 48, "stage_due", after=True), "hours_after(stage_due, 48)",
              "Sunday 20 December 2026, 15:00")]
    for deadline, expression, sample in cases:
        assert (deadline.expression(), deadline.sample(calendar, start)) == (expression, sample)
    for bad in (Deadline("weeks", 1), Deadline("hours", 1, "__class__", before=True), Deadline("hours", 401),
                Deadline("day", 2, "stage_due", after=True), Deadline("hours", 1, "x", before=True, after=True)):
        with pytest.raises(InvalidProcedure):
            bad.expression()


TWO_TASKS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="two_tasks" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_r" name="Receiving practitioner"><bpmn:flowNodeRef>respond</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_s" name="Raising practitioner">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>confirm</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="respond" name="Respond"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="answer.json" />
      <spiffworkflow:property name="stage" value="1" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="confirm" name="Confirm"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="answer.json" />
      <spiffworkflow:property name="stage" value="2" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="respond" />
    <bpmn:sequenceFlow id="f2" sourceRef="respond" targetRef="confirm" />
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_user_task_straight_after_another_opens_when_it_is_completed(session, clock, darlington, user, agency):
    """Drawn in the modeler, a diagram need not put an engine step between two people's tasks."""
    form = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string", "title": "A"}}}
    publish(session, clock, darlington, ProcedureFiles(
        "two", "Two tasks", "two_tasks", TWO_TASKS, {"answer.json": form},
        {"Receiving practitioner": {"role": "practitioner", "side": "receiving"},
         "Raising practitioner": {"role": "practitioner", "side": "raising"}}))
    session.commit()
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    respond = session.scalar(select(Task).where(Task.challenge_id == challenge.id))
    claim_task(session, clock, user("police-practitioner"), respond.id)
    complete_task(session, clock, user("police-practitioner"), respond.id, {"answer": "done"})
    session.expire_all()
    rows = [(t.bpmn_id, t.status) for t in session.scalars(select(Task).where(Task.challenge_id == challenge.id)
                                                          .order_by(Task.id))]
    assert rows == [("respond", "completed"), ("confirm", "open")]
    assert session.get(Challenge, challenge.id).current_stage == 2
