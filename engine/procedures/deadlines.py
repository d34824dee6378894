"""Deadlines and reminders a process owner sets without writing Python: "N working days", "day N" or "N hours",
counted from the challenge raised, the stage's start or the task opened, or before another deadline. Each choice
becomes a timer expression of the diagram functions (engine.vocabulary), and the date it gives for a sample
start is shown beside it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..bpmn.context import StepContext
from ..bpmn.script_engine import StepScriptEngine, local_time
from ..calendar import WorkingCalendar
from ..errors import InvalidProcedure

# What a deadline counts from -> the expression that is that moment when the timer is armed (a task's timers are
# armed when it opens, so `now()` is then the moment it opened).
ANCHORS = {"raised": "raised_at", "stage": "stage_started", "task": "now()"}
KINDS = {"working_days": "working_days_after", "day": "day_n", "hours": "hours_after"}
BEFORE = {"working_days": "working_days_before", "hours": "hours_before"}
AFTER = {"working_days": "working_days_after", "hours": "hours_after"}
_VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,59}")


@dataclass(frozen=True)
class Deadline:
    kind: str  # working_days, day or hours
    count: int
    anchor: str = "stage"  # raised, stage or task; or, with `before` or `after`, the variable of another deadline
    before: bool = False
    after: bool = False

    def expression(self) -> str:
        if not 0 <= self.count <= 400:
            raise InvalidProcedure("the number of days or hours must be between 0 and 400")
        if self.before or self.after:
            if self.before and self.after or self.kind not in BEFORE:
                raise InvalidProcedure("a deadline before or after another one counts working days or hours")
            if not _VARIABLE.fullmatch(self.anchor) or self.anchor.startswith("_"):
                raise InvalidProcedure("name the other deadline by the variable that holds it, such as stage_due")
            return f"{(BEFORE if self.before else AFTER)[self.kind]}({self.anchor}, {self.count})"
        if self.kind not in KINDS or self.anchor not in ANCHORS:
            raise InvalidProcedure(f"a deadline is one of {', '.join(KINDS)}, counted from one of "
                                   f"{', '.join(ANCHORS)}")
        return f"{KINDS[self.kind]}({ANCHORS[self.anchor]}, {self.count})"

    def sample(self, calendar: WorkingCalendar, start: datetime) -> str:
        """The date the deadline gives when the challenge was raised, the stage started and the task opened at
        `start` (and, before or after another deadline, that deadline is `start`)."""
        functions = StepScriptEngine(StepContext(now=start, calendar=calendar)).functions()
        name, _, rest = self.expression().partition("(")
        moment = start.isoformat()
        return local_time(calendar, functions[name](moment, self.count))
