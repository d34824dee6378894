"""A draft of a task's answers, saved without completing it: kept as typed for the lane's holders, refused to
anyone else or once the task is closed, and dropped when the task is completed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.cases.drafts import draft_of, save_draft
from engine.cases.raising import raise_challenge
from engine.cases.tasks import claim_task, complete_task
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Task, TaskDraft
from tests.conftest import raise_answers


@pytest.fixture
def task(session, clock, user, agency) -> Task:
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    return session.scalar(select(Task).where(Task.challenge_id == challenge.id))


def test_a_draft_is_kept_as_typed_and_dropped_when_the_task_is_completed(session, clock, user, task):
    officer = user("police-practitioner")
    save_draft(session, clock, officer, task.id, {"rationale": "Half written", "csrf_token": "x", "unknown": "y"})
    assert draft_of(session, task.id).values == {"rationale": "Half written"}
    save_draft(session, clock, officer, task.id, {"rationale": "Written", "response": "We will look again."})
    draft = draft_of(session, task.id)
    assert (draft.values["response"], draft.saved_by_id, draft.saved_at) == ("We will look again.", officer.id,
                                                                             clock.now())
    complete_task(session, clock, officer, task.id, {"rationale": "Written", "response": "We will look again."})
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0


def test_a_draft_is_refused_to_others_after_a_claim_by_someone_else_and_when_too_long(session, clock, user, task):
    with pytest.raises(NotFound):
        save_draft(session, clock, user("health-practitioner"), task.id, {"rationale": "x"})
    with pytest.raises(Forbidden):
        save_draft(session, clock, user("csc-practitioner"), task.id, {"rationale": "x"})
    with pytest.raises(Invalid):
        save_draft(session, clock, user("police-practitioner"), task.id, {"rationale": "x" * 20001})
    claim_task(session, clock, user("police-practitioner"), task.id)
    from engine.accounts import create_user

    other = create_user(session, "police-practitioner-2", "Second", "p2@test.invalid", "demo-password",
                        [(task.agency_id, "practitioner")])
    session.commit()
    with pytest.raises(Conflict):
        save_draft(session, clock, other, task.id, {"rationale": "x"})
    assert draft_of(session, task.id) is None
