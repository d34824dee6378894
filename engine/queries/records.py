"""The record of a challenge as people read it: each stage's tasks with their answers under the forms' labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
