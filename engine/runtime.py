"""A case in motion: load a challenge's workflow, let it move, and write back everything that moved (state,
task rows, next timer, events, outbox) into the caller's transaction. The caller commits once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from . import notifications
from .calendar import WorkingCalendar
from .clock import Clock
from .errors import StepFailed
from .models import Agency, Challenge, Event, ProcedureVersion, Task, User
from .procedures import specs_of
from .roles import CHOSEN_PREFIX
from .spiff import (
    ChallengeScriptEngine,
    dump_workflow,
    load_workflow,
    new_workflow,
    next_timer_due,
    ready_tasks,
    run_engine,
)
from .spiff import InvalidProcedure as _InvalidProcedure

# The statements of every step, built once (each use then costs only its execution). They run on the session's
# connection, inside its transaction, without flushing the session first.
_tasks, _challenges = Task.__table__, Challenge.__table__
_OPEN_TASKS = insert(_tasks).returning(_tasks.c.id, sort_by_parameter_order=True)
_CANCEL_TASKS = (
    update(_tasks)
    .where(_tasks.c.challenge_id == bindparam("case_id"), _tasks.c.status == "open",
           _tasks.c.task_uuid.in_(bindparam("uuids", expanding=True)))
    .values(status="cancelled", closed_at=bindparam("now"))
    .returning(_tasks.c.id, _tasks.c.title, _tasks.c.stage)
)
_WRITE_EVENTS = insert(Event.__table__)
_SAVED_COLUMNS = ("state", "next_timer_due", "current_stage", "status", "outcome", "closed_at", "set_aside_reason",
                  "set_aside_at")
# Conditional on the version read: of two steps on one case at once, the second matches no row.
_SAVE_CASE = (
    update(_challenges)
    .where(_challenges.c.id == bindparam("case_id"), _challenges.c.version == bindparam("read_version"))
    .values(version=bindparam("new_version"), **{c: bindparam(f"new_{c}") for c in _SAVED_COLUMNS})
)

ENGINE_ERRORS = (SpiffWorkflowException, _InvalidProcedure, ValueError, TypeError, KeyError, NameError,
                 ArithmeticError, AttributeError)


@dataclass
class Case:
    challenge: Challenge
    version: ProcedureVersion
    workflow: BpmnWorkflow
    script_engine: ChallengeScriptEngine
    fired_timers: list[dict[str, Any]] = field(default_factory=list)
    # The ready user tasks the task rows were last written for (None: not yet looked at).
    synced: frozenset[str] | None = None
    # Events of the step not yet written: written together, one statement per moment the case passes.
    events: list[dict[str, Any]] = field(default_factory=list)
    # Tasks the step itself closed (the one being completed): they leave the ready set without being cancelled.
    closed: set[str] = field(default_factory=set)
    # The partnership's business unit, once looked up (the agency of every partnership lane).
    body_agency_id: int | None = None

    def note(self, clock: Clock, kind: str, task: Task | None = None, actor: User | None = None,
             task_id: int | None = None, **data: Any) -> None:
        self.events.append({"challenge_id": self.challenge.id, "at": clock.now(),
                            "actor_id": actor.id if actor else None, "kind": kind, "task": task,
                            "task_id": task_id, "data": data})

    def note_timer(self, task) -> None:
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            self.fired_timers.append({"timer": task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                                      "bpmn_id": task.task_spec.bpmn_id, "due": _timer_value(task)})


def stage_word(version: ProcedureVersion) -> str:
    """What the procedure calls its stages: "stage" unless it says "step" or "level"."""
    return version.meta.get("stage_word", "stage")


def calendar_for(challenge: Challenge) -> WorkingCalendar:
    return WorkingCalendar(challenge.partnership.nation, time.fromisoformat(challenge.partnership.end_of_working_day))


def start_case(challenge: Challenge, version: ProcedureVersion, clock: Clock, data: dict[str, Any]) -> Case:
    spec, subprocess_specs = specs_of(version)
    script_engine = ChallengeScriptEngine(clock, calendar_for(challenge))
    workflow = new_workflow(spec, subprocess_specs, script_engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return Case(challenge, version, workflow, script_engine)


def open_case(challenge: Challenge, clock: Clock) -> Case:
    version = challenge.procedure_version
    spec, subprocess_specs = specs_of(version)
    script_engine = ChallengeScriptEngine(clock, calendar_for(challenge))
    workflow = load_workflow(challenge.state, spec, subprocess_specs, script_engine)
    return Case(challenge, version, workflow, script_engine)


def lane_agency_id(session: Session, challenge: Challenge, side: str, data: dict[str, Any] | None = None) -> int:
    """The agency whose members hold a lane of this case: by side, or chosen at run time (agency_from:<field>)."""
    if side == "raising":
        return challenge.raising_agency_id
    if side == "receiving":
        return challenge.receiving_agency_id
    if side.startswith(CHOSEN_PREFIX):
        field = side.removeprefix(CHOSEN_PREFIX)
        chosen = (data or {}).get(field)
        agency = session.get(Agency, chosen) if isinstance(chosen, int) else None
        if agency is None or agency.partnership_id != challenge.partnership_id:
            raise StepFailed(f"the case has no agency of this partnership in {field!r} for a lane that needs one")
        return agency.id
    body = session.scalar(
        select(Agency.id).where(
            Agency.partnership_id == challenge.partnership_id, Agency.is_partnership_body.is_(True)
        )
    )
    if body is None:
        raise StepFailed("the partnership has no business unit for its partnership lanes")
    return body


def record(session: Session, clock: Clock, challenge: Challenge, kind: str, actor: User | None = None,
           task: Task | None = None, **data: Any) -> Event:
    event = Event(challenge_id=challenge.id, at=clock.now(), actor_id=actor.id if actor else None, kind=kind,
                  task=task, data=data)
    session.add(event)
    return event


def _parse_due(value: Any) -> datetime | None:
    if not value:
        return None
    return TimerEventDefinition.get_datetime(str(value))


def advance(session: Session, clock: Clock, case: Case, actor: User | None = None) -> None:
    """Run the procedure until it waits for people or time, then write back everything that changed."""
    _run(session, clock, case)
    _close_if_finished(session, clock, case, actor)
    _write_events(session, case)
    # A step that succeeds takes the case out of any set-aside an earlier failure put it in.
    _save(session, case.challenge, state=dump_workflow(case.workflow), next_timer_due=next_timer_due(case.workflow),
          set_aside_reason=None, set_aside_at=None)


def set_aside(session: Session, clock: Clock, challenge: Challenge, reason: str, kind: str,
              actor: User | None = None, **data: Any) -> None:
    """Mark a case whose step failed (and was rolled back) as set aside, with the reason, and record it. The
    caller commits this on its own."""
    challenge.set_aside_reason = reason[:2000]
    challenge.set_aside_at = clock.now()
    record(session, clock, challenge, kind, actor=actor, error=reason[:2000], **data)


def _save(session: Session, challenge: Challenge, **changes: Any) -> None:
    """Write the case's row in one conditional UPDATE. The step sets the row's values on the object as what the
    database holds (`set_committed_value`), so the session has nothing left to flush for it; a rolled-back
    step's objects are expired and read again."""
    for column, value in changes.items():
        set_committed_value(challenge, column, value)
    read, values = challenge.version, {c: getattr(challenge, c) for c in _SAVED_COLUMNS}
    # On the session's connection, so nothing is flushed first: other changes to the row (a new challenge's
    # reference) follow at commit, conditional on the version written here.
    result = session.connection().execute(_SAVE_CASE, {"case_id": challenge.id, "read_version": read,
                                                       "new_version": read + 1,
                                                       **{f"new_{c}": v for c, v in values.items()}})
    if result.rowcount != 1:
        raise StaleDataError(f"challenge {challenge.id} changed since it was read")
    for column, value in {**values, "version": read + 1}.items():
        set_committed_value(challenge, column, value)


def catch_up(session: Session, clock: Clock, case: Case) -> None:
    """Fire whatever fell due before a person acts, so the act lands on the case as it stands now. A saved case
    is settled (it waits for people or time), so only a timer already due can move it."""
    due = next_timer_due(case.workflow)
    if due is not None and due <= clock.now():
        _run(session, clock, case)


def _ready_tasks(case: Case) -> dict[str, Any]:
    """The ready user tasks, in the workflow's own order (rows are written in it, so ids follow the diagram)."""
    return {str(t.id): t for t in case.workflow.get_tasks(state=TaskState.READY, manual=True)}


def _ready_now(case: Case) -> frozenset[str]:
    return frozenset(str(task.id) for task in ready_tasks(case.workflow, manual=True))


def _run(session: Session, clock: Clock, case: Case) -> None:
    if case.synced is None:
        case.synced = _ready_now(case)  # as loaded: what the task rows already say

    def write_back_round() -> None:
        # After each moment the case passes through: what fired, what opened and closed, where it now stands.
        if _ready_now(case) == case.synced and not case.fired_timers and not case.script_engine.notifications:
            return  # nothing happened at this moment; the rows are already right
        ready = _ready_tasks(case)
        for fired in case.fired_timers:
            case.note(clock, "timer_fired", **fired)
        case.fired_timers.clear()
        _sync_tasks(session, clock, case, ready)
        _update_stage(session, clock, case, ready)
        _write_notifications(session, clock, case)  # recipients are found with queries over the rows just written
        case.synced = frozenset(ready)

    try:
        # Task rows, events and outbox rows go straight to the database; the challenge row is written once, when
        # the step's transaction commits, not at every moment the case passes.
        with session.no_autoflush:
            run_engine(case.workflow, did_complete_task=case.note_timer, after_round=write_back_round)
    except ENGINE_ERRORS as exc:
        raise StepFailed(f"the procedure could not move on: {exc}") from exc


def _write_events(session: Session, case: Case) -> None:
    """The step's events (every moment it passed through) in one multi-row insert, in the order they happened
    (ids keep that order)."""
    if not case.events:
        return
    rows = [{**{k: v for k, v in e.items() if k != "task"}, "task_id": e["task"].id if e["task"] else e["task_id"]}
            for e in case.events]
    session.connection().execute(_WRITE_EVENTS, rows)
    case.events.clear()


def _timer_value(task) -> str | None:
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):
        return value.get("next")
    return value


def _sync_tasks(session: Session, clock: Clock, case: Case, ready: dict[str, Any]) -> None:
    """Make the task rows say what the workflow says. The rows said what `case.synced` says (they are written
    with every state saved), so only the difference is written: no query for the rows that stay."""
    challenge, now = case.challenge, clock.now()
    gone = [uuid for uuid in case.synced if uuid not in ready and uuid not in case.closed]
    if gone:
        cancelled = session.connection().execute(
            _CANCEL_TASKS, {"case_id": challenge.id, "uuids": gone, "now": now}).all()
        for row in cancelled:
            case.note(clock, "task_cancelled", task_id=row.id, title=row.title, stage=row.stage)
            loaded = session.identity_map.get(identity_key(Task, row.id))
            if loaded is not None:  # a row this session already holds says what the database now says
                set_committed_value(loaded, "status", "cancelled")
                set_committed_value(loaded, "closed_at", now)
    opened = [(uuid, spiff_task) for uuid, spiff_task in ready.items() if uuid not in case.synced]
    rows = []
    for uuid, spiff_task in opened:
        spec = spiff_task.task_spec
        lane = case.version.lanes[spec.lane]
        properties = spec.extensions.get("properties", {})
        due_expression = properties.get("due")
        due = _parse_due(case.script_engine.evaluate(spiff_task, due_expression)) if due_expression else None
        rows.append(dict(
            challenge_id=challenge.id,
            task_uuid=uuid,
            bpmn_id=spec.bpmn_id,
            title=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane,
            role=lane["role"],
            side=lane["side"],
            agency_id=_lane_agency(session, case, lane["side"], spiff_task.data),
            stage=_stage_of(spiff_task),
            form=spec.extensions["formJsonSchemaFilename"],
            due_at=due,
            status="open",
            opened_at=now,
            claimed_by_id=None, claimed_at=None, completed_by_id=None, completed_at=None, closed_at=None,
        ))
    if not rows:
        return
    ids = session.connection().execute(_OPEN_TASKS, rows).scalars().all()
    for task_id, row in zip(ids, rows, strict=True):
        due = row["due_at"]
        case.note(clock, "task_opened", task_id=task_id, title=row["title"], stage=row["stage"], lane=row["lane"],
                  due_at=due.isoformat() if due else None)
        due_text = f" It is due by {case.script_engine.local_time(due.isoformat())}." if due else ""
        notifications.queue(
            session, clock, challenge, notifications.lane_holders(row["role"], row["agency_id"]),
            f"{challenge.reference}: new task - {row['title']}",
            f"A professional challenge needs you: {row['title']} (case {challenge.subject_reference}).{due_text}",
        )


def _stage_of(spiff_task) -> int:
    return int(spiff_task.task_spec.extensions.get("properties", {}).get("stage", 0))


def _lane_agency(session: Session, case: Case, side: str, data: dict[str, Any]) -> int:
    if side == "partnership":  # the same for every task of the case: looked up once
        if case.body_agency_id is None:
            case.body_agency_id = lane_agency_id(session, case.challenge, side, data)
        return case.body_agency_id
    return lane_agency_id(session, case.challenge, side, data)


def _write_notifications(session: Session, clock: Clock, case: Case) -> None:
    challenge = case.challenge
    for note in case.script_engine.notifications:
        try:
            who = notifications.resolve(
                challenge, case.version.lanes,
                lambda side, data=note["data"]: _lane_agency(session, case, side, data),
                note["to"], note["waiting"],
            )
        except ValueError as exc:
            raise StepFailed(str(exc)) from exc
        count = notifications.queue(session, clock, challenge, who, note["subject"], note["message"])
        case.note(clock, "notified", subject=note["subject"], to=note["to"], recipients=count)
    case.script_engine.notifications.clear()


def _update_stage(session: Session, clock: Clock, case: Case, ready: dict[str, Any]) -> None:
    """The case is at the highest stage of its open tasks."""
    challenge = case.challenge
    stages = [_stage_of(task) for uuid, task in ready.items() if uuid not in case.closed]
    if stages and max(stages) != challenge.current_stage:
        previous = challenge.current_stage
        set_committed_value(challenge, "current_stage", max(stages))  # written by _save
        case.note(clock, "stage_entered", stage=challenge.current_stage, previous=previous)
        if previous > 0:  # the referrer needs no word that their own new challenge is at stage 1
            word = stage_word(case.version)
            notifications.queue(
                session, clock, challenge, notifications.user(challenge.referrer_id),
                f"{challenge.reference}: now at {word} {challenge.current_stage}",
                f"Your professional challenge about case {challenge.subject_reference} has moved from {word} "
                f"{previous} to {word} {challenge.current_stage}. Open it to see the record of each {word}.",
            )


def _close_if_finished(session: Session, clock: Clock, case: Case, actor: User | None) -> None:
    challenge = case.challenge
    if case.workflow.is_completed() and challenge.status == "open":
        last = case.workflow.last_task
        data = last.data if last is not None else {}
        # Written by _save with the rest of the row.
        set_committed_value(challenge, "status", "closed")
        set_committed_value(challenge, "outcome", data.get("outcome") or "closed")
        set_committed_value(challenge, "closed_at", clock.now())
        case.note(clock, "challenge_closed", actor=actor, outcome=challenge.outcome, stage=challenge.current_stage)
