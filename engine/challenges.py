"""The services that change a challenge: raise it, claim a task, complete a task. Each validates first, then
moves the case and writes state, task rows, events and outbox in one transaction, committed once; any
refusal or failure rolls everything back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, exists, or_, select, update
from sqlalchemy.orm import Session, joinedload, undefer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import access_log, forms
from .access import can_act_on, can_view, visible_challenges
from .access_log import Caller
from .calendar import WorkingCalendar
from .clock import Clock
from .errors import Conflict, Forbidden, Invalid, NotFound, StepFailed
from .models import Agency, Challenge, Membership, Partnership, Task, User
from .procedures import current_version, raise_form, version_of
from .runtime import advance, calendar_for, catch_up, open_case, record, set_aside, start_case

RAISED_AT_AHEAD = timedelta(days=366)
RAISED_AT_BEHIND = timedelta(days=366)

MASH_ADVICE = (
    "If a child or adult is at significant risk of harm now, contact the Multi-Agency Safeguarding Hub (MASH) "
    "or the police first. Raising a professional challenge does not replace a safeguarding referral."
)

T = TypeVar("T")

LARGEST_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL


def is_id(value: object) -> bool:
    """Whether `value` can be one of our ids (a larger number would overflow the database's integer)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= LARGEST_ID


def _transaction(session: Session, work: Callable[[], T]) -> T:
    """Run `work` and commit; on any failure roll back so nothing half-done is kept."""
    try:
        result = work()
        session.commit()
        return result
    except StaleDataError:
        session.rollback()
        raise Conflict("Someone else changed this challenge at the same moment; reload and try again.") from None
    except BaseException:
        session.rollback()
        raise


def _setting_aside(session: Session, clock: Clock, challenge_id: int, actor: User, work: Callable[[], T],
                   **data: Any) -> T:
    """`_transaction`, and when the procedure itself fails the case is set aside (in a transaction of its own,
    after the step's was rolled back) with the reason, for the business unit and the process owner to see."""
    try:
        return _transaction(session, work)
    except StepFailed as exc:
        challenge = session.get(Challenge, challenge_id)
        set_aside(session, clock, challenge, str(exc), "step_failed", actor=actor, **data)
        session.commit()
        raise


def raising_agencies(session: Session, user: User, partnership_id: int | None = None) -> list[Agency]:
    """The agencies a user can raise a challenge from: where they hold any role, outside partnership bodies."""
    query = (
        select(Agency)
        .join(Membership, Membership.agency_id == Agency.id)
        .where(Membership.user_id == user.id, Agency.is_partnership_body.is_(False))
        .distinct()
        .order_by(Agency.name)
    )
    if partnership_id is not None:
        query = query.where(Agency.partnership_id == partnership_id)
    return list(session.scalars(query))


def receiving_agencies(session: Session, partnership_id: int, excluding: int | None = None) -> list[Agency]:
    query = select(Agency).where(Agency.partnership_id == partnership_id, Agency.is_partnership_body.is_(False))
    if excluding is not None:
        query = query.where(Agency.id != excluding)
    return list(session.scalars(query.order_by(Agency.name)))


def raise_challenge(session: Session, clock: Clock, user: User, answers: dict[str, Any],
                    raised_at: datetime | None = None) -> Challenge:
    """Raise a challenge from the user's agency against another agency of the same partnership."""
    now = clock.now()
    answers = dict(answers)
    errors: dict[str, str] = {}
    mine = raising_agencies(session, user)
    if not mine:
        raise Forbidden("You hold no role in an agency, so you cannot raise a challenge.")
    if answers.get("raising_agency_id") is None and len(mine) == 1:
        answers["raising_agency_id"] = mine[0].id
    try:
        # Every UK partnership shares London's date, so "not in the future" needs no partnership yet.
        forms.validate(raise_form(), answers, today=WorkingCalendar().local_day(now))
    except Invalid as exc:
        errors.update(exc.errors)
    raising = next((a for a in mine if a.id == answers.get("raising_agency_id")), None) \
        if is_id(answers.get("raising_agency_id")) else None  # 1.0 == 1, but 1.0 is not an id
    if raising is None and "raising_agency_id" not in errors:
        errors["raising_agency_id"] = "Choose one of your own agencies."
    receiving = session.get(Agency, answers["receiving_agency_id"]) if is_id(answers.get("receiving_agency_id")) \
        else None
    if "receiving_agency_id" not in errors:
        if receiving is None or receiving.is_partnership_body or (
                raising is not None and receiving.partnership_id != raising.partnership_id):
            errors["receiving_agency_id"] = "Choose an agency of your partnership."
        elif raising is not None and receiving.id == raising.id:
            errors["receiving_agency_id"] = "A professional challenge is made to another agency, not your own."
    if raised_at is not None:
        if raised_at.tzinfo is None:
            errors["raised_at"] = "Give a time zone, for example 2026-12-18T15:00:00Z."
        elif raised_at > now + RAISED_AT_AHEAD:
            # Integrations (and acceptance checks) record challenges raised at a given moment, which may be
            # ahead of this server's clock; deadlines count from it all the same. A year is the sane bound.
            errors["raised_at"] = "raised_at can be at most a year ahead of now."
        elif raised_at < now - RAISED_AT_BEHIND:
            errors["raised_at"] = "raised_at can be at most a year in the past."
    moment = raised_at if raised_at is not None and "raised_at" not in errors else now
    if errors:
        raise Invalid(errors)

    partnership: Partnership = raising.partnership
    version = current_version(session, partnership.id)
    if version is None:
        raise NotFound("Your partnership has no published procedure yet.")

    def work() -> Challenge:
        challenge = Challenge(
            reference=f"pending-{uuid.uuid4()}",
            partnership_id=partnership.id,
            procedure_version_id=version.id,
            referrer_id=user.id,
            raising_agency_id=raising.id,
            receiving_agency_id=receiving.id,
            subject_reference=answers["subject_reference"].strip(),
            area=answers["area"],
            summary=answers["summary"],
            status="open",
            current_stage=0,
            raised_at=moment,
            state=b"",
        )
        session.add(challenge)
        session.flush()
        challenge.reference = f"{partnership.slug[:3].upper()}-{moment:%Y}-{challenge.id:05d}"
        data = {
            "reference": challenge.reference,
            "raised_at": moment.isoformat(),
            "raising_agency": raising.name,
            "raising_agency_id": raising.id,
            "raising_agency_kind": raising.kind,
            "receiving_agency": receiving.name,
            "receiving_agency_id": receiving.id,
            "receiving_agency_kind": receiving.kind,
            "subject_kind": answers.get("subject_kind", "child"),
            "subject_reference": challenge.subject_reference,
            "area": challenge.area,
            "summary": challenge.summary,
            "cp_or_lac": answers["cp_or_lac"],
            "significant_risk": answers["significant_risk"],
            "concern_first_raised": answers.get("concern_first_raised"),
        }
        details = dict(answers)
        details.update(reference=challenge.reference, raised_at=moment.isoformat(),
                       raising_agency=raising.name, receiving_agency=receiving.name)
        if answers["significant_risk"]:
            details["mash_advice_shown"] = MASH_ADVICE
        case = start_case(challenge, version, clock, data)
        case.note(clock, "challenge_raised", actor=user, **details)
        advance(session, clock, case, actor=user)
        return challenge

    return _transaction(session, work)


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("There is no such task.")
    return task


def task_for(session: Session, user: User, task_id: int) -> Task:
    """A task the user may act on, or one of a challenge they can see (to read, not to act)."""
    task = get_task(session, task_id)
    if can_act_on(session, user, task) or can_view(session, user, task.challenge_id):
        return task
    raise NotFound("There is no such task.")


def _check_can_act(session: Session, user: User, task: Task) -> None:
    if not can_act_on(session, user, task):
        if can_view(session, user, task.challenge_id):
            raise Forbidden("This task belongs to another role or agency.")
        raise NotFound("There is no such task.")


def _check_open(task: Task, user: User) -> None:
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
    _check_can_act(session, user, task)
    _check_open(task, user)
    if task.claimed_by_id == user.id:
        return task

    def work() -> Task:
        now = clock.now()
        # A conditional update: of two people claiming at once exactly one matches the row.
        result = session.execute(
            update(Task)
            .where(Task.id == task.id, Task.status == "open", Task.claimed_by_id.is_(None))
            .values(claimed_by_id=user.id, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict("Someone else claimed or completed this task a moment ago.")
        session.refresh(task)
        record(session, clock, task.challenge, "task_claimed", actor=user, task=task, title=task.title)
        return task

    return _transaction(session, work)


# The task with its challenge, the challenge's state and partnership, and whether the user holds its lane:
# everything a completion reads before it writes, in one query built once.
_TASK_TO_COMPLETE = (
    select(Task, exists().where(Membership.user_id == bindparam("user_id"), Membership.role == Task.role,
                                Membership.agency_id == Task.agency_id))
    .where(Task.id == bindparam("task_id"))
    .options(joinedload(Task.challenge).options(undefer(Challenge.state), joinedload(Challenge.partnership)))
)
_tasks = Task.__table__
# Claim and complete in one conditional update, so a concurrent claim or completion cannot slip between.
_COMPLETE = (
    update(_tasks)
    .where(_tasks.c.id == bindparam("task_id"), _tasks.c.status == "open",
           or_(_tasks.c.claimed_by_id.is_(None), _tasks.c.claimed_by_id == bindparam("user_id")))
    .values(status="completed", claimed_by_id=bindparam("user_id"), claimed_at=bindparam("claimed"),
            completed_by_id=bindparam("user_id"), completed_at=bindparam("now"), closed_at=bindparam("now"),
            data=bindparam("answers", type_=_tasks.c.data.type))
)


def _task_to_complete(session: Session, user: User, task_id: int) -> Task:
    found = session.execute(_TASK_TO_COMPLETE, {"user_id": user.id, "task_id": task_id}).first()
    if found is None:
        raise NotFound("There is no such task.")
    task, may_act = found
    if not may_act:
        _check_can_act(session, user, task)  # says why: another role's task, or no such task for this user
    return task


def complete_task(session: Session, clock: Clock, user: User, task_id: int, answers: dict[str, Any]) -> Task:
    """Complete a task with the answers to its form and move the challenge on."""
    task = _task_to_complete(session, user, task_id)
    _check_open(task, user)
    challenge = task.challenge
    schema = version_of(session, challenge).forms[task.form]
    calendar = calendar_for(challenge)
    answers = forms.validate(schema, answers, today=calendar.local_day(clock.now()))
    _check_agency_choices(session, challenge, schema, answers)

    def work() -> Task:
        now = clock.now()
        completed = dict(status="completed", claimed_by_id=user.id, claimed_at=task.claimed_at or now,
                         completed_by_id=user.id, completed_at=now, closed_at=now, data=answers)
        result = session.connection().execute(_COMPLETE, {"task_id": task.id, "user_id": user.id, "now": now,
                                                          "claimed": completed["claimed_at"], "answers": answers})
        if result.rowcount != 1:
            raise Conflict("Someone else completed or claimed this task a moment ago.")
        for column, value in completed.items():
            set_committed_value(task, column, value)
        case = open_case(challenge, clock)
        catch_up(session, clock, case)
        spiff_task = case.workflow.get_task_from_id(uuid.UUID(task.task_uuid))
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict("This task is no longer open: the challenge has moved on.")
        spiff_task.data.update(answers)
        spiff_task.run()
        case.closed.add(task.task_uuid)
        case.note(clock, "task_completed", actor=user, task=task, title=task.title, stage=task.stage,
                  answers=answers)
        advance(session, clock, case, actor=user)
        return task

    return _setting_aside(session, clock, challenge.id, user, work, task_id=task.id, title=task.title)


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


def get_challenge(session: Session, user: User, challenge_id: int) -> Challenge:
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or not can_view(session, user, challenge_id):
        raise NotFound("There is no such challenge.")
    return challenge


def read_challenge(session: Session, clock: Clock, caller: Caller, challenge_id: int, what: str) -> Challenge:
    """A challenge the caller may see, its reading logged (`what`: "page", "record:<key>", "api"...)."""
    challenge = get_challenge(session, caller.user, challenge_id)
    access_log.log(session, clock, "case_read", caller, challenge_id=challenge.id, what=what)
    session.commit()
    return challenge


def read_task(session: Session, clock: Clock, caller: Caller, task_id: int, what: str) -> Task:
    """A task the caller may act on or see, its reading logged as a read of its challenge."""
    task = task_for(session, caller.user, task_id)
    access_log.log(session, clock, "case_read", caller, challenge_id=task.challenge_id, what=what,
                   detail={"task": task.id})
    session.commit()
    return task


def list_challenges(session: Session, clock: Clock, caller: Caller, what: str) -> list[Challenge]:
    """The challenges the caller may see, newest first, the listing logged with the ids it showed."""
    shown = visible_challenges(session, caller.user)
    access_log.log(session, clock, "cases_listed", caller, what=what, detail={"challenges": [c.id for c in shown]})
    session.commit()
    return shown
