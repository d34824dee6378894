"""Firing due timers. Due cases are found through the indexed `next_timer_due` column, so the cost grows with
the number due, not the number waiting. A batch is taken with row locks (FOR UPDATE SKIP LOCKED on
PostgreSQL), so any number of workers can run: each case is moved by exactly one of them. The batch commits
once: a worker killed mid-batch leaves nothing half-done, and the next worker takes the whole batch again. A
case that fails is set aside (noted, retried later) without holding back the others."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, undefer

from .. import events
from ..clock import Clock
from ..errors import StepFailed
from ..models import Challenge
from ..procedures.versions import version_of
from ..unit_of_work import unit_of_work
from . import step
from .writer import Writer, set_aside

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = timedelta(minutes=5)


@dataclass
class BatchResult:
    moved: int = 0
    failed: int = 0
    # (due, fired at) for each case moved: what the benchmark measures lateness with.
    lateness: list[tuple[datetime, datetime]] | None = None


def _due(clock: Clock, limit: int, locking: bool):
    query = (
        select(Challenge)
        # Every due case is moved, so its state comes with it; the handful of partnerships once per batch.
        .options(undefer(Challenge.state), selectinload(Challenge.partnership))
        .where(Challenge.next_timer_due.is_not(None), Challenge.next_timer_due <= clock.now())
        .order_by(Challenge.next_timer_due)
        .limit(limit)
    )
    if locking:
        query = query.with_for_update(skip_locked=True)
    return query


def fire_batch(session: Session, clock: Clock, limit: int = 100, measure: bool = False) -> BatchResult:
    """Move up to `limit` due cases, oldest due first, in one transaction. The cases move without a savepoint
    each (two statements a case); if one fails, the whole batch is rolled back and taken again with a savepoint
    per case, so the failing case is set aside and every other one still moves."""
    try:
        return _fire(session, clock, limit, measure, careful=False)
    except StepFailed:
        return _fire(session, clock, limit, measure, careful=True)


def _fire(session: Session, clock: Clock, limit: int, measure: bool, careful: bool) -> BatchResult:
    locking = session.get_bind().dialect.name == "postgresql"
    result = BatchResult(lateness=[] if measure else None)
    with unit_of_work(session) as work:
        challenges = list(session.scalars(_due(clock, limit, locking)))
        for challenge in challenges:
            due = challenge.next_timer_due
            savepoint = session.begin_nested() if careful else None
            try:
                version = version_of(session, challenge)
                result_of_step = step.take(clock, challenge, version, "advance")
                writer = Writer(session, clock, challenge, version)
                writer.moments(result_of_step.moments)
                writer.finish(result_of_step)
            except StepFailed as exc:
                if savepoint is None:
                    raise
                savepoint.rollback()
                session.expire(challenge)  # what the failed step set on it is read again from the database
                # Not kept; noted, and tried again later rather than every second.
                log.error("timer step failed for challenge %s: %s", challenge.id, exc)
                challenge.next_timer_due = clock.now() + RETRY_AFTER_FAILURE
                set_aside(session, clock, challenge, str(exc), events.TimerFailed)
                result.failed += 1
                continue
            if savepoint is not None:
                savepoint.commit()
            result.moved += 1
            if measure:
                result.lateness.append((due, clock.now()))
        work.commit()
    return result


def fire_due_timers(session: Session, clock: Clock, limit: int = 500) -> int:
    """Fire everything due as of the clock's now, up to `limit` cases. Returns how many moved."""
    moved = 0
    while moved < limit:
        batch = fire_batch(session, clock, min(100, limit - moved))
        moved += batch.moved
        if batch.moved + batch.failed == 0:
            break
    return moved


def next_due(session: Session) -> datetime | None:
    return session.scalar(
        select(Challenge.next_timer_due).where(Challenge.next_timer_due.is_not(None))
        .order_by(Challenge.next_timer_due).limit(1)
    )
