"""Who a task belongs to and who may see a challenge: a task is for the users holding its lane's role in its
agency; the referrer sees the whole challenge; everybody else sees nothing. A refused request changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.accounts import create_user
from engine.cases.raising import raise_challenge
from engine.cases.tasks import claim_task, complete_task
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Challenge, Event, Notification, Task
from engine.queries import access
from engine.queries.cases import get_challenge
from tests.conftest import raise_answers

RESPOND = {"rationale": "The referral did not meet the threshold for a section 47 enquiry.",
           "response": "We will review the case with the school's DSL tomorrow."}


@pytest.fixture
def police(agency):
    return agency("Durham")


@pytest.fixture
def challenge(session, clock, user, police) -> Challenge:
    """csc-practitioner (Darlington Children's Social Care) challenges Durham Constabulary."""
    return raise_challenge(session, clock, user("csc-practitioner"), raise_answers(police.id))


@pytest.fixture
def respond_task(session, challenge) -> Task:
    [task] = session.scalars(select(Task).where(Task.challenge_id == challenge.id, Task.status == "open")).all()
    assert task.title == "Stage 1: respond to the challenge"
    return task


@pytest.fixture
def second_police_practitioner(session, police):
    created = create_user(session, "police-practitioner-2", "Second practitioner, Durham Constabulary",
                          "police-practitioner-2@test.invalid", "demo-password", [(police.id, "practitioner")])
    session.commit()
    return created


def counts(session) -> dict[str, int]:
    return {model.__name__: session.scalar(select(func.count(model.id)))
            for model in (Challenge, Task, Event, Notification)}


def task_state(session, task_id: int) -> tuple:
    session.expire_all()
    row = session.get(Task, task_id)
    return row.status, row.claimed_by_id, row.completed_by_id, row.data, row.challenge.version


def task_ids(tasks) -> list[int]:
    return [t.id for t in tasks]


# --- who the stage 1 task is for ------------------------------------------------------------------------------

def test_the_stage_1_respond_task_is_for_the_receiving_practitioner(session, user, police, respond_task):
    assert respond_task.agency_id == police.id
    assert respond_task.role == "practitioner"
    assert task_ids(access.my_tasks(session, user("police-practitioner"))) == [respond_task.id]


def test_my_tasks_come_soonest_first_with_tasks_without_a_deadline_last_and_stop_at_the_page(
        session, clock, user, police, respond_task):
    """Three more challenges to Durham: a task with no deadline (a procedure may have one) goes last, whatever
    its id; the rest by deadline, then by id; the page is cut at the limit."""
    later = [raise_challenge(session, clock, user("csc-practitioner"), raise_answers(police.id))
             for _ in range(3)]
    tasks = {c.id: session.scalar(select(Task).where(Task.challenge_id == c.id)) for c in later}
    undated, sooner, same_due = (tasks[c.id] for c in later)
    undated.due_at = None
    sooner.due_at = respond_task.due_at - timedelta(hours=1)
    session.commit()
    officer = user("police-practitioner")

    lines = access.my_tasks(session, officer)

    assert task_ids(lines) == [sooner.id, respond_task.id, same_due.id, undated.id]
    assert lines[0].challenge_reference == later[1].reference and lines[0].agency_name == police.name
    assert task_ids(access.my_tasks(session, officer, limit=2)) == [sooner.id, respond_task.id]


@pytest.mark.parametrize("username", [
    "police-manager",  # the receiving agency, another role
    "police-head",
    "health-practitioner",  # the right role in an agency not involved
    "school-practitioner",
    "csc-practitioner",  # the raising practitioner: the task is the other agency's
    "csc-manager",
    "dsp-business-unit",
])
def test_nobody_else_has_the_stage_1_respond_task(session, user, respond_task, username):
    assert access.my_tasks(session, user(username)) == []


def test_the_referrer_sees_the_challenge(session, user, challenge):
    referrer = user("csc-practitioner")
    assert access.can_view(session, referrer, challenge.id)
    assert get_challenge(session, referrer, challenge.id).id == challenge.id
    assert [c.id for c in access.visible_challenges(session, referrer)] == [challenge.id]


def test_the_receiving_practitioner_sees_the_challenge(session, user, challenge):
    assert access.can_view(session, user("police-practitioner"), challenge.id)
    assert [c.id for c in access.visible_challenges(session, user("police-practitioner"))] == [challenge.id]


def test_a_practitioner_of_an_uninvolved_agency_cannot_see_the_challenge(session, user, challenge):
    outsider = user("health-practitioner")
    assert not access.can_view(session, outsider, challenge.id)
    with pytest.raises(NotFound):
        get_challenge(session, outsider, challenge.id)
    assert access.visible_challenges(session, outsider) == []


def test_the_raisers_manager_not_yet_involved_supervises_it_but_has_no_task(session, user, challenge):
    """A manager sees every challenge their agency raised or received (supervision), before any task is theirs."""
    manager = user("csc-manager")
    assert access.can_view(session, manager, challenge.id)
    assert get_challenge(session, manager, challenge.id) == challenge
    assert access.visible_challenges(session, manager) == [challenge]
    assert access.my_tasks(session, manager) == []


def test_a_challenge_that_does_not_exist_is_not_found(session, user, challenge):
    with pytest.raises(NotFound):
        get_challenge(session, user("csc-practitioner"), challenge.id + 1000)


# --- claiming ---------------------------------------------------------------------------------------------------

def test_an_uninvolved_practitioner_claiming_gets_not_found_and_nothing_changes(session, clock, user, respond_task):
    before, state = counts(session), task_state(session, respond_task.id)
    with pytest.raises(NotFound):
        claim_task(session, clock, user("health-practitioner"), respond_task.id)
    assert counts(session) == before
    assert task_state(session, respond_task.id) == state


def test_the_receiving_manager_follows_stage_1_but_cannot_claim_the_practitioners_task(session, clock, user,
                                                                                      respond_task):
    """police-manager supervises the receiving agency's challenges, so sees this one, but the stage 1 task is the
    practitioners': claiming or completing it is refused as another role's (the API answers 403 likewise)."""
    manager = user("police-manager")
    before, state = counts(session), task_state(session, respond_task.id)
    assert access.can_view(session, manager, respond_task.challenge_id)
    with pytest.raises(Forbidden):
        claim_task(session, clock, manager, respond_task.id)
    with pytest.raises(Forbidden):
        complete_task(session, clock, manager, respond_task.id, RESPOND)
    assert counts(session) == before
    assert task_state(session, respond_task.id) == state


def test_the_referrer_claiming_the_other_agencys_task_is_forbidden(session, clock, user, respond_task):
    # The referrer can see the task (it is their challenge) but it is not theirs to do.
    with pytest.raises(Forbidden):
        claim_task(session, clock, user("csc-practitioner"), respond_task.id)


def test_claiming_a_task_that_does_not_exist_is_not_found(session, clock, user, respond_task):
    with pytest.raises(NotFound):
        claim_task(session, clock, user("police-practitioner"), respond_task.id + 1000)


def test_both_police_practitioners_see_the_task_until_one_claims_it(
        session, clock, user, respond_task, second_police_practitioner):
    first = user("police-practitioner")
    assert task_ids(access.my_tasks(session, first)) == [respond_task.id]
    assert task_ids(access.my_tasks(session, second_police_practitioner)) == [respond_task.id]

    clock.advance(minutes=10)
    claimed = claim_task(session, clock, first, respond_task.id)
    assert claimed.claimed_by_id == first.id
    assert claimed.claimed_at == datetime(2026, 12, 18, 15, 10, tzinfo=UTC)
    assert task_ids(access.my_tasks(session, first)) == [respond_task.id]
    assert access.my_tasks(session, second_police_practitioner) == []
    [event] = session.scalars(select(Event).where(Event.kind == "task_claimed")).all()
    assert (event.actor_id, event.task_id) == (first.id, respond_task.id)


def test_claiming_twice_by_the_same_user_is_fine(session, clock, user, respond_task):
    practitioner = user("police-practitioner")
    claim_task(session, clock, practitioner, respond_task.id)
    before = counts(session)
    clock.advance(minutes=5)
    again = claim_task(session, clock, practitioner, respond_task.id)
    assert again.claimed_by_id == practitioner.id
    assert again.claimed_at == datetime(2026, 12, 18, 15, 0, tzinfo=UTC)
    assert counts(session) == before


def test_a_claim_after_anothers_claim_is_a_conflict(session, clock, user, respond_task, second_police_practitioner):
    claim_task(session, clock, user("police-practitioner"), respond_task.id)
    before, state = counts(session), task_state(session, respond_task.id)
    with pytest.raises(Conflict):
        claim_task(session, clock, second_police_practitioner, respond_task.id)
    with pytest.raises(Conflict):
        complete_task(session, clock, second_police_practitioner, respond_task.id, RESPOND)
    assert counts(session) == before
    assert task_state(session, respond_task.id) == state


# --- completing -----------------------------------------------------------------------------------------------

def test_completing_twice_is_a_conflict_and_changes_nothing(session, clock, user, respond_task):
    practitioner = user("police-practitioner")
    complete_task(session, clock, practitioner, respond_task.id, RESPOND)
    before, state = counts(session), task_state(session, respond_task.id)
    challenge_state = session.get(Challenge, respond_task.challenge_id).state
    clock.advance(minutes=1)
    with pytest.raises(Conflict):
        complete_task(session, clock, practitioner, respond_task.id, RESPOND)
    assert counts(session) == before
    assert task_state(session, respond_task.id) == state
    assert session.get(Challenge, respond_task.challenge_id).state == challenge_state


def test_completing_a_completed_task_by_someone_else_is_a_conflict(
        session, clock, user, respond_task, second_police_practitioner):
    complete_task(session, clock, user("police-practitioner"), respond_task.id, RESPOND)
    before = counts(session)
    with pytest.raises(Conflict):
        complete_task(session, clock, second_police_practitioner, respond_task.id, RESPOND)
    assert counts(session) == before


def test_completing_with_no_answers_gives_a_message_per_field_and_changes_nothing(
        session, clock, user, respond_task):
    before, state = counts(session), task_state(session, respond_task.id)
    with pytest.raises(Invalid) as refused:
        complete_task(session, clock, user("police-practitioner"), respond_task.id, {})
    assert refused.value.errors == {"rationale": "This answer is required.", "response": "This answer is required."}
    assert counts(session) == before
    assert task_state(session, respond_task.id) == state


def test_completing_with_one_answer_missing_and_one_unexpected_names_both(session, clock, user, respond_task):
    before, state = counts(session), task_state(session, respond_task.id)
    with pytest.raises(Invalid) as refused:
        complete_task(session, clock, user("police-practitioner"), respond_task.id,
                      {"rationale": "Threshold not met.", "response": "", "mood": "cross"})
    assert refused.value.errors == {"response": "This answer is required.", "mood": "Unexpected answer."}
    assert counts(session) == before
    assert task_state(session, respond_task.id) == state


def test_a_wrong_role_completing_is_forbidden_and_changes_nothing(session, clock, user, respond_task):
    before, state = counts(session), task_state(session, respond_task.id)
    with pytest.raises(Forbidden):
        complete_task(session, clock, user("csc-practitioner"), respond_task.id, RESPOND)
    with pytest.raises(NotFound):
        complete_task(session, clock, user("health-practitioner"), respond_task.id, RESPOND)
    assert counts(session) == before
    assert task_state(session, respond_task.id) == state


# --- raising: refused with the field named, no challenge created ------------------------------------------------

def refused_raise(session, clock, raiser, answers, raised_at=None) -> dict[str, str]:
    before = counts(session)
    with pytest.raises(Invalid) as refused:
        raise_challenge(session, clock, raiser, answers, raised_at=raised_at)
    session.rollback()
    assert counts(session) == before
    assert session.scalar(select(func.count(Challenge.id))) == 0
    return refused.value.errors


def test_raising_against_your_own_agency_is_refused(session, clock, user, agency):
    errors = refused_raise(session, clock, user("csc-practitioner"), raise_answers(agency("Darlington Children").id))
    assert errors == {"receiving_agency_id": "A professional challenge is made to another agency, not your own."}


def test_raising_against_the_partnership_body_is_refused(session, clock, user, agency):
    errors = refused_raise(session, clock, user("csc-practitioner"), raise_answers(agency("DSP Business Unit").id))
    assert errors == {"receiving_agency_id": "Choose an agency of your partnership."}


def test_raising_against_an_agency_that_does_not_exist_is_refused(session, clock, user, police):
    errors = refused_raise(session, clock, user("csc-practitioner"), raise_answers(police.id + 1000))
    assert errors == {"receiving_agency_id": "Choose an agency of your partnership."}


def test_raising_with_a_raised_at_over_a_year_ahead_is_refused(session, clock, user, police):
    errors = refused_raise(session, clock, user("csc-practitioner"), raise_answers(police.id),
                           raised_at=clock.now() + timedelta(days=400))
    assert errors == {"raised_at": "raised_at can be at most a year ahead of now."}


def test_raising_with_a_naive_raised_at_is_refused(session, clock, user, police):
    errors = refused_raise(session, clock, user("csc-practitioner"), raise_answers(police.id),
                           raised_at=datetime(2026, 12, 18, 14, 0))
    assert set(errors) == {"raised_at"}


def test_raising_with_a_concern_first_raised_tomorrow_is_refused(session, clock, user, police):
    errors = refused_raise(session, clock, user("csc-practitioner"),
                           raise_answers(police.id, concern_first_raised="2026-12-19"))
    assert errors == {"concern_first_raised": "This date cannot be in the future."}


def test_a_concern_first_raised_today_is_accepted(session, clock, user, police):
    raised = raise_challenge(session, clock, user("csc-practitioner"),
                             raise_answers(police.id, concern_first_raised="2026-12-18"))
    assert raised.status == "open"


@pytest.mark.parametrize("missing", ["subject_reference", "area", "summary", "cp_or_lac", "significant_risk",
                                     "receiving_agency_id"])
def test_raising_with_a_missing_field_names_it(session, clock, user, police, missing):
    answers = raise_answers(police.id)
    del answers[missing]
    errors = refused_raise(session, clock, user("csc-practitioner"), answers)
    assert errors == {missing: "This answer is required."}


def test_raising_with_several_fields_wrong_names_each(session, clock, user, police):
    errors = refused_raise(session, clock, user("csc-practitioner"),
                           raise_answers(police.id, summary="", area="astrology", subject_reference="Jane Doe!"))
    assert set(errors) == {"summary", "area", "subject_reference"}
    assert errors["area"] == "Choose one of the options."


def test_a_user_with_no_agency_cannot_raise(session, clock, police):
    nobody = create_user(session, "nobody", "Nobody", "nobody@test.invalid", "demo-password", [])
    session.commit()
    before = counts(session)
    with pytest.raises(Forbidden):
        raise_challenge(session, clock, nobody, raise_answers(police.id))
    assert counts(session) == before
