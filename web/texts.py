"""How the pages word things: times in London, labels for roles, areas and outcomes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from engine.procedures import raise_form
from engine.roles import ROLES
from engine.runtime import stage_word

LONDON = ZoneInfo("Europe/London")

OUTCOMES = {
    "resolved": "Resolved",
    "decided_by_partnership": "Decided by the Lead Safeguarding Partners",
    "closed": "Closed",
}
EVENT_LABELS = {
    "challenge_raised": "Challenge raised",
    "stage_entered": "Moved to stage",
    "task_opened": "Task opened",
    "task_claimed": "Task claimed",
    "task_completed": "Task completed",
    "task_cancelled": "Task closed by the procedure",
    "timer_fired": "Timer fired",
    "timer_failed": "Timer failed; the case was set aside",
    "step_failed": "A step failed and nothing of it was kept; the case was set aside",
    "notified": "Notification sent",
    "challenge_closed": "Challenge closed",
}


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def area_label(area: str) -> str:
    return raise_form()["properties"]["area"]["x-labels"].get(area, area)


def stage_label(challenge, number: int) -> str:
    """"Stage 3", or "Step 3" where the procedure says step."""
    return f"{stage_word(challenge.procedure_version).capitalize()} {number}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["stage_label"] = stage_label
    app.jinja_env.filters["stages_heading"] = lambda c: f"{stage_word(c.procedure_version).capitalize()}s"
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["area_label"] = area_label
    app.jinja_env.filters["role_label"] = lambda role: ROLES.get(role, role)
    app.jinja_env.filters["outcome_label"] = lambda outcome: OUTCOMES.get(outcome or "", outcome or "")
    app.jinja_env.filters["event_label"] = lambda kind: EVENT_LABELS.get(kind, kind)
