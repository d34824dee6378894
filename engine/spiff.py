"""Every way we extend SpiffWorkflow, in one module, through its own mechanisms (parser table, serializer
registry, script engine). Nothing here is monkeypatched.

- Timers read our clock (the script engine carries it) instead of the wall clock, so tests move time.
- Scripts and expressions run in the sandbox of `engine.sandbox`, with working-day and notification functions.
- A workflow is serialized without its spec: the spec is stored once per procedure version and reattached.
- BPMN XML is parsed with no DTDs, entities or network.
"""

from __future__ import annotations

import copy
import json
import zlib
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from . import sandbox
from .calendar import WorkingCalendar
from .clock import Clock, MovableClock
from .sandbox import UnsafeScript, check

# --- timers on our clock -------------------------------------------------------------------------------


def _engine(my_task) -> ChallengeScriptEngine:
    """The case's script engine: it holds the clock, the moment being caught up and whether a timer fired."""
    return my_task.workflow.top_workflow.script_engine


def _now(my_task) -> datetime:
    return _engine(my_task).now()


def _firing_moment(my_task) -> datetime | None:
    """Timers fire only in the rounds run_engine holds at each due moment, in due order; in between (while
    the case runs at the real now) they are armed, never fired, so none can jump ahead of another."""
    return _engine(my_task).at


def _fires(my_task, value: str) -> bool:
    moment = _firing_moment(my_task)
    if moment is not None and TimerEventDefinition.get_datetime(value) <= moment:
        my_task._set_internal_data(event_fired=True)
        _engine(my_task).timer_fired = True
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
            start = _now(my_task)
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            event_value = (start + TimerEventDefinition.get_timedelta_from_start(parsed, start)).isoformat()
            my_task._set_internal_data(event_value=event_value)
        return _fires(my_task, event_value)


class ClockedCycle(CycleTimerEventDefinition):
    def cycle_complete(self, my_task):
        now = _now(my_task)
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
        moment = _firing_moment(my_task)
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if moment is not None and next_event <= moment:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
                _engine(my_task).timer_fired = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


CLOCKED_TIMERS = (ClockedTimeDate, ClockedDuration, ClockedCycle)


class ClockedTimerParsing:
    """Mixin for the event parsers: the same XML, our clocked event definitions."""

    def parse_timer_event(self, event):
        stock = super().parse_timer_event(event)
        for stock_class, ours in (
            (TimeDateEventDefinition, ClockedTimeDate),
            (DurationTimerEventDefinition, ClockedDuration),
            (CycleTimerEventDefinition, ClockedCycle),
        ):
            if type(stock) is stock_class:
                return ours(stock.name, stock.expression, description=stock.description)
        return stock


class StartEventParser(ClockedTimerParsing, SpiffStartEventParser):
    pass


class BoundaryEventParser(ClockedTimerParsing, SpiffBoundaryEventParser):
    pass


class IntermediateCatchEventParser(ClockedTimerParsing, SpiffIntermediateCatchEventParser):
    pass


class ProcedureParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, BoundaryEvent),
        full_tag("intermediateCatchEvent"): (IntermediateCatchEventParser, IntermediateCatchEvent),
    }


# --- the sandboxed script engine ------------------------------------------------------------------------


class SandboxEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, with every script and expression compiled and run by
    `engine.sandbox`."""

    def evaluate(self, expression, context, external_context=None):
        code = sandbox.compile_script(expression, "eval")
        scope = dict(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return sandbox.run(code, scope, "eval")

    def execute(self, script, context, external_context=None):
        code = sandbox.compile_script(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        context.update(self.globals)
        context.update(external_context or {})
        try:
            sandbox.run(code, context, "exec")
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        sandbox.check_kept(context)
        return True


def _as_datetime(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


class ChallengeScriptEngine(PythonScriptEngine):
    """Built for each step of one challenge: its clock, its partnership's calendar, and an outbox buffer
    that `notify(...)` fills and the service writes in the same transaction."""

    def __init__(self, clock: Clock, calendar: WorkingCalendar) -> None:
        self.clock = clock
        self.calendar = calendar
        # While catching up on overdue timers the case lives at each timer's due moment in turn.
        self.at: datetime | None = None
        # Set when a timer fires: the engine then has steps to run that only a refresh of timers made ready.
        self.timer_fired = False
        self._running = None
        self.notifications: list[dict[str, Any]] = []
        functions = {
            "now": lambda: self.now().isoformat(),
            "working_days_after": self._working_days_after,
            "working_days_before": self._working_days_before,
            "day_n": self._day_n,
            "hours_before": self._hours_before,
            "notify": self._notify,
            "local_time": self.local_time,
        }
        super().__init__(environment=SandboxEnvironment(functions))

    def now(self) -> datetime:
        return self.at or self.clock.now()

    def execute(self, task, script, external_context=None):
        self._running = task
        try:
            return super().execute(task, script, external_context)
        finally:
            self._running = None

    def _working_days_after(self, moment: str, days: int) -> str:
        return self.calendar.add_working_days(_as_datetime(moment), int(days)).isoformat()

    def _day_n(self, start: str, n: int) -> str:
        return self.calendar.day_n(_as_datetime(start), int(n)).isoformat()

    def _working_days_before(self, moment: str, days: int) -> str:
        return self.calendar.working_days_before(_as_datetime(moment), int(days)).isoformat()

    def _hours_before(self, moment: str, hours: float) -> str:
        return (_as_datetime(moment) - timedelta(hours=float(hours))).astimezone(UTC).isoformat()

    def local_time(self, moment: str) -> str:
        """How a person reads a deadline: "Monday 21 December 2026, 17:00" in the partnership's zone."""
        local = _as_datetime(moment).astimezone(self.calendar.zone)
        return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"

    def _notify(self, to, subject: str, message: str) -> None:
        recipients = [to] if isinstance(to, str) else list(to)
        # "current" means the tasks waiting at the moment the script runs, not after the step ends.
        waiting, data = [], {}
        if getattr(self, "_running", None) is not None:
            top = self._running.workflow.top_workflow
            if "current" in recipients:
                waiting = [str(t.id) for t in ready_tasks(top, manual=True)]
            data = dict(self._running.data)  # lanes whose agency is chosen at run time read it from here
        self.notifications.append(
            {"to": recipients, "subject": str(subject), "message": str(message), "waiting": waiting, "data": data}
        )


# --- parsing a procedure safely -------------------------------------------------------------------------

SAFE_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)

_EXPRESSION_TAGS = ("conditionExpression", "timeDate", "timeDuration", "timeCycle", "loopCardinality",
                    "completionCondition", "loopCondition", "loopMaximum")
_SCRIPT_TAGS = ("script", "preScript", "postScript")


class InvalidProcedure(ValueError):
    """A diagram that cannot be published, with a message for the process owner."""


def parse_xml(bpmn_xml: str | bytes) -> etree._Element:
    data = bpmn_xml.encode() if isinstance(bpmn_xml, str) else bpmn_xml
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InvalidProcedure("the diagram may not contain a DOCTYPE or entity declarations")
    try:
        root = etree.fromstring(data, SAFE_XML)
    except etree.XMLSyntaxError as exc:
        raise InvalidProcedure(f"the diagram is not well-formed XML: {exc}") from None
    # The byte check above misses other encodings (UTF-16...); the parsed document does not.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise InvalidProcedure("the diagram may not contain a DOCTYPE or entity declarations")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise InvalidProcedure("the diagram may not contain entity references")
    return root


def _element_id(element: etree._Element) -> str:
    """The id of the diagram element a script or expression belongs to (the nearest ancestor with one)."""
    for ancestor in element.iterancestors():
        if ancestor.get("id"):
            return ancestor.get("id")
    return "?"


# When a procedure is published, its scripts run as far as they can without a case: on a fixed clock and the
# England and Wales calendar, their notices discarded.
_PUBLISH_MOMENT = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)


def check_scripts(root: etree._Element) -> None:
    """Refuse a diagram if any script or expression in it leaves the sandbox or runs past a limit before it
    needs a case's data."""
    functions = ChallengeScriptEngine(MovableClock(_PUBLISH_MOMENT), WorkingCalendar()).environment.globals
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        text = (element.text or "").strip()
        try:
            if local in _EXPRESSION_TAGS and text:
                check(text, "eval", functions)
            elif local in _SCRIPT_TAGS and text:
                check(text, "exec", functions)
            elif local == "property" and element.get("name") == "due":
                check(element.get("value", ""), "eval", functions)
        except UnsafeScript as exc:
            raise InvalidProcedure(f"{local} of {_element_id(element)}: {exc}") from None


def parse_procedure(bpmn_xml: str, process_id: str) -> tuple[Any, dict[str, Any]]:
    root = parse_xml(bpmn_xml)
    check_scripts(root)
    parser = ProcedureParser()
    try:
        parser.add_bpmn_xml(etree.ElementTree(root), filename=f"{process_id}.bpmn")
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise InvalidProcedure(f"the diagram is not valid BPMN: {exc}") from None
    return spec, subprocess_specs


@lru_cache(maxsize=64)
def cached_procedure(content_hash: str, bpmn_xml: str, process_id: str) -> tuple[Any, dict[str, Any]]:
    """Specs are immutable once parsed, so every case of a version shares one."""
    return parse_procedure(bpmn_xml, process_id)


# --- serializing a case without its spec ----------------------------------------------------------------


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


_CONFIG = copy.copy(SPIFF_CONFIG)
_CONFIG[BpmnWorkflow] = SpecFreeWorkflowConverter
for _timer in (ClockedTimeDate, ClockedDuration, ClockedCycle):
    _CONFIG[_timer] = TimerConditionalEventDefinitionConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))


def dump_workflow(workflow: BpmnWorkflow) -> bytes:
    return zlib.compress(SERIALIZER.serialize_json(workflow).encode(), 1)


def state_json(state: bytes) -> dict[str, Any]:
    """A stored case state as the plain JSON SpiffWorkflow wrote (for auditors and tests)."""
    return json.loads(zlib.decompress(state))


def load_workflow(state: bytes, spec, subprocess_specs, script_engine: ChallengeScriptEngine) -> BpmnWorkflow:
    dct = state_json(state)
    SERIALIZER.migrate(dct)
    dct["spec"] = spec
    dct["subprocess_specs"] = dict(subprocess_specs)
    workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow


def new_workflow(spec, subprocess_specs, script_engine: ChallengeScriptEngine) -> BpmnWorkflow:
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)


def ready_tasks(workflow: BpmnWorkflow, manual: bool) -> list:
    """The READY tasks, people's (`manual`) or the engine's, read from each workflow's own table of its tasks
    rather than by walking the task tree; in no particular order."""
    return [task for wf in (workflow, *workflow.subprocesses.values()) for task in wf.tasks.values()
            if task.state == TaskState.READY and task.task_spec.manual == manual]


def _settle(workflow: BpmnWorkflow, did_complete_task) -> None:
    """Run engine steps until none is ready. do_engine_steps runs them until none is left, then refreshes the
    timers; only a timer firing in that refresh leaves more to run (so no walk of the task tree to find out)."""
    engine: ChallengeScriptEngine = workflow.script_engine
    for _ in range(200):
        engine.timer_fired = False
        workflow.do_engine_steps(did_complete_task=did_complete_task)
        if not engine.timer_fired:
            return
    raise RuntimeError("the procedure did not settle after 200 engine rounds (a loop with no waiting step?)")


def run_engine(workflow: BpmnWorkflow, did_complete_task=None, after_round=None) -> None:
    """Run engine tasks and fire due timers until only people (or the future) can move the case on.

    Overdue timers fire in the order of their due moments, each with the case's clock set to that moment, so a
    case caught up after downtime ends exactly where it would have been had every timer fired on time (a
    reminder before its deadline, never after it). `after_round` is called after each moment the case passes
    through, so the host can record what happened at that moment (tasks opened and closed, stages entered)."""
    engine: ChallengeScriptEngine = workflow.script_engine
    real_now = engine.clock.now()
    try:
        for _ in range(1000):
            due = next_timer_due(workflow)
            engine.at = due if due is not None and due <= real_now else None
            if engine.at is None and not ready_tasks(workflow, manual=False):
                return  # nothing due and nothing ready: the case waits (its timers were armed when created)
            _settle(workflow, did_complete_task)
            if after_round is not None:
                after_round()
            if engine.at is None:
                # Settled at the real now; timers armed on the way may already be overdue: go round again.
                due = next_timer_due(workflow)
                if due is None or due > real_now:
                    return
        raise RuntimeError("the procedure kept firing timers after 1000 rounds")
    finally:
        engine.at = None


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
