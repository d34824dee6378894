"""Timers on the step's clock instead of the wall clock, so tests move time and a case caught up after downtime
fires each timer at its own due moment, in order. They fire only in the rounds the run loop holds at each due
moment; in between (while the case runs at the real now) they are armed, never fired, so none can jump ahead
of another. The stored values (`event_value`, `event_fired`) are SpiffWorkflow's own internal data of a timer
task (pinned by tests/unit/test_spiffworkflow_contract.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from .context import StepContext


def context_of(my_task) -> StepContext:
    """The step context of the case this task belongs to (held by its script engine)."""
    return my_task.workflow.top_workflow.script_engine.context


def _fires(my_task, value: str) -> bool:
    context = context_of(my_task)
    if context.at is not None and TimerEventDefinition.get_datetime(value) <= context.at:
        my_task._set_internal_data(event_fired=True)
        context.timer_fired = True
    return my_task._get_internal_data("event_fired", False)


class ClockedTimeDate(TimeDateEventDefinition):
    def has_fired(self, my_task):
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            TimerEventDefinition.get_datetime(event_value)  # a bad value fails now, not at every refresh
            my_task._set_internal_data(event_value=event_value)
        return _fires(my_task, event_value)


class ClockedDuration(DurationTimerEventDefinition):
    def has_fired(self, my_task):
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            start = context_of(my_task).moment()
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            event_value = (start + TimerEventDefinition.get_timedelta_from_start(parsed, start)).isoformat()
            my_task._set_internal_data(event_value=event_value)
        return _fires(my_task, event_value)


class ClockedCycle(CycleTimerEventDefinition):
    def cycle_complete(self, my_task):
        context = context_of(my_task)
        now = context.moment()
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            components = expression.upper().replace("--", "/").strip("R").split("/")
            if len(components) == 2 and components[1].startswith("P"):
                # "R3/P1D": the first repeat one interval from now (our now, not the wall clock's).
                parsed = TimerEventDefinition.parse_iso_duration(components[1])
                duration = TimerEventDefinition.get_timedelta_from_start(parsed, now)
                cycles, start = int(components[0]) if components[0] else -1, now + duration
            else:
                cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
            event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if context.at is not None and next_event <= context.at:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
                context.timer_fired = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


CLOCKED_TIMERS = (ClockedTimeDate, ClockedDuration, ClockedCycle)
STOCK_TO_CLOCKED = ((TimeDateEventDefinition, ClockedTimeDate), (DurationTimerEventDefinition, ClockedDuration),
                    (CycleTimerEventDefinition, ClockedCycle))


def timer_value(task) -> str | None:
    """When a timer task is (or was) due, as stored in the case."""
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):
        return value.get("next")
    return value


def next_timer_due(workflow: BpmnWorkflow) -> datetime | None:
    """The earliest moment a waiting timer of this case will fire, from the values stored in the case. Reads the
    engine's own index of waiting event tasks rather than walking the task tree."""
    due = []
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if not isinstance(definition, TimerEventDefinition) or task.state != TaskState.WAITING:
            continue
        value = task._get_internal_data("event_value")
        if value is None:
            continue
        if isinstance(value, dict):
            if value.get("cycles") == 0:
                continue
            value = value["next"]
        due.append(TimerEventDefinition.get_datetime(value))
    return min(due) if due else None
