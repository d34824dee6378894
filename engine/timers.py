"""Firing due timers: find challenges whose next timer is due through the indexed column, move each on in
its own transaction. On PostgreSQL rows are locked with SKIP LOCKED, so any number of workers can run."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .clock import Clock
from .errors import StepFailed
from .models import Challenge
from .runtime import advance, open_case, record

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = timedelta(minutes=5)


def due_challenge_ids(session: Session, clock: Clock, limit: int) -> list[int]:
    query = (
        select(Challenge.id)
        .where(Challenge.next_timer_due.is_not(None), Challenge.next_timer_due <= clock.now())
        .order_by(Challenge.next_timer_due)
        .limit(limit)
    )
    return list(session.scalars(query))


def fire_one(session: Session, clock: Clock, challenge_id: int) -> bool:
    """Fire what is due on one challenge. Returns False if another worker holds it or nothing is due."""
    query = select(Challenge).where(
        Challenge.id == challenge_id,
        Challenge.next_timer_due.is_not(None),
        Challenge.next_timer_due <= clock.now(),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    challenge = session.scalar(query)
    if challenge is None:
        session.rollback()
        return False
    try:
        case = open_case(challenge, clock)
        advance(session, clock, case)
        session.commit()
        return True
    except StepFailed as exc:
        session.rollback()
        # The step is not kept; note the failure and try again later rather than every second.
        log.error("timer step failed for challenge %s: %s", challenge_id, exc)
        session.execute(
            update(Challenge)
            .where(Challenge.id == challenge_id)
            .values(next_timer_due=clock.now() + RETRY_AFTER_FAILURE, version=Challenge.version + 1)
        )
        challenge = session.get(Challenge, challenge_id)
        record(session, clock, challenge, "timer_failed", error=str(exc))
        session.commit()
        return False
    except BaseException:
        session.rollback()
        raise


def fire_due_timers(session: Session, clock: Clock, limit: int = 500) -> int:
    """Fire everything due as of the clock's now, up to `limit` challenges. Returns how many moved."""
    moved = 0
    ids = due_challenge_ids(session, clock, limit)
    session.rollback()
    for challenge_id in ids:
        if fire_one(session, clock, challenge_id):
            moved += 1
    return moved
