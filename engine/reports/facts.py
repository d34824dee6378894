"""The facts the reports count, folded from each step's events into `challenge_facts` and `stage_facts` in the
step's own transaction (the writer calls `fold` before it writes the events), so a report reads a few narrow
rows per challenge instead of every case's history. `rebuild` folds a partnership's whole history again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from .. import events
from ..calendar import WorkingCalendar
from ..models import Challenge, ChallengeFacts, Event, ProcedureVersion, StageFacts
from ..vocabulary import SATISFIED_ANSWERS


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


class _Fold:
    def __init__(self, session: Session, challenge: Challenge, version: ProcedureVersion,
                 calendar: WorkingCalendar) -> None:
        self.session, self.challenge, self.version, self.calendar = session, challenge, version, calendar
        self.facts: ChallengeFacts | None = session.get(ChallengeFacts, challenge.id)

    def stage(self, number: int, at: datetime) -> StageFacts:
        row = self.session.get(StageFacts, (self.challenge.id, number))
        if row is None:
            row = StageFacts(challenge_id=self.challenge.id, stage=number, partnership_id=self.challenge.partnership_id,
                             started_at=at, missed=False)
            self.session.add(row)
        return row

    def end_stage(self, number: int, at: datetime) -> None:
        if number <= 0:
            return
        row = self.stage(number, at)
        if row.ended_at is None:
            row.ended_at = at
            row.working_days = self.calendar.working_days_between(row.started_at, at)
            if row.deadline is not None and at > row.deadline:
                row.missed = True

    def raised(self, event: events.Event) -> None:
        challenge, data = self.challenge, event.data
        self.facts = ChallengeFacts(
            challenge_id=challenge.id, partnership_id=challenge.partnership_id,
            procedure_version_id=challenge.procedure_version_id, raising_agency_id=challenge.raising_agency_id,
            receiving_agency_id=challenge.receiving_agency_id, area=challenge.area,
            subject_kind=data.get("subject_kind") or "child", significant_risk=bool(data.get("significant_risk")),
            cp_or_lac=data.get("cp_or_lac") or "neither", raised_at=event.at,
            raised_on=self.calendar.local_day(event.at), status="open", stage_reached=0, satisfied=None,
            referred_to_partnership=False, deadlines_missed=0)
        self.session.add(self.facts)

    def take(self, event: events.Event) -> None:
        facts, data = self.facts, event.data
        if facts is None:  # history from before facts were kept: `rebuild` folds it whole
            return
        if isinstance(event, events.StageEntered):
            self.end_stage(data.get("previous") or 0, event.at)
            self.stage(data["stage"], event.at)
            facts.stage_reached = max(facts.stage_reached, data["stage"])
            partnership_stage = self.version.meta.get("partnership_stage")
            if partnership_stage and facts.stage_reached >= partnership_stage:
                facts.referred_to_partnership = True
        elif isinstance(event, events.TaskOpened):
            due = _moment(data.get("due_at"))
            row = self.stage(data["stage"], event.at)
            if due is not None and (row.deadline is None or due > row.deadline):
                row.deadline = due
        elif isinstance(event, events.DeadlineMissed):
            facts.deadlines_missed += 1
            if data.get("stage"):
                self.stage(data["stage"], event.at).missed = True
        elif isinstance(event, events.TaskCompleted):
            answers = data.get("answers") or {}
            if answers.get("satisfied") in SATISFIED_ANSWERS:
                facts.satisfied = answers["satisfied"]
            if answers.get("referred_to_partnership") is True:
                facts.referred_to_partnership = True
        elif isinstance(event, events.ChallengeClosed):
            facts.status, facts.outcome, facts.closed_at = "closed", data.get("outcome"), event.at
            facts.working_days_to_close = self.calendar.working_days_between(facts.raised_at, event.at)
            self.end_stage(data.get("stage") or facts.stage_reached, event.at)


def fold(session: Session, challenge: Challenge, version: ProcedureVersion, calendar: WorkingCalendar,
         step_events: Iterable[events.Event]) -> None:
    """Bring the challenge's facts up to date with the events of one step (in the caller's transaction)."""
    folding = _Fold(session, challenge, version, calendar)
    for event in step_events:
        if isinstance(event, events.ChallengeRaised):
            folding.raised(event)
        else:
            folding.take(event)


def rebuild(session: Session, partnership_id: int, calendar: WorkingCalendar) -> int:
    """Fold every challenge of the partnership again from its history (after a change in what is counted, or for
    history from before facts were kept). An erased challenge keeps the facts it had: its history no longer holds
    the answers they were counted from. The caller commits; how many challenges were folded."""
    kept = select(Challenge.id).where(Challenge.partnership_id == partnership_id, Challenge.erased_at.is_(None))
    session.execute(delete(StageFacts).where(StageFacts.challenge_id.in_(kept)))
    session.execute(delete(ChallengeFacts).where(ChallengeFacts.challenge_id.in_(kept)))
    session.flush()
    count = 0
    for challenge in session.scalars(select(Challenge).where(Challenge.id.in_(kept)).order_by(Challenge.id)):
        rows = session.scalars(select(Event).where(Event.challenge_id == challenge.id).order_by(Event.id))
        history = [events.KINDS[row.kind](row.at, row.data or {}, row.actor_id, row.task_id, row.element_id)
                   for row in rows if row.kind in events.KINDS]
        fold(session, challenge, challenge.procedure_version, calendar, history)
        session.flush()
        count += 1
    return count


def partnerships_missing_facts(session: Session) -> list[int]:
    """Partnerships with challenges that have no facts yet (history from before the reports kept them)."""
    return list(session.scalars(select(Challenge.partnership_id).where(
        Challenge.erased_at.is_(None), ~exists().where(ChallengeFacts.challenge_id == Challenge.id)).distinct()))
