"""A case in motion, as plain data in and out: `run_step` starts, advances or completes a task of one case's
workflow and returns what happened at each moment the case passed through (timers fired, tasks opened and
closed, the stage it reached, the notices its scripts asked for), with the new state. It touches no database
and returns only JSON-friendly values: it runs in a step process (`engine.cases.runner`), whose memory and time
are bounded, and the writer turns its moments into rows.

Overdue timers fire in the order of their due moments, each with the case living at that moment, so a case
caught up after downtime ends exactly where it would have been had every timer fired on time (a reminder before
its deadline, never after it)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from ..bpmn.context import Notice, StepContext
from ..bpmn.parser import parse_procedure
from ..bpmn.script_engine import StepScriptEngine
from ..bpmn.scripting import OutOfMemory
from ..bpmn.serializer import dump_workflow, load_workflow, new_workflow
from ..bpmn.tasks import form_of, properties_of, ready_tasks, stage_of
from ..bpmn.timers import next_timer_due, timer_value
from ..calendar import WorkingCalendar
from ..errors import InvalidProcedure

# What a failing diagram raises inside SpiffWorkflow: the step fails, nothing of it is kept.
ENGINE_ERRORS = (SpiffWorkflowException, InvalidProcedure, ValueError, TypeError, KeyError, NameError,
                 ArithmeticError, AttributeError, IndexError, RecursionError, MemoryError)


class StepRefused(Exception):
    """The step cannot be taken on the case as it stands (`conflict`) or the procedure failed (`failed`).
    `retire`: the process that took it should not take another (it ran out of memory)."""

    def __init__(self, kind: str, message: str, retire: bool = False) -> None:
        super().__init__(message)
        self.kind, self.retire = kind, retire


@dataclass
class FiredTimer:
    name: str
    bpmn_id: str
    due: str | None
    # The user task the timer is on, if it is a boundary timer (its uuid, element, title and stage); whether the
    # timer closes it; whether its due moment is that task's deadline (not a reminder before it).
    task: str | None = None
    task_bpmn_id: str | None = None
    task_title: str | None = None
    task_stage: int | None = None
    interrupting: bool = False
    deadline: bool = False
    # That task's deadline (a reminder's notices are not worth sending once it has passed).
    task_due: str | None = None


@dataclass
class OpenedTask:
    uuid: str
    bpmn_id: str
    title: str
    lane: str
    stage: int
    form: str
    due: str | None
    data: dict[str, Any]  # the fields that lanes with an agency chosen at run time read it from


@dataclass
class ClosedTask:
    uuid: str
    # A deadline closed it ("lapsed"), or the case took another path ("withdrawn").
    lapsed: bool
    timer: str | None = None
    bpmn_id: str | None = None


@dataclass
class Moment:
    """What happened at one moment the case passed through."""

    at: str  # the moment the case lived it (a timer's due moment while catching up, else the step's now)
    fired: list[FiredTimer] = field(default_factory=list)
    closed: list[ClosedTask] = field(default_factory=list)
    opened: list[OpenedTask] = field(default_factory=list)
    # The case's stage after the moment: the highest of its open tasks (None: no open task).
    stage: int | None = None
    notices: list[Notice] = field(default_factory=list)


@dataclass
class StepRequest:
    """One step of one case. `action`: "start" (with `data`), "advance" (fire what is due), "complete"
    (`task` with `answers`, after firing what fell due before) or "migrate" (onto `migrate_to`)."""

    action: str
    now: str
    version: dict[str, str]  # content_hash, bpmn_xml, process_id
    calendar: dict[str, str]  # nation, end_of_day
    chosen_fields: list[str]
    state: str | None = None  # base64 of the stored state
    data: dict[str, Any] | None = None
    # For "start": the moment the challenge was raised, if before now (the case lives it first).
    start_at: str | None = None
    task: str | None = None
    answers: dict[str, Any] | None = None
    # For "migrate": the version to move the case onto (content_hash, bpmn_xml, process_id), and whether its
    # waiting timers are evaluated again on it.
    migrate_to: dict[str, str] | None = None
    rearm: bool = False
    mapping: dict[str, str] | None = None  # elements the new version gave other ids: old id -> new id


@dataclass
class StepResult:
    # Moments caught up before a completion, then those after it (or all of them, for other actions).
    caught_up: list[Moment]
    moments: list[Moment]
    state: str  # base64
    next_timer_due: str | None
    finished: bool
    outcome: str | None


class _Case:
    """The workflow of one case during a step, with what its task rows said when it was loaded."""

    def __init__(self, workflow: BpmnWorkflow, context: StepContext, synced: frozenset[str]) -> None:
        self.workflow, self.context, self.synced = workflow, context, synced
        self.completed: set[str] = set()
        self.fired: list[FiredTimer] = []

    def note_fired(self, task) -> None:
        """SpiffWorkflow's did_complete_task callback: a timer that fired, and the user task it is on."""
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            return
        fired = FiredTimer(task.task_spec.bpmn_name or task.task_spec.bpmn_id, task.task_spec.bpmn_id,
                           timer_value(task))
        on = [sibling for sibling in (task.parent.children if task.parent else []) if sibling.task_spec.manual]
        if on:
            spec = on[0].task_spec
            fired.task, fired.task_bpmn_id = str(on[0].id), spec.bpmn_id
            fired.task_title, fired.task_stage = spec.bpmn_name or spec.bpmn_id, stage_of(spec)
            fired.interrupting = bool(getattr(task.task_spec, "cancel_activity", False))
            due = _due(on[0], self.context) if fired.due else None
            fired.deadline = due is not None and due == _as_moment(fired.due)
            fired.task_due = due.isoformat() if due else None
        self.fired.append(fired)

    def _bpmn_id(self, task_uuid: str) -> str | None:
        task = self.workflow.get_task_from_id(uuid.UUID(task_uuid))
        return task.task_spec.bpmn_id if task is not None else None

    def ready_now(self) -> frozenset[str]:
        return frozenset(str(task.id) for task in ready_tasks(self.workflow, manual=True))

    def moment(self) -> Moment | None:
        """What the last round changed, or None if nothing did."""
        context = self.context
        if self.ready_now() == self.synced and not self.fired and not context.notices:
            return None
        # In the workflow's own order, so task rows (and their ids) follow the diagram.
        ready = {str(t.id): t for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)}
        lapsing = {f.task: f.bpmn_id for f in self.fired if f.interrupting and f.task}
        moment = Moment(at=context.moment().isoformat(), fired=self.fired)
        moment.closed = [ClosedTask(gone, gone in lapsing, lapsing.get(gone), self._bpmn_id(gone))
                         for gone in sorted(self.synced) if gone not in ready and gone not in self.completed]
        for uuid_, spiff_task in ready.items():
            if uuid_ not in self.synced:
                spec = spiff_task.task_spec
                due = _due(spiff_task, context)
                moment.opened.append(OpenedTask(
                    uuid=uuid_, bpmn_id=spec.bpmn_id, title=spec.bpmn_name or spec.bpmn_id, lane=spec.lane,
                    stage=stage_of(spec), form=form_of(spec), due=due.isoformat() if due else None,
                    data={name: spiff_task.data[name] for name in context.chosen_fields if name in spiff_task.data}))
        stages = [stage_of(task.task_spec) for uuid_, task in ready.items() if uuid_ not in self.completed]
        moment.stage = max(stages) if stages else None
        moment.notices, context.notices = context.notices, []
        self.fired = []
        self.synced = frozenset(ready)
        return moment


def _as_moment(value: str | None) -> datetime | None:
    return TimerEventDefinition.get_datetime(str(value)) if value else None


def _due(spiff_task, context: StepContext) -> datetime | None:
    """A user task's deadline: its `due` property, evaluated for the task."""
    expression = properties_of(spiff_task.task_spec).get("due")
    if not expression:
        return None
    return _as_moment(spiff_task.workflow.top_workflow.script_engine.evaluate(spiff_task, expression))


def _settle(case: _Case) -> None:
    """Run engine steps until none is ready. do_engine_steps runs them until none is left, then refreshes the
    timers; only a timer firing in that refresh leaves more to run (so no walk of the task tree to find out)."""
    for _ in range(200):
        case.context.timer_fired = False
        case.workflow.do_engine_steps(did_complete_task=case.note_fired)
        if not case.context.timer_fired:
            return
    raise RuntimeError("the procedure did not settle after 200 engine rounds (a loop with no waiting step?)")


def moments(case: _Case, first_at: datetime | None = None) -> Iterator[Moment]:
    """Run engine tasks and fire due timers until only people (or the future) can move the case on, yielding
    each moment that changed something. `first_at`: the moment of the first round, if before now (a challenge
    raised in the past starts at the moment it was raised); no timer fires before it."""
    context, workflow = case.context, case.workflow
    # Nothing of a case happens before it was raised: a deadline counted from an earlier day (the concern first
    # raised) that is already past fires when the challenge is raised, in order with the others.
    floor = min(first_at, context.now) if first_at is not None else None
    try:
        for round_ in range(1000):
            due = next_timer_due(workflow)
            context.at = due if due is not None and due <= context.now else None
            if context.at is not None and floor is not None and context.at < floor:
                context.at = floor
            if round_ == 0 and first_at is not None and first_at < context.now:
                context.at = first_at
            if context.at is None and not ready_tasks(workflow, manual=False):
                # Nothing due and nothing for the engine to run: the case waits (its timers were armed when
                # created), with what the completed task itself opened (a user task straight after it).
                moment = case.moment()
                if moment is not None:
                    yield moment
                return
            _settle(case)
            moment = case.moment()
            if moment is not None:
                yield moment
            if context.at is None:
                # Settled at the real now; timers armed on the way may already be overdue: go round again.
                due = next_timer_due(workflow)
                if due is None or due > context.now:
                    return
        raise RuntimeError("the procedure kept firing timers after 1000 rounds")
    finally:
        context.at = None


# The specs of the versions this process has been given, by content hash (a version never changes).
_SPECS: dict[str, tuple[Any, dict[str, Any]]] = {}


def specs_for(version: dict[str, str]) -> tuple[Any, dict[str, Any]]:
    found = _SPECS.get(version["content_hash"])
    if found is None:
        found = _SPECS[version["content_hash"]] = parse_procedure(version["bpmn_xml"], version["process_id"])
    return found


def _open(request: StepRequest) -> _Case:
    spec, subprocess_specs = specs_for(request.version)
    calendar = WorkingCalendar(request.calendar["nation"], time.fromisoformat(request.calendar["end_of_day"]))
    context = StepContext(now=datetime.fromisoformat(request.now), calendar=calendar,
                          chosen_fields=tuple(request.chosen_fields))
    engine = StepScriptEngine(context)
    if request.action == "start":
        workflow = new_workflow(spec, subprocess_specs, engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(request.data or {})
        return _Case(workflow, context, frozenset())
    workflow = load_workflow(base64.b64decode(request.state), spec, subprocess_specs, engine)
    case = _Case(workflow, context, frozenset())
    case.synced = case.ready_now()  # as loaded: what the task rows already say
    return case


def run_step(request: StepRequest) -> StepResult:
    """Take one step of one case. Raises `StepRefused`: "conflict" when the task to complete is no longer open
    once what fell due has fired, "failed" when the procedure itself fails."""
    try:
        case = _open(request)
        if request.action == "migrate":
            from .migrate import migrate_case  # it builds on this module

            migrate_case(case, request.migrate_to or {}, request.rearm, request.mapping)
            due = next_timer_due(case.workflow)
            return StepResult([], [], base64.b64encode(dump_workflow(case.workflow)).decode(),
                              due.isoformat() if due else None, False, None)
        caught_up: list[Moment] = []
        if request.action == "complete":
            due = next_timer_due(case.workflow)
            if due is not None and due <= case.context.now:
                caught_up = list(moments(case))
            spiff_task = case.workflow.get_task_from_id(uuid.UUID(request.task))
            if spiff_task is None or spiff_task.state != TaskState.READY:
                raise StepRefused("conflict", "This task is no longer open: the challenge has moved on.")
            spiff_task.data.update(request.answers or {})
            spiff_task.run()
            case.completed.add(request.task)
        first_at = datetime.fromisoformat(request.start_at) if request.start_at else None
        after = list(moments(case, first_at))
        workflow = case.workflow
        finished = workflow.is_completed()
        outcome = None
        if finished:
            last = workflow.last_task
            outcome = (last.data if last is not None else {}).get("outcome") or "closed"
        due = next_timer_due(workflow)
        return StepResult(caught_up, after, base64.b64encode(dump_workflow(workflow)).decode(),
                          due.isoformat() if due else None, finished, outcome)
    except StepRefused:
        raise
    except MemoryError:
        raise StepRefused("failed", "the procedure could not move on: the step ran out of memory",
                          retire=True) from None
    except ENGINE_ERRORS as exc:
        raise StepRefused("failed", f"the procedure could not move on: {exc}", retire=_out_of_memory(exc)) from exc


def _out_of_memory(exc: BaseException | None) -> bool:
    """Whether the failure was running out of memory, however SpiffWorkflow wrapped it."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, (MemoryError, OutOfMemory)):
            return True
        exc = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
        seen += 1
    return False


def replay_case(request: dict[str, Any]) -> dict[str, Any]:
    """Re-execute a case from its history: start it with the data it was raised with, then complete each task
    its history says was completed, each at its recorded moment, with its answers (timers firing in order as
    the clock passes them), and last catch up to `until`. Returns the events the writer would have written,
    as (at, kind, element) in moments, and the case as it ends (its open tasks, stage, status, outcome, next
    timer). Raises `StepRefused` where the history cannot be followed (a task it names is not open)."""
    version = request["version"]
    start = StepRequest(action="start", now=request["start"]["now"], version=version, calendar=request["calendar"],
                        chosen_fields=request["chosen_fields"], data=request["start"]["data"],
                        start_at=request["start"]["at"])
    case = _open(start)
    written: list[list[Any]] = []
    stage = 0

    def record(found: list[Moment]) -> None:
        nonlocal stage
        for moment in found:
            happened = [["timer_fired", f.bpmn_id] for f in moment.fired]
            happened += [["deadline_missed", f.task_bpmn_id] for f in moment.fired if f.deadline]
            happened += [["task_lapsed" if c.lapsed else "task_withdrawn", c.bpmn_id] for c in moment.closed]
            happened += [["task_opened", o.bpmn_id] for o in moment.opened]
            if moment.stage is not None and moment.stage != stage:
                happened.append(["stage_entered", None])
                stage = moment.stage
            happened += [["notified", None] for _ in moment.notices]
            written.append([moment.at, sorted(happened, key=lambda h: (h[0], h[1] or ""))])

    # The moves onto other versions its history records, each after so many completions (as the case made them).
    moves = list(request.get("migrations", []))

    def migrate_before(completed: int) -> None:
        from .migrate import migrate_case  # it builds on this module

        while moves and moves[0]["after"] <= completed:
            move = moves.pop(0)
            case.context.now = datetime.fromisoformat(move["at"])
            due = next_timer_due(case.workflow)
            if due is not None and due <= case.context.now:
                record(list(moments(case)))
            migrate_case(case, move["version"], move["rearm"], move["mapping"])

    try:
        record(list(moments(case, datetime.fromisoformat(start.start_at) if start.start_at else None)))
        for number, done in enumerate(request["completions"]):
            migrate_before(number)
            case.context.now = datetime.fromisoformat(done["at"])
            due = next_timer_due(case.workflow)
            if due is not None and due <= case.context.now:
                record(list(moments(case)))
            ready = [t for t in ready_tasks(case.workflow, manual=True) if t.task_spec.bpmn_id == done["element"]]
            if not ready:
                raise StepRefused("conflict", f"the history completes {done['element']} at {done['at']}, which the "
                                              "procedure did not have open then")
            spiff_task = sorted(ready, key=lambda t: str(t.id))[0] if len(ready) > 1 else ready[0]
            spiff_task.data.update(done["answers"] or {})
            spiff_task.run()
            case.completed.add(str(spiff_task.id))
            written.append([done["at"], [["task_completed", done["element"]]]])
            record(list(moments(case)))
        migrate_before(len(request["completions"]))
        case.context.now = datetime.fromisoformat(request["until"])
        due = next_timer_due(case.workflow)
        if due is not None and due <= case.context.now:
            record(list(moments(case)))
    except StepRefused:
        raise
    except ENGINE_ERRORS as exc:
        raise StepRefused("failed", f"the procedure could not move on: {exc}") from exc
    workflow = case.workflow
    finished = workflow.is_completed()
    last = workflow.last_task
    due = next_timer_due(workflow)
    return {"written": written, "open": sorted(t.task_spec.bpmn_id for t in ready_tasks(workflow, manual=True)),
            "stage": stage, "finished": finished,
            "outcome": ((last.data if last is not None else {}).get("outcome") or "closed") if finished else None,
            "next_timer_due": due.isoformat() if due else None}


def result_to_dict(result: StepResult) -> dict[str, Any]:
    return asdict(result)


def result_from_dict(value: dict[str, Any]) -> StepResult:
    def moment(m: dict[str, Any]) -> Moment:
        return Moment(at=m["at"], fired=[FiredTimer(**f) for f in m["fired"]],
                      closed=[ClosedTask(**c) for c in m["closed"]], opened=[OpenedTask(**o) for o in m["opened"]],
                      stage=m["stage"], notices=[Notice(**n) for n in m["notices"]])
    return StepResult([moment(m) for m in value["caught_up"]], [moment(m) for m in value["moments"]],
                      value["state"], value["next_timer_due"], value["finished"], value["outcome"])
