"""Nothing stuck: a claim released by its holder, an open task reassigned by a manager to another holder of its
role (with a reason, told to both), and every claim of someone absent or leaving released at once (deactivation
itself is `administration.services.deactivate`). A claim lives only on the task row, so none of these takes a
step of the workflow: each is a conditional update of the row (of two changes at once exactly one wins), its event
and its notices, in one unit of work."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import events
from ..clock import Clock
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..models import Agency, Membership, Task, User
from ..queries.access import SUPERVISING_ROLES, can_view
from ..queries.cases import get_task
from ..unit_of_work import unit_of_work
from . import store
from .raising import is_id

REASON_LIMIT = 2000


def _claimed_from(session: Session, task: Task, holder_id: int | None, new_holder_id: int | None, now) -> bool:
    """Move the claim of an open task from `holder_id` to `new_holder_id` (None: unclaimed), if it is still where
    it was read. Returns whether it moved."""
    held = Task.claimed_by_id.is_(None) if holder_id is None else Task.claimed_by_id == holder_id
    result = session.execute(
        update(Task).where(Task.id == task.id, Task.status == "open", held)
        .values(claimed_by_id=new_holder_id, claimed_at=now if new_holder_id is not None else None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    session.expire(task, ["claimed_by_id", "claimed_at", "claimed_by"])
    return True


def _open_task(session: Session, user: User, task_id: int) -> Task:
    task = get_task(session, task_id)
    if not can_view(session, user, task.challenge_id) and not _holds(session, user.id, task.role, task.agency_id):
        raise NotFound("There is no such task.")
    if task.status != "open":
        raise Conflict("This task is no longer open: the challenge has moved on.")
    return task


def _holds(session: Session, user_id: int, role: str, agency_id: int) -> bool:
    return bool(session.scalar(select(Membership.id).where(Membership.user_id == user_id, Membership.role == role,
                                                           Membership.agency_id == agency_id).limit(1)))


def release_task(session: Session, clock: Clock, user: User, task_id: int) -> Task:
    """The holder of a claim gives it up: the task is back for everyone holding its lane, who are told."""
    task = _open_task(session, user, task_id)
    if task.claimed_by_id != user.id:
        raise Forbidden("Only whoever claimed a task can release it; a manager can reassign it.")
    with unit_of_work(session) as work:
        now = clock.now()
        if not _claimed_from(session, task, user.id, None, now):
            raise Conflict("This task changed a moment ago: it was completed or reassigned.")
        _released(session, clock, task, user, actor_id=user.id, reason=None)
        work.commit()
    return task


def _released(session: Session, clock: Clock, task: Task, holder: User, actor_id: int | None,
              reason: str | None) -> None:
    now = clock.now()
    data = {"title": task.title, "from": holder.display_name}
    if reason:
        data["reason"] = reason
    events.write(session, clock, task.challenge_id, [
        events.TaskReleased(now, data, actor_id=actor_id, task_id=task.id, element_id=task.bpmn_id)])
    reference = task.challenge.reference
    why = f" ({reason})" if reason else ""
    store.queue(session, now, task.challenge_id, store.lane_holders(task.role, task.agency_id),
                f"{reference}: task released - {task.title}",
                f"{holder.display_name} released {task.title} (case {task.challenge.subject_reference}){why}. "
                "Anyone holding the role can claim it now.")


def may_reassign(session: Session, user: User, task: Task) -> bool:
    """A manager of the task's agency may reassign it; for a lane of the partnership's own body, its business
    unit."""
    agency = session.get(Agency, task.agency_id)
    roles = ("business_unit",) if agency.is_partnership_body else SUPERVISING_ROLES
    return bool(session.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                           Membership.agency_id == task.agency_id,
                                                           Membership.role.in_(roles)).limit(1)))


def holders(session: Session, role: str, agency_id: int) -> list[User]:
    """The active people holding `role` in the agency, by name."""
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.role == role, Membership.agency_id == agency_id, User.active.is_(True))
        .order_by(User.display_name)))


def holders_of(session: Session, task: Task) -> list[User]:
    """The active people holding the task's role in its agency: whom it can be reassigned to."""
    return holders(session, task.role, task.agency_id)


def reassign_task(session: Session, clock: Clock, user: User, task_id: int, to_user_id: object,
                  reason: object) -> Task:
    """A manager gives an open task to another holder of its role, with a reason; the new holder and whoever held
    it are told."""
    task = _open_task(session, user, task_id)
    if not may_reassign(session, user, task):
        raise Forbidden("Only a manager of the task's agency (for the partnership's own lanes, its business unit) "
                        "can reassign it.")
    errors = {}
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = "Say why the task is reassigned: both people are told."
    elif len(reason) > REASON_LIMIT:
        errors["reason"] = f"Keep the reason to {REASON_LIMIT} characters."
    target = session.get(User, to_user_id) if is_id(to_user_id) else None
    if target is None or not target.active or not _holds(session, target.id, task.role, task.agency_id):
        errors["to_user_id"] = f"Choose someone who holds the task's role ({task.lane}) in {task.agency.name}."
    elif target.id == task.claimed_by_id:
        errors["to_user_id"] = f"{target.display_name} holds it already."
    if errors:
        raise Invalid(errors)
    previous = task.claimed_by
    with unit_of_work(session) as work:
        now = clock.now()
        if not _claimed_from(session, task, previous.id if previous else None, target.id, now):
            raise Conflict("This task changed a moment ago: it was claimed, completed or reassigned.")
        events.write(session, clock, task.challenge_id, [events.TaskReassigned(
            now, {"title": task.title, "from": previous.display_name if previous else None,
                  "to": target.display_name, "reason": reason},
            actor_id=user.id, task_id=task.id, element_id=task.bpmn_id)])
        reference, case = task.challenge.reference, task.challenge.subject_reference
        store.queue(session, now, task.challenge_id, store.user(target.id),
                    f"{reference}: task reassigned to you - {task.title}",
                    f"{user.display_name} gave you {task.title} (case {case}). Reason: {reason}")
        if previous is not None:
            store.queue(session, now, task.challenge_id, store.user(previous.id),
                        f"{reference}: task reassigned - {task.title}",
                        f"{user.display_name} gave {task.title} (case {case}), which you had claimed, to "
                        f"{target.display_name}. Reason: {reason}")
        work.commit()
    return task


def release_claims_of(session: Session, clock: Clock, holder: User, reason: str,
                      actor: User | None = None) -> int:
    """Release every open task `holder` claimed (an absence, a person leaving), each recorded with the reason
    and told to the lane's holders. Returns how many."""
    with unit_of_work(session) as work:
        released = release_within(session, clock, holder, reason, actor)
        work.commit()
    return len(released)


def release_within(session: Session, clock: Clock, holder: User, reason: str, actor: User | None) -> list[Task]:
    """`release_claims_of` inside a unit of work the caller commits (deactivation, with its own record)."""
    claimed = list(session.scalars(select(Task).where(Task.claimed_by_id == holder.id, Task.status == "open")
                                   .order_by(Task.id)))
    released = []
    for task in claimed:
        if _claimed_from(session, task, holder.id, None, clock.now()):
            _released(session, clock, task, holder, actor_id=actor.id if actor else None, reason=reason)
            released.append(task)
    return released
