"""Where cases stall: for a procedure version and a period, each task of its diagram with the median working days
it took (opened to closed, for tasks completed or closed by their deadline), the 90th percentile, how many are
still open, and the share of its deadlines missed. Counted per (task, day opened, day closed), so the working
days are reckoned once per pair of days, not once per task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from ..bpmn.tasks import human_task_specs, properties_of
from ..calendar import WorkingCalendar
from ..models import ProcedureVersion, Task
from ..procedures.versions import specs_of
from .figures import nearest_rank
from .periods import Period


@dataclass
class Stall:
    bpmn_id: str
    title: str
    stage: int
    tasks: int
    still_open: int
    median_days: int | None
    p90_days: int | None
    with_deadline: int
    missed: int

    @property
    def missed_share(self) -> float | None:
        return self.missed / self.with_deadline if self.with_deadline else None


def _day(column, dialect: str):
    return func.date(column) if dialect == "sqlite" else cast(column, Date)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _user_tasks(version: ProcedureVersion) -> dict[str, tuple[str, int]]:
    """Each user task of the version's diagram: its name and stage."""
    spec, subprocess_specs = specs_of(version)
    out = {}
    for task_spec in human_task_specs(spec, subprocess_specs):
        stage = properties_of(task_spec).get("stage", "0")
        out[task_spec.bpmn_id] = (task_spec.bpmn_name or task_spec.bpmn_id, int(stage) if stage.isdigit() else 0)
    return out


def stalls(session: Session, version: ProcedureVersion, period: Period, calendar: WorkingCalendar,
           now: datetime) -> list[Stall]:
    """Every task of the version that opened in the period, slowest first."""
    dialect = session.get_bind().dialect.name
    has_deadline = and_(Task.due_at.is_not(None), Task.status != "withdrawn")
    missed = and_(has_deadline, or_(Task.status == "lapsed", Task.closed_at > Task.due_at,
                                    and_(Task.status == "open", Task.due_at < now)))
    opened_day, closed_day = _day(Task.opened_at, dialect), _day(Task.closed_at, dialect)
    rows = session.execute(
        select(Task.bpmn_id, Task.status, opened_day, closed_day, func.count(),
               func.sum(case((has_deadline, 1), else_=0)), func.sum(case((missed, 1), else_=0)))
        .where(Task.procedure_version_id == version.id, Task.opened_at >= period.starts,
               Task.opened_at < period.ends)
        .group_by(Task.bpmn_id, Task.status, opened_day, closed_day)
    ).all()
    names = _user_tasks(version)
    found: dict[str, dict] = {}
    for bpmn_id, status, opened, closed, count, deadlines, missed_count in rows:
        title, stage = names.get(bpmn_id, (bpmn_id, 0))
        entry = found.setdefault(bpmn_id, {"title": title, "stage": stage, "tasks": 0, "open": 0, "days": {},
                                           "deadlines": 0, "missed": 0})
        entry["tasks"] += count
        entry["deadlines"] += int(deadlines or 0)
        entry["missed"] += int(missed_count or 0)
        if status == "open":
            entry["open"] += count
        elif status in ("completed", "lapsed") and closed is not None:
            days = calendar.working_day_number(_as_date(closed)) - calendar.working_day_number(_as_date(opened))
            entry["days"][days] = entry["days"].get(days, 0) + count
    out = [Stall(bpmn_id, e["title"], e["stage"], e["tasks"], e["open"], nearest_rank(e["days"], 0.5),
                 nearest_rank(e["days"], 0.9), e["deadlines"], e["missed"]) for bpmn_id, e in found.items()]
    return sorted(out, key=lambda s: (-(s.median_days or 0), -(s.missed_share or 0), s.stage, s.bpmn_id))
