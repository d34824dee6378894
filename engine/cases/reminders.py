"""Reminders of tasks a procedure wants done "as soon as possible" (procedure.json's `as_soon_as_possible`): while
such a task is open, every N working days its holder (whoever claimed it, else everyone holding its lane) and
their manager (engine.vocabulary.MANAGER_LADDER: in the task's agency, the holders of the next role up that
someone there holds) are told, until the task closes (completed, or closed by the procedure; a claim does not
stop them: the claimer is reminded then). A task row carries when its next reminder is due (`remind_at`, set
when it opens); the worker takes the due ones in batches (FOR UPDATE SKIP LOCKED on PostgreSQL) on the engine's
clock. The next reminder is counted from the moment this one is sent, so after downtime a task gets one
reminder, not one per interval missed. A case whose timers are still due is caught up first (its deadline may
close the task). Each reminder is a `reminder_sent` event and notices through the outbox, in one unit of work."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from .. import events
from ..bpmn.script_engine import local_time
from ..clock import Clock
from ..models import Challenge, Task
from ..procedures.versions import version_of
from ..unit_of_work import unit_of_work
from ..vocabulary import MANAGER_LADDER
from . import store
from .claims import holders
from .writer import partnership_calendar, reminder_interval


def _holders(session: Session, role: str, agency_id: int) -> list[int]:
    return [user.id for user in holders(session, role, agency_id)]


def manager_of(session: Session, role: str, agency_id: int) -> tuple[str | None, list[int]]:
    """Whom a holder of `role` in the agency answers to: the first role above it on the ladder that someone in
    the agency holds, and those people (none for a role off the ladder or at its top)."""
    if role not in MANAGER_LADDER:
        return None, []
    for senior in MANAGER_LADDER[MANAGER_LADDER.index(role) + 1:]:
        people = _holders(session, senior, agency_id)
        if people:
            return senior, people
    return None, []


def _due(clock: Clock, limit: int, locking: bool):
    now = clock.now()
    query = (
        select(Task)
        .join(Challenge, Challenge.id == Task.challenge_id)
        # A case with timers still due is caught up first: its deadline may close the task.
        .where(Task.status == "open", Task.remind_at.is_not(None), Task.remind_at <= now,
               or_(Challenge.next_timer_due.is_(None), Challenge.next_timer_due > now))
        .options(joinedload(Task.challenge).joinedload(Challenge.partnership), joinedload(Task.claimed_by))
        .order_by(Task.remind_at, Task.id)
        .limit(limit)
    )
    if locking:
        query = query.with_for_update(of=Task, skip_locked=True)
    return query


def send_due_reminders(session: Session, clock: Clock, limit: int = 100) -> int:
    """Remind the holders and managers of every open task whose reminder is due, up to `limit` tasks, in one
    transaction; each task's next reminder is N working days from now. Returns how many tasks were reminded."""
    locking = session.get_bind().dialect.name == "postgresql"
    sent = 0
    with unit_of_work(session) as work:
        now = clock.now()
        for task in session.scalars(_due(clock, limit, locking)).unique().all():
            challenge = task.challenge
            every = reminder_interval(version_of(session, challenge), task.bpmn_id) or 1
            calendar = partnership_calendar(challenge.partnership)
            task.remind_at = calendar.add_working_days(now, every)
            holders = [task.claimed_by_id] if task.claimed_by_id else _holders(session, task.role, task.agency_id)
            manager_role, managers = manager_of(session, task.role, task.agency_id)
            managers = [m for m in managers if m not in holders]
            held_by = task.claimed_by.display_name if task.claimed_by else "nobody yet (it is not claimed)"
            subject = f"{challenge.reference}: reminder, as soon as possible - {task.title}"
            waiting = f"{task.title} (case {challenge.subject_reference}) is still open"
            since = f"; it opened on {local_time(calendar, task.opened_at)}"
            for person in holders:
                store.queue(session, now, challenge.id, store.user(person), subject,
                            f"{waiting}{since}. The procedure says it is to be done as soon as possible.")
            for person in managers:
                store.queue(session, now, challenge.id, store.user(person), subject,
                            f"{waiting}{since}, held by {held_by}. The procedure says it is to be done as soon as "
                            "possible; you are told as their manager.")
            events.write(session, clock, challenge.id, [events.ReminderSent(
                now, {"title": task.title, "stage": task.stage, "holders": len(holders), "managers": len(managers),
                      "manager_role": manager_role, "next": task.remind_at.isoformat()},
                task_id=task.id, element_id=task.bpmn_id)])
            sent += 1
        work.commit()
    return sent
