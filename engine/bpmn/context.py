"""The context of one step of one case: what the script engine, the clocked timers and the diagram functions
read while SpiffWorkflow runs it, and what they note for the run loop to take. It replaces state kept on the
script engine: the run loop sets the moment the case lives, and collects what happened at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..calendar import WorkingCalendar


@dataclass
class Notice:
    """What a diagram's `notify(to, subject, message)` asked for."""

    to: list[str]
    subject: str
    message: str
    # "current": the tasks waiting when the script ran (not when the step ends).
    waiting: list[str]
    # The fields of the task's data that lanes with an agency chosen while the case runs read their agency from.
    data: dict[str, Any]


@dataclass
class StepContext:
    now: datetime  # the real now of the step: the service's clock, read once
    calendar: WorkingCalendar
    # Fields of the case's data that name an agency chosen at run time (from the lane map's agency_from sides).
    chosen_fields: tuple[str, ...] = ()
    # The due moment the case lives while overdue timers are caught up, in order; None: the real now.
    at: datetime | None = None
    # Set when a timer fired during a refresh: the engine then has steps that only the refresh made ready.
    timer_fired: bool = False
    # The task whose script is running (notify reads the waiting tasks and the chosen agencies through it).
    running: Any = None
    notices: list[Notice] = field(default_factory=list)

    def moment(self) -> datetime:
        """When the case is: the due moment being caught up, or the real now."""
        return self.at or self.now
