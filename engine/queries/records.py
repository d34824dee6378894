"""The record of a challenge as people read it: each stage's tasks with their answers under the forms' labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..calendar import WorkingCalendar
from ..models import Agency, Challenge, Event, Task


@dataclass
class Answer:
    label: str
    text: str
    key: str = ""


@dataclass
class TaskRecord:
    task: Task
    answers: list[Answer]


@dataclass
class StageRecord:
    stage: int
    tasks: list[TaskRecord] = field(default_factory=list)

    @property
    def due_at(self) -> datetime | None:
        dues = [r.task.due_at for r in self.tasks if r.task.due_at is not None]
        return max(dues) if dues else None


def date_in_words(value: str) -> str:
    """"2026-12-22" as people write it: "Tuesday 22 December 2026" (anything else as it is)."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{day:%A} {day.day} {day:%B %Y}"


def answer_text(prop: dict[str, Any], value: Any, agencies: dict[int, str] | None = None) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if prop.get("format") == "date":
        return date_in_words(value)
    if prop.get("x-agency-choice") and agencies is not None:
        return agencies.get(value, str(value))  # an agency chosen by its id reads as its name
    labels = prop.get("x-labels", {})
    return str(labels.get(value, value))


def answers_of(schema: dict[str, Any], data: dict[str, Any] | None,
               agencies: dict[int, str] | None = None) -> list[Answer]:
    data = data or {}
    props = schema.get("properties", {})
    return [Answer(props[name].get("title", name), answer_text(props[name], data[name], agencies), name)
            for name in props if name in data]


def stage_records(session: Session, challenge: Challenge) -> list[StageRecord]:
    forms = challenge.procedure_version.forms
    stages: dict[int, StageRecord] = {}
    rows = session.scalars(select(Task).where(Task.challenge_id == challenge.id).order_by(Task.id)).all()
    agencies = dict(session.execute(select(Agency.id, Agency.name)
                                    .where(Agency.partnership_id == challenge.partnership_id)).all())
    for row in rows:
        stage = stages.setdefault(row.stage, StageRecord(row.stage))
        stage.tasks.append(TaskRecord(row, answers_of(forms.get(row.form, {}), row.data, agencies)))
    return [stages[n] for n in sorted(stages)]


def raised_answers(session: Session, challenge: Challenge) -> dict[str, Any]:
    """What the referrer said when raising it (and the advice shown), from the first event."""
    event = session.scalar(select(Event).where(Event.challenge_id == challenge.id, Event.kind == "challenge_raised")
                           .order_by(Event.id).limit(1))
    return event.data if event else {}


def history(session: Session, challenge: Challenge) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.challenge_id == challenge.id).order_by(Event.id)))


CHALLENGED_LABELS = (("challenged_role", "Role"), ("challenged_name", "Name"), ("challenged_team", "Team or service"),
                     ("challenged_contact", "Contact"))


def challenged(raised: dict[str, Any]) -> list[Answer]:
    """Who was challenged, as the referrer named them when raising it (role, and name, team and contact where
    given); empty for a challenge raised before the form asked, or erased."""
    return [Answer(label, str(raised[key]), key) for key, label in CHALLENGED_LABELS if raised.get(key)]


def challenged_json(raised: dict[str, Any]) -> dict[str, str | None] | None:
    """The same for the API and subject access: role, name, team and contact (None where not given)."""
    if not any(raised.get(key) for key, _ in CHALLENGED_LABELS):
        return None
    return {key.removeprefix("challenged_"): raised.get(key) for key, _ in CHALLENGED_LABELS}


@dataclass(frozen=True)
class DeadlineBasis:
    """What a challenge's deadlines count from, in words: `counts_from` is the day, `from_concern` whether it is
    the day the concern was first raised (the procedure says so), `passed_at_raising` the stages whose deadline
    had already passed when the challenge was raised (it started at a later stage)."""

    counts_from: date
    from_concern: bool
    passed_at_raising: tuple[int, ...] = ()

    def sentence(self, stage_word: str = "stage") -> str:
        day = date_in_words(self.counts_from.isoformat())
        if self.from_concern:
            text = (f"Deadlines count from {day}, the day the concern was first raised: the procedure counts its "
                    "days from the concern, so that day is day 1.")
        else:
            text = f"Deadlines count from {day}, the day the challenge was raised."
        if self.passed_at_raising:
            stages = " and ".join(f"{stage_word} {n}" for n in self.passed_at_raising)
            text += (f" When it was raised the deadline of {stages} had already passed, so it moved on at once to "
                     f"the {stage_word} the procedure's timetable had reached.")
        return text


def deadline_basis(challenge: Challenge, raised: dict[str, Any], events: list[Event]) -> DeadlineBasis:
    moment = challenge.raised_at
    anchor = raised.get("deadlines_from")
    if isinstance(anchor, str):
        try:
            moment = datetime.fromisoformat(anchor)
        except ValueError:
            pass
    from_concern = moment < challenge.raised_at
    passed = sorted({e.data.get("stage") for e in events if e.kind == "deadline_missed" and e.at <= challenge.raised_at
                     and isinstance((e.data or {}).get("stage"), int)})
    # Every UK partnership shares London's date.
    return DeadlineBasis(WorkingCalendar().local_day(moment), from_concern, tuple(passed))
