"""Nothing stuck: a claim released by its holder, a task reassigned by a manager with a reason (told to both),
and the claims of someone absent or deactivated released. Refusals change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.accounts import create_user
from engine.administration import services
from engine.cases.claims import reassign_task, release_claims_of, release_task
from engine.cases.raising import raise_challenge
from engine.cases.tasks import claim_task
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Event, Notification, Task
from engine.queries import access
from tests.conftest import raise_answers


@pytest.fixture
def police(agency):
    return agency("Durham")


@pytest.fixture
def second(session, police):
    created = create_user(session, "police-practitioner-2", "Second practitioner, Durham Constabulary",
                          "police-practitioner-2@test.invalid", "demo-password", [(police.id, "practitioner")])
    session.commit()
    return created


@pytest.fixture
def task(session, clock, user, police) -> Task:
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(police.id))
    [row] = session.scalars(select(Task).where(Task.challenge_id == challenge.id, Task.status == "open")).all()
    return row


def kinds(session, task) -> list[str]:
    return list(session.scalars(select(Event.kind).where(Event.challenge_id == task.challenge_id).order_by(Event.id)))


def told(session, task, username_like: str) -> list[str]:
    from engine.models import User

    return list(session.scalars(select(Notification.subject).join(User, User.id == Notification.user_id)
                                .where(Notification.challenge_id == task.challenge_id,
                                       User.username == username_like).order_by(Notification.id)))


def snapshot(session, task) -> tuple:
    session.expire_all()
    row = session.get(Task, task.id)
    return (row.claimed_by_id, row.status, session.scalar(select(func.count(Event.id))),
            session.scalar(select(func.count(Notification.id))))


def test_the_holder_releases_a_claim_and_the_lane_is_told(session, clock, user, task, second):
    officer = user("police-practitioner")
    claim_task(session, clock, officer, task.id)
    release_task(session, clock, officer, task.id)
    session.expire_all()
    assert session.get(Task, task.id).claimed_by_id is None
    assert kinds(session, task)[-2:] == ["task_claimed", "task_released"]
    assert told(session, task, "police-practitioner-2")[-1].endswith("task released - Stage 1: respond to the "
                                                                     "challenge")
    # Either practitioner can take it now.
    assert task.id in [line.id for line in access.my_tasks(session, second)]


def test_only_the_holder_can_release_and_a_refusal_changes_nothing(session, clock, user, task, second):
    claim_task(session, clock, user("police-practitioner"), task.id)
    before = snapshot(session, task)
    with pytest.raises(Forbidden):
        release_task(session, clock, second, task.id)
    with pytest.raises(NotFound):
        release_task(session, clock, user("health-practitioner"), task.id)
    assert snapshot(session, task) == before


def test_a_manager_reassigns_a_claimed_task_with_a_reason_told_to_both(session, clock, user, task, second):
    officer, manager = user("police-practitioner"), user("police-manager")
    claim_task(session, clock, officer, task.id)
    reassign_task(session, clock, manager, task.id, second.id, "On leave until the 4th.")
    session.expire_all()
    assert session.get(Task, task.id).claimed_by_id == second.id
    event = session.scalar(select(Event).where(Event.challenge_id == task.challenge_id,
                                               Event.kind == "task_reassigned"))
    assert event.actor_id == manager.id
    assert event.data == {"title": "Stage 1: respond to the challenge", "from": officer.display_name,
                          "to": second.display_name, "reason": "On leave until the 4th."}
    assert told(session, task, "police-practitioner-2")[-1].endswith("task reassigned to you - Stage 1: respond to "
                                                                     "the challenge")
    assert told(session, task, "police-practitioner")[-1].endswith("task reassigned - Stage 1: respond to the "
                                                                   "challenge")
    assert access.my_tasks(session, officer) == []  # it is the second practitioner's now


def test_reassigning_is_for_managers_of_the_agency_to_a_holder_of_the_role(session, clock, user, task, second):
    before = snapshot(session, task)
    with pytest.raises(Forbidden):
        reassign_task(session, clock, user("police-practitioner"), task.id, second.id, "because")
    with pytest.raises(Forbidden):  # the raising agency's manager sees the case but does not run the task
        reassign_task(session, clock, user("csc-manager"), task.id, second.id, "because")
    with pytest.raises(Invalid) as refused:
        reassign_task(session, clock, user("police-manager"), task.id, user("health-practitioner").id, "  ")
    assert set(refused.value.errors) == {"to_user_id", "reason"}
    with pytest.raises(Invalid):
        reassign_task(session, clock, user("police-manager"), task.id, 10**12, "because")
    with pytest.raises(Invalid):
        reassign_task(session, clock, user("police-manager"), task.id, "2", "because")
    assert snapshot(session, task) == before


def test_a_closed_task_cannot_be_reassigned(session, clock, user, task, second):
    session.execute(Task.__table__.update().where(Task.id == task.id).values(status="cancelled"))
    session.commit()
    with pytest.raises(Conflict):
        reassign_task(session, clock, user("police-manager"), task.id, second.id, "because")


def test_an_absence_releases_every_claim_and_deactivation_too(session, clock, user, police, task, second):
    officer = user("police-practitioner")
    other = raise_challenge(session, clock, user("health-practitioner"), raise_answers(police.id))
    [other_task] = session.scalars(select(Task).where(Task.challenge_id == other.id)).all()
    claim_task(session, clock, officer, task.id)
    claim_task(session, clock, officer, other_task.id)
    assert release_claims_of(session, clock, officer, "off sick") == 2
    session.expire_all()
    assert {session.get(Task, t).claimed_by_id for t in (task.id, other_task.id)} == {None}
    released = session.scalar(select(Event).where(Event.kind == "task_released").order_by(Event.id.desc()))
    assert released.data["reason"] == "off sick"

    claim_task(session, clock, second, task.id)
    assert services.deactivate(session, clock, None, second.memberships[0].agency.partnership, second) == 1
    session.expire_all()
    assert session.get(Task, task.id).claimed_by_id is None
    assert not second.active
