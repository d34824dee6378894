"""The raise form's "concern first raised" and who was challenged. Dudley's procedure numbers its days from the
concern (day 1 is the day the concern arose), so its deadlines count from that date, over the bank holidays; a
deadline already past when the challenge is raised fires then, in order, and the case says so. Other
partnerships record the date but count from the raising. Who was challenged is kept with the raising, and
erased with the rest of the words."""

from __future__ import annotations

import zlib

import pytest
from sqlalchemy import select

from engine import retention
from engine.audit.log import extend
from engine.audit.notes import Signer
from engine.cases.raising import raise_challenge
from engine.errors import Invalid
from engine.models import Challenge, Event, Task
from engine.procedures.check import problems_of
from engine.procedures.files import WORKFLOWS, read_folder
from engine.queries.records import challenged, deadline_basis, history, raised_answers
from tests.conftest import raise_answers
from tests.walk import Walk, at

NAMED = {"challenged_role": "Detective sergeant", "challenged_name": "Jo Smith",
         "challenged_team": "Public protection unit", "challenged_contact": "jo.smith@police.example.uk"}


@pytest.fixture
def dudley(session, clock, demo):
    return Walk(session, clock, "dudley")


def _basis(walk: Walk):
    challenge = walk.refresh()
    raised = raised_answers(walk.session, challenge)
    return deadline_basis(challenge, raised, history(walk.session, challenge))


def test_dudley_counts_its_days_from_the_concern_over_the_bank_holidays(dudley, clock):
    # Tuesday 29 December 2026, 10:00: a teacher raises a concern first raised on Christmas Eve (day 1). Day 2
    # is today (25 and 28 December are bank holidays, 26 and 27 the weekend), so stage 1 ends tonight, not
    # tomorrow as it would counted from today.
    clock.set(at(2026, 12, 29, 10))
    dudley.raise_("dudley-school-practitioner", "West Midlands Police", concern_first_raised="2026-12-24")
    assert dudley.dues() == {"s1_respond": at(2026, 12, 29, 17)}
    basis = _basis(dudley)
    assert (basis.counts_from.isoformat(), basis.from_concern, basis.passed_at_raising) == ("2026-12-24", True, ())
    assert basis.sentence().startswith("Deadlines count from Thursday 24 December 2026, the day the concern was "
                                       "first raised")
    # Unanswered, it moves to stage 2 at day 2's end, which ends on day 9: Friday 8 January 2027 (1 January is
    # a bank holiday), where counted from today it would be Monday 11 January.
    assert dudley.fire(at(2026, 12, 29, 17)) == 1
    assert dudley.dues() == {"s2_respond": at(2027, 1, 8, 17)}
    assert dudley.body("dudley-police-practitioner", f"{dudley.ref}: stage 1 deadline missed, now at stage 2") \
        .endswith("to be concluded by Friday 8 January 2027, 17:00.")


def test_a_concern_raised_today_or_not_given_counts_from_the_raising(dudley, clock):
    dudley.raise_("dudley-school-practitioner", "West Midlands Police", concern_first_raised="2026-12-18")
    assert dudley.dues() == {"s1_respond": at(2026, 12, 21, 17)}
    assert _basis(dudley).from_concern is False
    other = Walk(dudley.session, clock, "dudley")
    other.raise_("dudley-school-practitioner", "West Midlands Police")
    assert other.dues() == {"s1_respond": at(2026, 12, 21, 17)}
    basis = _basis(other)
    assert basis.sentence() == "Deadlines count from Friday 18 December 2026, the day the challenge was raised."


def test_a_deadline_already_past_at_raising_fires_then_and_the_case_starts_at_stage_2(dudley, clock):
    # Friday 18 December 2026, 15:00: the concern first arose on Monday 14 December (day 1), so stage 1 ended
    # on Tuesday 15 December. The procedure's timetable has the case with the line managers by now (stage 2
    # concluded by day 9, Thursday 24 December): it starts there, and those involved are told why.
    raised = clock.now()
    challenge = dudley.raise_("dudley-school-practitioner", "West Midlands Police", concern_first_raised="2026-12-14")
    ref = challenge.reference
    assert dudley.refresh().current_stage == 2
    assert dudley.dues() == {"s2_respond": at(2026, 12, 24, 17)}
    assert dudley.sees("dudley-police-manager") == ["s2_respond"]
    events = dudley.events()
    assert events[0].kind == "challenge_raised"
    assert all(e.at == raised for e in events)  # nothing of the case is dated before it was raised
    missed = [e for e in events if e.kind == "deadline_missed"]
    assert [(e.data["stage"], e.data["due"]) for e in missed] == [(1, at(2026, 12, 15, 17).isoformat())]
    notes = dudley.notes()
    assert ("dudley-police-practitioner", f"{ref}: stage 1 deadline missed, now at stage 2") in notes
    # The stage 1 reminder's moment and its deadline both passed before the raising: it is not sent.
    assert not [subject for _, subject in notes if "approaching" in subject]
    basis = _basis(dudley)
    assert basis.passed_at_raising == (1,)
    assert "the deadline of stage 1 had already passed, so it moved on at once" in basis.sentence()


def test_other_partnerships_record_the_concern_date_but_count_from_the_raising(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    plain = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary", concern_first_raised="2026-12-01")
    plain.raise_("csc-practitioner", "Durham Constabulary")
    assert walk.dues() == plain.dues()
    assert raised_answers(session, walk.refresh())["concern_first_raised"] == "2026-12-01"
    basis = _basis(walk)
    assert (basis.from_concern, basis.counts_from) == (False, clock.now().date())


def test_a_concern_first_raised_after_the_challenge_is_refused(dudley, clock, session):
    before = session.query(Challenge).count()
    with pytest.raises(Invalid) as refused:
        dudley.raise_("dudley-school-practitioner", "West Midlands Police", concern_first_raised="2026-12-19")
    assert refused.value.errors == {"concern_first_raised": "This date cannot be in the future."}
    session.rollback()
    # A challenge recorded as raised on Wednesday (through the API) cannot follow a concern of Thursday.
    with pytest.raises(Invalid) as refused:
        raise_challenge(session, clock, dudley.user("dudley-school-practitioner"),
                        raise_answers(dudley.agency("West Midlands Police").id, concern_first_raised="2026-12-17"),
                        raised_at=at(2026, 12, 16, 10))
    assert refused.value.errors == {
        "concern_first_raised": "The concern cannot have been first raised after the challenge."}
    session.rollback()
    assert session.query(Challenge).count() == before


def test_the_challenged_role_is_required_and_the_contact_checked(dudley, session):
    with pytest.raises(Invalid) as refused:
        dudley.raise_("dudley-school-practitioner", "West Midlands Police", challenged_role="",
                      challenged_contact="call the front desk")
    assert refused.value.errors == {
        "challenged_role": "This answer is required.",
        "challenged_contact": "Enter an email address, such as name@agency.gov.uk, or a phone number, such as "
                              "01384 812345."}
    session.rollback()
    with pytest.raises(Invalid) as refused:  # spaces are no role (the API does not trim what it is sent)
        dudley.raise_("dudley-school-practitioner", "West Midlands Police", challenged_role="   ")
    assert refused.value.errors == {"challenged_role": "This answer is required."}
    session.rollback()
    dudley.raise_("dudley-school-practitioner", "West Midlands Police",
                  **{**NAMED, "challenged_contact": "0121 626 5000"})
    assert [(a.label, a.text) for a in challenged(raised_answers(session, dudley.refresh()))] == [
        ("Role", "Detective sergeant"), ("Name", "Jo Smith"), ("Team or service", "Public protection unit"),
        ("Contact", "0121 626 5000")]


def test_a_procedure_must_read_what_it_says_its_deadlines_count_from():
    files = read_folder(WORKFLOWS / "dudley")
    assert problems_of(files)[0] == []
    wrong = files.__class__(**{**files.__dict__, "meta": {**files.meta, "deadlines_from": "the weather"}})
    assert [p.message for p in problems_of(wrong)[0]] == [
        'procedure.json\'s deadlines_from must be "raised" or "concern_first_raised"']
    darlington = read_folder(WORKFLOWS / "darlington")
    unread = darlington.__class__(**{**darlington.__dict__,
                                     "meta": {**darlington.meta, "deadlines_from": "concern_first_raised"}})
    assert "never reads deadlines_from" in problems_of(unread)[0][0].message


def test_who_was_challenged_is_erased_with_the_other_words(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary", **NAMED)
    walk.act("police-practitioner", {"rationale": "Below threshold.", "response": "We will look again."},
             at(2026, 12, 18, 16))
    walk.act("csc-practitioner", {"discussion": "Agreed a strategy discussion.", "decision": "resolved",
                                  "satisfied": "yes", "reason": "It addresses the concern."}, at(2026, 12, 18, 16, 30))
    assert walk.challenge.status == "closed"
    demo.retention_days = 30
    session.commit()
    extend(session, clock, Signer.generate("test.invalid/audit"))
    clock.set(at(2027, 1, 18, 16, 30))
    assert retention.erase_due(session, clock) == 1
    session.expire_all()
    challenge = session.get(Challenge, walk.challenge.id)
    kept = str([e.data for e in session.scalars(select(Event).where(Event.challenge_id == challenge.id))])
    kept += zlib.decompress(challenge.state).decode()
    kept += str([t.data for t in session.scalars(select(Task).where(Task.challenge_id == challenge.id))])
    for words in NAMED.values():
        assert words not in kept
    assert challenged(raised_answers(session, challenge)) == []
