"""The ceiling for persisted completions: the benchmark's completion (stage 1 answered, the raiser's task opened
and its lane told, two events, the case saved) written by hand on the bare driver (sqlite3 or psycopg) with the
bare engine: no SQLAlchemy, no form validation, nothing general. No implementation on this engine and this
database can do the same work faster, so it separates what our own code costs from what the database costs.

It does only this one step and refuses a case that would do anything else (cancel a task, change stage), so it
can never look fast by doing less than `complete_task` does."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bench.seed import loaded
from engine.bpmn.script_engine import local_time
from engine.bpmn.serializer import dump_workflow, load_workflow
from engine.bpmn.tasks import form_of, ready_tasks
from engine.bpmn.tasks import stage_of as _spec_stage
from engine.bpmn.timers import next_timer_due
from engine.cases.run import _Case, moments
from engine.clock import MovableClock
from engine.models import Challenge, Task, User


def _stage_of(task) -> int:
    return _spec_stage(task.task_spec)


def run_engine(workflow) -> None:
    list(moments(_Case(workflow, workflow.script_engine.context, frozenset())))

_LOAD = """
SELECT t.challenge_id, t.task_uuid, t.status, t.claimed_by_id, t.title, t.stage, c.state, c.version,
       c.current_stage, c.reference, c.subject_reference, c.raising_agency_id, c.receiving_agency_id,
       p.nation, p.end_of_working_day,
       EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = ? AND m.role = t.role AND m.agency_id = t.agency_id)
FROM tasks t JOIN challenges c ON c.id = t.challenge_id JOIN partnerships p ON p.id = c.partnership_id
WHERE t.id = ?"""
_COMPLETE = """
UPDATE tasks SET status = 'completed', claimed_by_id = ?, claimed_at = ?, completed_by_id = ?, completed_at = ?,
       closed_at = ?, data = ?
WHERE id = ? AND status = 'open' AND (claimed_by_id IS NULL OR claimed_by_id = ?)"""
_OPEN = """
INSERT INTO tasks (challenge_id, task_uuid, bpmn_id, title, lane, role, side, agency_id, stage, form, due_at,
                   status, opened_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)"""
_TELL_LANE = """
INSERT INTO notifications (challenge_id, user_id, email, subject, body, created_at, email_status, attempts,
                           next_attempt_at)
SELECT ?, u.id, u.email, ?, ?, ?, 'pending', 0, ? FROM users u
WHERE u.active AND u.id IN (SELECT m.user_id FROM memberships m WHERE m.role = ? AND m.agency_id = ?)
ORDER BY u.id"""
_EVENT = "(?, ?, ?, ?, ?, ?, ?, ?)"
_EVENT_OPENED = ("(?, ?, ?, NULL, 'task_opened', (SELECT id FROM tasks WHERE challenge_id = ? AND task_uuid = ?), ?, "
                 "?)")
_SAVE = """
UPDATE challenges SET state = ?, version = ?, next_timer_due = ?, current_stage = ?
WHERE id = ? AND version = ?"""


class Refused(RuntimeError):
    pass


def bare_driver_completions(db: Engine, sessions, answers: dict, n: int, pipelined: bool = False) -> float:
    """Completions per second of `n` stage 1 answers (after 20 to warm up), each its own transaction.
    `pipelined` (PostgreSQL) sends a step's writes and its commit in one pipeline; its row counts are checked
    after the commit, which a real implementation could not do, so that figure is generous."""
    with sessions() as s:
        officer = s.scalar(select(User.id).where(User.username == "police-practitioner"))
        task_ids = s.scalars(select(Task.id).join(Challenge, Challenge.id == Task.challenge_id)
                             .where(Task.status == "open", Task.bpmn_id == "s1_respond",
                                    Challenge.next_timer_due > datetime.now(UTC))
                             .order_by(Task.id.desc()).limit(n + 20)).all()
        clock = MovableClock(datetime.now(UTC))
        challenge = s.get(Task, task_ids[0]).challenge
        workflow, script_engine = loaded(challenge, clock.now())
        lanes = challenge.procedure_version.lanes
    spec, subprocess_specs = workflow.spec, workflow.subprocess_specs
    proxy = db.raw_connection()
    try:
        conn = proxy.driver_connection
        sqlite = db.dialect.name == "sqlite"

        def sql(text: str) -> str:
            return text if sqlite else text.replace("?", "%s")

        def moment(value: datetime | None):
            if value is None:
                return None
            naive = value.astimezone(UTC).replace(tzinfo=None)  # as our UTC columns store it
            return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else naive

        statements = {name: sql(text) for name, text in
                      (("load", _LOAD), ("complete", _COMPLETE), ("open", _OPEN), ("tell", _TELL_LANE),
                       ("save", _SAVE))}

        def complete(task_id: int) -> None:
            now = clock.now()
            row = conn.execute(statements["load"], (officer, task_id)).fetchone()
            (case_id, task_uuid, status, claimed_by, title, stage, state, version, current_stage, reference,
             subject, raising_id, receiving_id, _nation, _end_of_day, may_act) = row
            if not may_act or status != "open" or claimed_by not in (None, officer):
                raise Refused(f"task {task_id} is not open to this user")
            workflow = load_workflow(state, spec, subprocess_specs, script_engine)
            before = {str(t.id) for t in ready_tasks(workflow, manual=True)}
            spiff_task = workflow.get_task_from_id(uuid.UUID(task_uuid))
            if spiff_task is None or spiff_task.state != TaskState.READY:
                raise Refused(f"task {task_id} is not ready in its case")
            spiff_task.data.update(answers)
            spiff_task.run()
            run_engine(workflow)
            ready = {str(t.id): t for t in ready_tasks(workflow, manual=True)}
            if before - set(ready) != {task_uuid} or any(_stage_of(t) != current_stage for t in ready.values()):
                raise Refused(f"case {case_id} does more than this step (a cancellation or a new stage)")
            writes = [(statements["complete"], (officer, moment(now), officer, moment(now), moment(now),
                                                json.dumps(answers), task_id, officer))]
            events = [(case_id, moment(now), moment(now), officer, "task_completed", task_id, "s1_respond",
                       json.dumps({"title": title, "stage": stage, "answers": answers}))]
            opened = []
            for new_uuid, new_task in ready.items():
                if new_uuid in before:
                    continue
                task_spec = new_task.task_spec
                lane = lanes[task_spec.lane]
                if lane["side"] not in ("raising", "receiving"):
                    raise Refused(f"case {case_id} opens a task on the {lane['side']} side")
                agency = raising_id if lane["side"] == "raising" else receiving_id
                expression = task_spec.extensions.get("properties", {}).get("due")
                due = (TimerEventDefinition.get_datetime(str(script_engine.evaluate(new_task, expression)))
                       if expression else None)
                new_title = task_spec.bpmn_name or task_spec.bpmn_id
                writes.append((statements["open"], (case_id, new_uuid, task_spec.bpmn_id, new_title, task_spec.lane,
                                                     lane["role"], lane["side"], agency, _stage_of(new_task),
                                                     form_of(task_spec), moment(due),
                                                     moment(now))))
                due_text = (f" It is due by {local_time(script_engine.context.calendar, due.isoformat())}."
                            if due else "")
                writes.append((statements["tell"], (
                    case_id, f"{reference}: new task - {new_title}",
                    f"A professional challenge needs you: {new_title} (case {subject}).{due_text}",
                    moment(now), moment(now), lane["role"], agency)))
                opened.append((case_id, moment(now), moment(now), case_id, new_uuid, task_spec.bpmn_id,
                               json.dumps({"title": new_title, "stage": _stage_of(new_task), "lane": task_spec.lane,
                                           "due_at": due.isoformat() if due else None})))
            writes.append((sql("INSERT INTO events (challenge_id, at, recorded_at, actor_id, kind, task_id, "
                               "element_id, data) VALUES "
                               + ", ".join([_EVENT] * len(events) + [_EVENT_OPENED] * len(opened))),
                           tuple(value for event in events + opened for value in event)))
            writes.append((statements["save"], (dump_workflow(workflow), version + 1,
                                                moment(next_timer_due(workflow)), current_stage, case_id,
                                                version)))
            if pipelined:
                with conn.pipeline():
                    cursors = [conn.execute(statement, params) for statement, params in writes]
                    conn.commit()
            else:
                cursors = [conn.execute(statement, params) for statement, params in writes]
                conn.commit()
            if cursors[0].rowcount != 1 or cursors[-1].rowcount != 1:
                raise Refused(f"case {case_id} changed under the step")

        for task_id in task_ids[:20]:
            complete(task_id)
        started = time.perf_counter()
        for task_id in task_ids[20:]:
            complete(task_id)
        return (len(task_ids) - 20) / (time.perf_counter() - started)
    finally:
        proxy.close()

