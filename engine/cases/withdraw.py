"""Withdrawing a challenge: its referrer, and only its referrer, stops it with a reason. In one unit of work the
challenge is closed with the outcome "withdrawn", its open tasks are closed as withdrawn (not completed), its
deadlines and reminders are stopped (the case row keeps no next timer, so the timer worker never takes it again),
the withdrawal is recorded with its reason and with what the case was waiting on, the reports' facts see the
outcome, and everyone taking part is told.

Only the referrer: the disagreement is theirs to drop. A manager who thinks it should stop says so in a note;
a challenge whose referrer has left keeps running, its tasks reassigned as any other's. The procedure takes no
step: what it had reached stays in the stored workflow as it was, and the withdrawal event says what that was
(`engine.audit.reexecute` checks a re-execution of the history ends there)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events
from ..clock import Clock
from ..errors import Conflict, Forbidden, Invalid
from ..models import Challenge, Task, User
from ..procedures.versions import version_of
from ..queries.cases import get_challenge
from ..reports import facts
from ..unit_of_work import unit_of_work
from . import store
from .writer import calendar_for, stage_word

REASON_LIMIT = 2000
WITHDRAWN = "withdrawn"


def may_withdraw(challenge: Challenge, user: User) -> bool:
    """Whether the user may withdraw the challenge: its referrer, while it is open."""
    return challenge.status == "open" and challenge.referrer_id == user.id


def withdraw_challenge(session: Session, clock: Clock, user: User, challenge_id: int, reason: object) -> Challenge:
    """The referrer withdraws their open challenge, saying why. Refused, with nothing changed, for anyone else,
    for a closed challenge, and without a reason."""
    challenge = get_challenge(session, user, challenge_id)  # "not found" for whoever may not see it
    if challenge.referrer_id != user.id:
        raise Forbidden(f"Only whoever raised a challenge can withdraw it: {challenge.reference} is "
                        f"{challenge.referrer.display_name}'s.")
    if challenge.status != "open":
        if challenge.outcome == WITHDRAWN:
            raise Conflict(f"{challenge.reference} was withdrawn already; nothing was changed.")
        raise Conflict(f"{challenge.reference} is closed already, so it cannot be withdrawn; nothing was changed.")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise Invalid({"reason": "Say why you are withdrawing it: everyone taking part is told."},
                      "The challenge was not withdrawn.")
    if len(reason) > REASON_LIMIT:
        raise Invalid({"reason": f"Keep the reason to {REASON_LIMIT} characters."}, "The challenge was not withdrawn.")
    version = version_of(session, challenge)
    with unit_of_work(session) as work:
        now = clock.now()
        waiting = list(session.scalars(select(Task).where(Task.challenge_id == challenge.id, Task.status == "open")
                                       .order_by(Task.id)))
        stage, stopped = challenge.current_stage, challenge.next_timer_due
        closed = store.close_tasks(session, challenge.id, [t.task_uuid for t in waiting], WITHDRAWN, now)
        for task in waiting:
            store.drop_draft(session, task.id)
        history: list[events.Event] = [events.ChallengeWithdrawn(now, {
            "reason": reason, "by": user.display_name, "stage": stage,
            "open_tasks": sorted(t.bpmn_id for t in waiting),
            "next_timer_due": stopped.isoformat() if stopped else None}, actor_id=user.id)]
        history += [events.TaskClosedByWithdrawal(now, {"title": row.title, "stage": row.stage}, task_id=row.id,
                                                  element_id=row.bpmn_id) for row in closed]
        history.append(events.ChallengeClosed(now, {"outcome": WITHDRAWN, "stage": stage}, actor_id=user.id))
        facts.fold(session, challenge, version, calendar_for(challenge), history)
        events.write(session, clock, challenge.id, history)
        # Whoever took part: the referrer (their confirmation), everyone who claimed or completed a task, and
        # whoever the tasks just closed waited on.
        word = stage_word(version)
        store.queue(session, now, challenge.id,
                    store.recipients(challenge, {}, None, ["involved"], [t.task_uuid for t in waiting]),
                    f"{challenge.reference}: withdrawn by {user.display_name}",
                    f"{user.display_name} withdrew the professional challenge about case "
                    f"{challenge.subject_reference} at {word} {stage}. Its open tasks are closed and its deadlines "
                    f"stopped: nothing more is asked of anyone. Reason: {reason}", now)
        store.save_case(session, challenge, status="closed", outcome=WITHDRAWN, closed_at=now, next_timer_due=None)
        work.commit()
    return challenge
