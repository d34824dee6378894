"""Every statement of a step, built once (each use then costs only its execution), run on the session's
connection inside its transaction without flushing the session first: loading a task to complete, claiming and
completing it, opening and closing task rows, saving the case row on its version, queueing the outbox and
writing the events. Where a statement changes a row the session holds, the session is told the new values
(`set_committed_value`), so commit has nothing left to flush."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Select,
    String,
    bindparam,
    delete,
    exists,
    false,
    insert,
    literal,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import Session, joinedload, undefer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from ..models import Challenge, Event, Membership, Notification, Task, TaskDraft, User, UTCDateTime

_tasks, _challenges = Task.__table__, Challenge.__table__

# --- a task to claim or complete ------------------------------------------------------------------------------

# The task with its challenge, the challenge's state and partnership, and whether the user holds its lane:
# everything a completion reads before it writes, in one query.
TASK_TO_COMPLETE = (
    select(Task, exists().where(Membership.user_id == bindparam("user_id"), Membership.role == Task.role,
                                Membership.agency_id == Task.agency_id))
    .where(Task.id == bindparam("task_id"))
    .options(joinedload(Task.challenge).options(undefer(Challenge.state), joinedload(Challenge.partnership)),
             joinedload(Task.agency))
)
# Claim and complete in one conditional update, so a concurrent claim or completion cannot slip between.
_COMPLETE = (
    update(_tasks)
    .where(_tasks.c.id == bindparam("task_id"), _tasks.c.status == "open",
           or_(_tasks.c.claimed_by_id.is_(None), _tasks.c.claimed_by_id == bindparam("user_id")))
    .values(status="completed", claimed_by_id=bindparam("user_id"), claimed_at=bindparam("claimed"),
            completed_by_id=bindparam("user_id"), completed_at=bindparam("now"), closed_at=bindparam("now"),
            data=bindparam("answers", type_=_tasks.c.data.type))
)
# Of two people claiming at once exactly one matches the row.
_CLAIM = (
    update(_tasks)
    .where(_tasks.c.id == bindparam("task_id"), _tasks.c.status == "open", _tasks.c.claimed_by_id.is_(None))
    .values(claimed_by_id=bindparam("user_id"), claimed_at=bindparam("now"))
)


def complete_task_row(session: Session, task: Task, user_id: int, now: datetime, answers: dict[str, Any]) -> bool:
    """Mark the task completed by the user with the answers, if it is still open and not claimed by someone
    else. Returns whether it was."""
    claimed = task.claimed_at or now
    result = session.connection().execute(_COMPLETE, {"task_id": task.id, "user_id": user_id, "now": now,
                                                      "claimed": claimed, "answers": answers})
    if result.rowcount != 1:
        return False
    for column, value in dict(status="completed", claimed_by_id=user_id, claimed_at=claimed, completed_by_id=user_id,
                              completed_at=now, closed_at=now, data=answers).items():
        set_committed_value(task, column, value)
    return True


_DROP_DRAFT = delete(TaskDraft.__table__).where(TaskDraft.__table__.c.task_id == bindparam("task_id"))


def drop_draft(session: Session, task_id: int) -> None:
    """A completed task's draft answers, no longer needed."""
    session.connection().execute(_DROP_DRAFT, {"task_id": task_id})


def claim_task_row(session: Session, task: Task, user_id: int, now: datetime) -> bool:
    result = session.connection().execute(_CLAIM, {"task_id": task.id, "user_id": user_id, "now": now})
    if result.rowcount != 1:
        return False
    set_committed_value(task, "claimed_by_id", user_id)
    set_committed_value(task, "claimed_at", now)
    return True


# --- task rows opened and closed by a step ------------------------------------------------------------------------

_OPEN_TASKS = insert(_tasks).returning(_tasks.c.id, sort_by_parameter_order=True)
_CLOSE_TASKS = (
    update(_tasks)
    .where(_tasks.c.challenge_id == bindparam("case_id"), _tasks.c.status == "open",
           _tasks.c.task_uuid.in_(bindparam("uuids", expanding=True)))
    .values(status=bindparam("new_status"), closed_at=bindparam("now"))
    .returning(_tasks.c.id, _tasks.c.task_uuid, _tasks.c.title, _tasks.c.stage, _tasks.c.bpmn_id)
)


def open_tasks(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert task rows (all their columns); returns their ids, in order."""
    return list(session.connection().execute(_OPEN_TASKS, rows).scalars().all()) if rows else []


_OPEN_TASK_UUIDS = select(Task.task_uuid).where(Task.challenge_id == bindparam("case_id"), Task.status == "open")


def open_task_uuids(session: Session, case_id: int) -> list[str]:
    """The uuids of a case's open tasks: whom a notice to "current" waits on."""
    return list(session.connection().execute(_OPEN_TASK_UUIDS, {"case_id": case_id}).scalars())


def close_tasks(session: Session, case_id: int, uuids: list[str], status: str, now: datetime) -> list:
    """Close open task rows as lapsed or withdrawn; returns (id, task_uuid, title, stage, bpmn_id) of each."""
    if not uuids:
        return []
    rows = session.connection().execute(_CLOSE_TASKS, {"case_id": case_id, "uuids": uuids, "new_status": status,
                                                       "now": now}).all()
    for row in rows:
        loaded = session.identity_map.get(identity_key(Task, row.id))
        if loaded is not None:  # a row this session already holds says what the database now says
            set_committed_value(loaded, "status", status)
            set_committed_value(loaded, "closed_at", now)
    return rows


# --- the case row ---------------------------------------------------------------------------------------------

SAVED_COLUMNS = ("state", "next_timer_due", "current_stage", "status", "outcome", "closed_at", "set_aside_reason",
                 "set_aside_at")
# Conditional on the version read: of two steps on one case at once, the second matches no row.
_SAVE_CASE = (
    update(_challenges)
    .where(_challenges.c.id == bindparam("case_id"), _challenges.c.version == bindparam("read_version"))
    .values(version=bindparam("new_version"), **{c: bindparam(f"new_{c}") for c in SAVED_COLUMNS})
)


def save_case(session: Session, challenge: Challenge, **changes: Any) -> None:
    """Write the case's row in one conditional UPDATE on the version read (`StaleDataError` if another step
    changed it since); other changes to the row (a new challenge's reference) follow at commit."""
    for column, value in changes.items():
        set_committed_value(challenge, column, value)
    read, values = challenge.version, {c: getattr(challenge, c) for c in SAVED_COLUMNS}
    result = session.connection().execute(_SAVE_CASE, {"case_id": challenge.id, "read_version": read,
                                                       "new_version": read + 1,
                                                       **{f"new_{c}": v for c, v in values.items()}})
    if result.rowcount != 1:
        raise StaleDataError(f"challenge {challenge.id} changed since it was read")
    set_committed_value(challenge, "version", read + 1)


# --- events -----------------------------------------------------------------------------------------------------

_WRITE_EVENTS = insert(Event.__table__)


def write_events(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(_WRITE_EVENTS, rows)


_TASK_IDS = select(Task.task_uuid, Task.id).where(Task.challenge_id == bindparam("case_id"),
                                                  Task.task_uuid.in_(bindparam("uuids", expanding=True)))


def task_ids(session: Session, case_id: int, uuids: list[str]) -> dict[str, int]:
    """The row ids of a case's tasks, by uuid."""
    if not uuids:
        return {}
    return dict(session.connection().execute(_TASK_IDS, {"case_id": case_id, "uuids": uuids}).all())


# --- the outbox -------------------------------------------------------------------------------------------------


def _outbox(who) -> Insert:
    """An INSERT ... SELECT writing one outbox row per distinct active user that `who` (a condition on users)
    picks: the recipients never travel to Python and back."""
    rows = (
        select(bindparam("challenge_id", type_=Integer), User.id, User.email, bindparam("subject", type_=String),
               bindparam("body", type_=String), bindparam("now", type_=UTCDateTime), literal("pending", String),
               literal(0, Integer), bindparam("now", type_=UTCDateTime))
        .where(User.active.is_(True), who)
        .order_by(User.id)
    )
    columns = ("challenge_id", "user_id", "email", "subject", "body", "created_at", "email_status", "attempts",
               "next_attempt_at")
    # An INSERT's row count is kept only on request (UPDATE and DELETE keep theirs anyway).
    return insert(Notification.__table__).from_select(columns, rows).execution_options(preserve_rowcount=True)


@dataclass(frozen=True)
class Recipients:
    """Who to tell: the outbox INSERT ... SELECT that picks them, and its parameters."""

    statement: Insert
    params: dict[str, Any]


def queue(session: Session, now: datetime, challenge_id: int | None, recipients: Recipients, subject: str,
          body: str, moment: datetime | None = None) -> int:
    """One outbox row per distinct active recipient, made `now`, in one statement; `moment` is when the case
    lived what it tells of ("involved" counts whoever a task closed at that moment waited on). Returns how
    many were queued."""
    params = {**recipients.params, "challenge_id": challenge_id, "subject": subject, "body": body, "now": now,
              "moment": moment or now}
    return session.connection().execute(recipients.statement, params).rowcount


_CLOSED_BY_THE_PROCEDURE = ("lapsed", "withdrawn", "cancelled")


def _involved() -> list[Select]:
    """The referrer, everyone who claimed or completed a task, whoever the open tasks wait on, and whoever a
    task that closed just now waited on (the claimer of a claimed task; everyone holding the lane of an
    unclaimed one)."""
    of_case = Task.challenge_id == bindparam("case_id")
    holding = (
        select(Membership.user_id)
        .join(Task, (Task.role == Membership.role) & (Task.agency_id == Membership.agency_id))
        .where(of_case, Task.claimed_by_id.is_(None),
               or_(Task.status == "open", Task.status.in_(_CLOSED_BY_THE_PROCEDURE)
                   & (Task.closed_at == bindparam("moment", type_=UTCDateTime))))
    )
    return [
        select(bindparam("referrer_id", type_=Integer)),
        select(Task.claimed_by_id).where(of_case, Task.claimed_by_id.is_not(None)),
        select(Task.completed_by_id).where(of_case, Task.completed_by_id.is_not(None)),
        holding,
    ]


def _waiting_on() -> list[Select]:
    """Who the given tasks wait on: the claimer of a claimed one, everyone holding the lane of an unclaimed one."""
    tasks = (Task.challenge_id == bindparam("case_id"), Task.task_uuid.in_(bindparam("uuids", expanding=True)))
    return [
        select(Task.claimed_by_id).where(*tasks, Task.claimed_by_id.is_not(None)),
        select(Membership.user_id)
        .join(Task, (Task.role == Membership.role) & (Task.agency_id == Membership.agency_id))
        .where(*tasks, Task.claimed_by_id.is_(None)),
    ]


@lru_cache(maxsize=256)
def _statement(shape: tuple[str, ...]) -> Insert:
    """The outbox statement for recipients of these kinds, in this order, built once per shape (a diagram's
    notify calls have a handful of shapes); the values are parameters, numbered by position."""
    parts: list[Select] = []
    for n, kind in enumerate(shape):
        if kind == "user":
            parts.append(select(bindparam(f"user_{n}", type_=Integer)))
        elif kind == "involved":
            parts.extend(_involved())
        elif kind == "current":
            parts.extend(_waiting_on())
        elif kind == "lane":
            parts.append(select(Membership.user_id).where(
                Membership.role == bindparam(f"role_{n}", type_=String),
                Membership.agency_id == bindparam(f"agency_{n}", type_=Integer)))
    if not parts:
        return _outbox(false())
    return _outbox(User.id.in_(parts[0] if len(parts) == 1 else union(*parts)))


def user(user_id: int) -> Recipients:
    return Recipients(_statement(("user",)), {"user_0": user_id})


def lane_holders(role: str, agency_id: int) -> Recipients:
    """Everyone holding `role` in `agency_id`: who an unclaimed task of that lane waits on."""
    return Recipients(_statement(("lane",)), {"role_0": role, "agency_0": agency_id})


def recipients(challenge: Challenge, lanes: dict, lane_agency, to: list[str], waiting: list[str]) -> Recipients:
    """A diagram's recipients as one outbox statement: "referrer", "involved", "current" (whoever the tasks
    open when the script ran wait on), or "lane:<name>" (everyone holding that lane's role on its side)."""
    shape: list[str] = []
    params: dict[str, Any] = {"case_id": challenge.id, "referrer_id": challenge.referrer_id, "uuids": waiting}
    for target in to:
        n = len(shape)
        if target == "referrer":
            shape.append("user")
            params[f"user_{n}"] = challenge.referrer_id
        elif target == "involved":
            shape.append("involved")
        elif target == "current":
            if waiting:
                shape.append("current")
        elif target.startswith("lane:"):
            lane = target.removeprefix("lane:")
            if lane not in lanes:
                raise ValueError(f"notify names lane {lane!r}, which the lane map does not have")
            shape.append("lane")
            params[f"role_{n}"], params[f"agency_{n}"] = lanes[lane]["role"], lane_agency(lanes[lane]["side"])
        else:
            raise ValueError(f"notify cannot send to {target!r}: use referrer, involved, current or lane:<name>")
    return Recipients(_statement(tuple(shape)), params)  # parameters a shape does not use are ignored
