"""How the pages word things: times in London, labels for areas, stages, outcomes (in each procedure's own words)
and events (from their declared kinds)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from engine import access_log, events
from engine.cases.attachments import KINDS, size_in_words
from engine.cases.writer import stage_word
from engine.queries.documents import area_label
from engine.queries.records import date_in_words
from engine.vocabulary import outcome_label

LONDON = ZoneInfo("Europe/London")

def local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def moment_in_words(value: str | None) -> str:
    """An ISO moment kept in an event's data ("2026-12-21T17:00:00+00:00"), as the pages write times."""
    if not value:
        return ""
    try:
        return local_time(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return str(value)


def stage_label(challenge, number: int) -> str:
    """"Stage 3", or "Step 3" where the procedure says step."""
    return f"{stage_word(challenge.procedure_version).capitalize()} {number}"


def challenge_outcome(challenge) -> str:
    """The challenge's outcome as its procedure words it."""
    return outcome_label(challenge.outcome, challenge.procedure_version.meta.get("outcome_labels"))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["stage_label"] = stage_label
    app.jinja_env.filters["stages_heading"] = lambda c: f"{stage_word(c.procedure_version).capitalize()}s"
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["moment_in_words"] = moment_in_words
    app.jinja_env.filters["date_in_words"] = date_in_words
    app.jinja_env.filters["area_label"] = area_label
    app.jinja_env.filters["outcome_label"] = challenge_outcome
    app.jinja_env.filters["event_label"] = events.label
    app.jinja_env.filters["file_size"] = size_in_words
    app.jinja_env.filters["attachment_kind"] = lambda kind: KINDS[kind].label if kind in KINDS else kind
    app.jinja_env.filters["access_label"] = lambda kind: access_log.KINDS.get(kind, kind)
    app.jinja_env.filters["event_summary"] = lambda event: events.describe(event.kind, event.data or {})
