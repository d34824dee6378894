"""Every private behaviour of SpiffWorkflow 3.2.0 the engine leans on, pinned with a minimal diagram each, so an
upgrade that changes one fails here, in one obvious place, rather than somewhere in a scenario."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.context import StepContext
from engine.bpmn.parser import parse_procedure
from engine.bpmn.script_engine import StepScriptEngine
from engine.bpmn.serializer import SERIALIZER, SpecFreeWorkflowConverter, dump_workflow, load_workflow, new_workflow
from engine.bpmn.tasks import form_of, ready_tasks
from engine.bpmn.timers import ClockedTimeDate, next_timer_due
from engine.calendar import WorkingCalendar

RAISED = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)
DUE = "2026-12-21T17:00:00+00:00"


def diagram(form_as: str = "property") -> str:
    """One user task ("answer") with a deadline on a boundary timer, then the end; its form written where the
    SpiffWorkflow modeler writes it (`property`) or as its own element (`element`)."""
    form = ('<spiffworkflow:property name="formJsonSchemaFilename" value="answer.json" />' if form_as == "property"
            else "")
    element = ("<spiffworkflow:formJsonSchemaFilename>answer.json</spiffworkflow:formJsonSchemaFilename>"
               if form_as == "element" else "")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Receiver">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>answer</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>late</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="answer" name="Answer">
      <bpmn:extensionElements>{element}
        <spiffworkflow:properties>{form}<spiffworkflow:property name="stage" value="1" /></spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="deadline" name="Deadline" attachedToRef="answer">
      <bpmn:timerEventDefinition><bpmn:timeDate>"{DUE}"</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="late" /><bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="answer" />
    <bpmn:sequenceFlow id="f2" sourceRef="answer" targetRef="end" />
    <bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="late" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def started():
    spec, subs = parse_procedure(diagram(), "p")
    context = StepContext(now=RAISED, calendar=WorkingCalendar())
    workflow = new_workflow(spec, subs, StepScriptEngine(context))
    workflow.do_engine_steps()
    return workflow, spec, subs, context


def timer_task(workflow):
    [task] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "deadline"]
    return task


# --- the parser ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("form_as", ["property", "element"])
def test_a_user_tasks_form_is_read_where_the_modeler_writes_it_and_as_its_own_element(form_as):
    spec, _ = parse_procedure(diagram(form_as), "p")
    answer = spec.task_specs["answer"]
    # SpiffWorkflow's parser puts spiffworkflow:properties under extensions["properties"], other elements by name.
    assert ("properties" in answer.extensions) and answer.extensions["properties"]["stage"] == "1"
    assert form_of(answer) == "answer.json"


def test_our_parser_table_gives_boundary_timers_our_clocked_definition():
    spec, _ = parse_procedure(diagram(), "p")
    definition = spec.task_specs["deadline"].event_definition
    assert type(definition) is ClockedTimeDate and definition.expression == f'"{DUE}"'


# --- timers: their internal data, and the event manager ---------------------------------------------------------

def test_a_waiting_timer_keeps_its_value_in_the_internal_data_our_timers_use(started):
    workflow, _, _, _ = started
    timer = timer_task(workflow)
    assert timer.state == TaskState.WAITING
    assert timer._get_internal_data("event_value") == DUE  # set by our has_fired when first asked
    assert timer._get_internal_data("event_fired", False) is False


def test_the_event_manager_indexes_the_waiting_timer_tasks(started):
    workflow, _, _, _ = started
    waiting = list(workflow.event_manager.tasks.values())
    assert timer_task(workflow) in waiting
    assert next_timer_due(workflow) == datetime.fromisoformat(DUE)


def test_a_fired_boundary_timer_is_a_sibling_of_its_user_task_and_cancels_it(started):
    workflow, _, _, context = started
    fired = []
    context.at = datetime.fromisoformat(DUE) + timedelta(seconds=1)
    workflow.refresh_waiting_tasks()
    workflow.do_engine_steps(did_complete_task=fired.append)  # the callback gets each task completed
    timer = timer_task(workflow)
    assert timer in fired and timer.state == TaskState.COMPLETED
    siblings = [t for t in timer.parent.children if t.task_spec.manual]
    assert [t.task_spec.bpmn_id for t in siblings] == ["answer"]
    assert timer.task_spec.cancel_activity is True
    assert siblings[0].state == TaskState.CANCELLED


# --- the serializer -----------------------------------------------------------------------------------------------

def test_the_workflow_converters_parent_writes_the_case_without_its_spec(started):
    # SpecFreeWorkflowConverter skips BpmnWorkflowConverter.to_dict (which adds the spec) for its parent's: that
    # parent must still write the tasks and data, and no spec.
    workflow, _, _, _ = started
    converter = SpecFreeWorkflowConverter(type(workflow), SERIALIZER.registry)
    written = super(BpmnWorkflowConverter, converter).to_dict(workflow)
    assert {"tasks", "data", "root"} <= set(written) and "spec" not in written
    assert "spec" in BpmnWorkflowConverter.to_dict(converter, workflow)


def test_a_case_saves_without_its_spec_and_loads_back_the_same(started):
    workflow, spec, subs, context = started
    saved = dump_workflow(workflow)
    stored = json.loads(zlib.decompress(saved))
    assert "spec" not in stored and "subprocess_specs" not in stored
    again = load_workflow(saved, spec, subs, StepScriptEngine(context))
    assert [t.task_spec.bpmn_id for t in ready_tasks(again, manual=True)] == ["answer"]
    assert timer_task(again)._get_internal_data("event_value") == DUE


# --- the script environment's context cleaning ------------------------------------------------------------------

def test_the_environment_removes_functions_and_globals_from_the_data_after_a_script():
    environment = TaskDataEnvironment({"helper": len})
    context = {"kept": 1, "helper": len, "__builtins__": {}, "other": print}
    environment._remove_globals_and_functions_from_context(context)
    assert context == {"kept": 1}


def test_the_environment_refuses_data_that_would_hide_a_function():
    environment = TaskDataEnvironment({"notify": print})
    with pytest.raises(ValueError, match="overwrites a predefined"):
        environment.check_for_overwrite({"notify": "x"}, {})
