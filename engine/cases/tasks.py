"""Claiming and completing a task. A completion validates the answers against the task's form, marks the task
completed (a conditional update: of two people at once exactly one wins), takes the step in a step process and
writes what it did, in one transaction; when the procedure fails, nothing of the step is kept and the case is
set aside, with the reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .. import events, forms
from ..clock import Clock
from ..errors import Conflict, Forbidden, Invalid, NotFound, StepFailed
from ..models import Agency, Challenge, Task, User
from ..procedures.versions import version_of
from ..queries.access import can_act_on, can_view
from ..queries.cases import get_task
from ..unit_of_work import unit_of_work
from . import step, store
from .raising import is_id, receiving_agencies
from .writer import Writer, calendar_for, set_aside


def check_can_act(session: Session, user: User, task: Task) -> None:
    if not can_act_on(session, user, task):
        if can_view(session, user, task.challenge_id):
            raise Forbidden("This task belongs to another role or agency.")
        raise NotFound("There is no such task.")


def check_open(task: Task, user: User) -> None:
    if task.status == "completed":
        who = task.completed_by.display_name if task.completed_by else "someone"
        raise Conflict(f"This task was already completed by {who}.")
    if task.status != "open":
        raise Conflict("This task is no longer open: the challenge has moved on.")
    if task.claimed_by_id is not None and task.claimed_by_id != user.id:
        raise Conflict(f"This task has been claimed by {task.claimed_by.display_name}.")


def claim_task(session: Session, clock: Clock, user: User, task_id: int) -> Task:
    """Claim an open task of one of the user's lanes. Claiming one's own claim again changes nothing."""
    task = get_task(session, task_id)
    check_can_act(session, user, task)
    check_open(task, user)
    if task.claimed_by_id == user.id:
        return task
    with unit_of_work(session) as work:
        now = clock.now()
        if not store.claim_task_row(session, task, user.id, now):
            raise Conflict("Someone else claimed or completed this task a moment ago.")
        events.write(session, clock, task.challenge_id, [
            events.TaskClaimed(now, {"title": task.title}, actor_id=user.id, task_id=task.id,
                               element_id=task.bpmn_id)])
        work.commit()
    return task


def _task_to_complete(session: Session, user: User, task_id: int) -> Task:
    found = session.execute(store.TASK_TO_COMPLETE, {"user_id": user.id, "task_id": task_id}).first()
    if found is None:
        raise NotFound("There is no such task.")
    task, may_act = found
    if not may_act:
        check_can_act(session, user, task)  # says why: another role's task, or no such task for this user
    return task


def complete_task(session: Session, clock: Clock, user: User, task_id: int, answers: dict[str, Any]) -> Task:
    """Complete a task with the answers to its form and move the challenge on."""
    task = _task_to_complete(session, user, task_id)
    check_open(task, user)
    challenge = task.challenge
    version = version_of(session, challenge)
    schema = version.forms[task.form]
    answers = forms.validate(schema, answers, today=calendar_for(challenge).local_day(clock.now()))
    _check_agency_choices(session, challenge, schema, answers)
    try:
        with unit_of_work(session) as work:
            now = clock.now()
            if not store.complete_task_row(session, task, user.id, now, answers):
                raise Conflict("Someone else completed or claimed this task a moment ago.")
            store.drop_draft(session, task.id)
            result = step.take(clock, challenge, version, "complete", task=task.task_uuid, answers=answers)
            writer = Writer(session, clock, challenge, version, actor=user)
            writer.moments(result.caught_up)
            writer.add(events.TaskCompleted(now, {"title": task.title, "stage": task.stage, "answers": answers},
                                            actor_id=user.id, task_id=task.id, element_id=task.bpmn_id))
            writer.moments(result.moments)
            writer.finish(result)
            work.commit()
    except StepFailed as exc:
        with unit_of_work(session) as work:
            set_aside(session, clock, session.get(Challenge, challenge.id), str(exc),
                      events.StepFailed, actor=user, task_id=task.id, title=task.title)
            work.commit()
        raise
    return task


def agency_choices(session: Session, challenge: Challenge, schema: dict[str, Any]) -> dict[str, list[Agency]]:
    """Fields marked `"x-agency-choice": "uninvolved"` choose an agency of the partnership that is neither
    raising nor receiving the challenge (an independent chair, say)."""
    choices = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("x-agency-choice") == "uninvolved":
            choices[name] = [a for a in receiving_agencies(session, challenge.partnership_id)
                             if a.id not in (challenge.raising_agency_id, challenge.receiving_agency_id)]
    return choices


def _check_agency_choices(session: Session, challenge: Challenge, schema: dict[str, Any],
                          answers: dict[str, Any]) -> None:
    errors = {}
    for name, allowed in agency_choices(session, challenge, schema).items():
        if name in answers and (not is_id(answers[name]) or answers[name] not in {a.id for a in allowed}):
            errors[name] = "Choose an agency of the partnership that is not involved in the disagreement."
    if errors:
        raise Invalid(errors)
