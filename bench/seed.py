"""Building large realistic databases fast: raise one real challenge per shape through the engine, then copy its
rows (challenge, open tasks, first events) in bulk. Every copy is a real case the engine can load and move on."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.calendar import WorkingCalendar
from engine.cases.raising import raise_challenge
from engine.clock import MovableClock
from engine.models import Agency, Challenge, Event, Task, User

ANSWERS = {
    "challenged_role": "Team manager",
    "subject_reference": "BENCH-0",
    "area": "thresholds",
    "summary": "Referral closed without assessment despite repeated concerns from school.",
    "cp_or_lac": "neither",
    "significant_risk": False,
}


def template(session: Session, raised_at: datetime, raiser: str = "csc-practitioner",
             receiving: str = "Durham Constabulary") -> Challenge:
    """A real challenge raised at `raised_at` (its timers armed from that moment)."""
    user = session.scalar(select(User).where(User.username == raiser))
    agency = session.scalar(select(Agency).where(Agency.name == receiving))
    clock = MovableClock(raised_at)
    return raise_challenge(session, clock, user, {**ANSWERS, "receiving_agency_id": agency.id}, raised_at=raised_at)


def raised_for_one_missed_deadline(now: datetime) -> datetime:
    """A moment to raise at so that, by the real clock the worker processes use, the stage 1 deadline has
    passed and the stage 2 deadline it leads to has not (whatever day of the week the suite runs on)."""
    calendar = WorkingCalendar()
    for days_back in range(1, 10):
        raised = now - timedelta(days=days_back)
        stage_1_due = calendar.add_working_days(raised, 1)
        if stage_1_due < now - timedelta(minutes=1) and calendar.add_working_days(stage_1_due, 3) > now:
            return raised
    raise AssertionError("no such moment in the last ten days")


_serial = itertools.count(1)


def clone(session: Session, source: Challenge, count: int, batch: int = 2000,
          next_due_spread: timedelta | None = None) -> list[int]:
    """Copy `source` `count` times. With `next_due_spread`, copy k's next timer is moved k/count of the spread
    later (its stored timer values are not: the column only says when to look, which the benchmark uses to
    stagger when cases come due). Returns the new challenge ids."""
    tasks = session.scalars(select(Task).where(Task.challenge_id == source.id, Task.status == "open")).all()
    columns = [c.key for c in Challenge.__table__.columns if c.key != "id"]
    task_columns = [c.key for c in Task.__table__.columns if c.key not in ("id", "challenge_id")]
    base = {c: getattr(source, c) for c in columns}
    task_rows = [{c: getattr(t, c) for c in task_columns} for t in tasks]
    ids: list[int] = []
    done = 0
    while done < count:
        n = min(batch, count - done)
        rows = []
        for k in range(done, done + n):
            row = dict(base)
            serial = next(_serial)
            row["reference"] = f"{source.reference}-C{serial:07d}"
            row["subject_reference"] = f"BENCH-{serial}"
            if next_due_spread is not None and source.next_timer_due is not None:
                row["next_timer_due"] = source.next_timer_due + next_due_spread * (k / max(1, count))
            rows.append(row)
        new_ids = list(session.scalars(insert(Challenge).returning(Challenge.id), rows))
        session.execute(insert(Task), [{**tr, "challenge_id": cid} for cid in new_ids for tr in task_rows])
        session.execute(insert(Event), [
            {"challenge_id": cid, "at": source.raised_at, "recorded_at": source.raised_at,
             "actor_id": source.referrer_id, "kind": "challenge_raised", "task_id": None,
             "data": {"reference": source.reference, "copied": True}} for cid in new_ids
        ])
        session.commit()
        ids.extend(new_ids)
        done += n
    return ids


def loaded(challenge, now):
    """The challenge's workflow and script engine, loaded in this process (the floor and the ceiling run the
    engine here, with no step process)."""
    from engine.bpmn.context import StepContext
    from engine.bpmn.script_engine import StepScriptEngine
    from engine.bpmn.serializer import load_workflow
    from engine.cases.writer import calendar_for
    from engine.procedures.versions import specs_of

    engine = StepScriptEngine(StepContext(now=now, calendar=calendar_for(challenge)))
    return load_workflow(challenge.state, *specs_of(challenge.procedure_version), engine), engine
