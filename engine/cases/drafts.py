"""Drafts: the answers to an open task saved without completing it, so a long answer survives an interruption.
A draft is kept as the fields were typed (text, not yet checked against the form: it need not be complete), by
whoever may complete the task; completing the task drops it."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from ..clock import Clock
from ..errors import Invalid
from ..models import TaskDraft, User
from ..procedures.versions import version_of
from ..queries.cases import get_task
from ..unit_of_work import unit_of_work
from .tasks import check_can_act, check_open

FIELD_LIMIT = 20000


def save_draft(session: Session, clock: Clock, user: User, task_id: int, typed: Mapping[str, str]) -> TaskDraft:
    """Keep the fields of the task's form as typed (other names ignored)."""
    task = get_task(session, task_id)
    check_can_act(session, user, task)
    check_open(task, user)
    properties = version_of(session, task.challenge).forms[task.form].get("properties", {})
    values = {name: typed[name] for name in properties if isinstance(typed.get(name), str)}
    too_long = {name: f"Keep this to {FIELD_LIMIT} characters." for name, v in values.items() if len(v) > FIELD_LIMIT}
    if too_long:
        raise Invalid(too_long, "The draft was not saved.")
    with unit_of_work(session) as work:
        draft = session.get(TaskDraft, task.id)
        if draft is None:
            draft = TaskDraft(task_id=task.id)
            session.add(draft)
        draft.values, draft.saved_by_id, draft.saved_at = values, user.id, clock.now()
        work.commit()
    return draft


def draft_of(session: Session, task_id: int) -> TaskDraft | None:
    return session.get(TaskDraft, task_id)
