"""Reading a case: a challenge or task the user may see (else "not found"), its reading logged with who, when
and from where (`case_read`), and listings logged with the ids they showed (`cases_listed`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import access_log
from ..access_log import Caller
from ..clock import Clock
from ..errors import NotFound
from ..models import Challenge, Task, User
from ..unit_of_work import unit_of_work
from .access import can_act_on, can_view, visible_challenges


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


def get_challenge(session: Session, user: User, challenge_id: int) -> Challenge:
    challenge = session.get(Challenge, challenge_id)
    if challenge is None or not can_view(session, user, challenge_id):
        raise NotFound("There is no such challenge.")
    return challenge


def read_challenge(session: Session, clock: Clock, caller: Caller, challenge_id: int, what: str) -> Challenge:
    """A challenge the caller may see, its reading logged (`what`: "page", "record:<key>", "api"...)."""
    with unit_of_work(session) as work:
        challenge = get_challenge(session, caller.user, challenge_id)
        access_log.log(session, clock, "case_read", caller, challenge_id=challenge.id, what=what)
        work.commit()
        return challenge


def read_task(session: Session, clock: Clock, caller: Caller, task_id: int, what: str) -> Task:
    """A task the caller may act on or see, its reading logged as a read of its challenge."""
    with unit_of_work(session) as work:
        task = task_for(session, caller.user, task_id)
        access_log.log(session, clock, "case_read", caller, challenge_id=task.challenge_id, what=what,
                       detail={"task": task.id})
        work.commit()
        return task


def list_challenges(session: Session, clock: Clock, caller: Caller, what: str) -> list[Challenge]:
    """The challenges the caller may see, newest first, the listing logged with the ids it showed."""
    with unit_of_work(session) as work:
        shown = visible_challenges(session, caller.user)
        access_log.log(session, clock, "cases_listed", caller, what=what, detail={"challenges": [c.id for c in shown]})
        work.commit()
        return shown
