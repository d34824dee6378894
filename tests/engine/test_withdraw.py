"""A challenge withdrawn by its referrer with a reason: closed with the outcome "withdrawn", its open tasks closed
as withdrawn (gone from everyone's My tasks), its deadlines stopped (the clock moved past them fires nothing),
everyone taking part told, the reports counting the outcome, and the history still re-executing and verifying.
Anyone else, a closed challenge, a second withdrawal and a missing reason are refused with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.audit.log import extend
from engine.audit.notes import Signer
from engine.audit.reexecute import reexecute
from engine.audit.replay import steps
from engine.audit.verify import verify
from engine.cases.timers import fire_due_timers
from engine.cases.withdraw import withdraw_challenge
from engine.cases.writer import calendar_for
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import ChallengeFacts, Event, Notification, StageFacts, Task
from engine.reports.figures import report
from engine.reports.periods import parse_period
from tests.walk import Walk, at

SIGNER = Signer.generate("test.invalid/audit")
RESPOND = {"rationale": "The disclosure did not meet the threshold.", "response": "We will look at it again."}
ESCALATE = {"discussion": "We spoke and could not agree.", "decision": "escalate", "reason": "No agreement."}
REASON = "The family moved out of the area; the new local authority holds the case now."


@pytest.fixture
def walk(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary")
    return walk


def _counts(session):
    return (session.scalar(select(func.count(Event.id))), session.scalar(select(func.count(Notification.id))),
            sorted(session.execute(select(Task.id, Task.status)).all()))


def test_the_referrer_withdraws_it_tasks_close_deadlines_stop_and_everyone_is_told(session, clock, walk):
    assert walk.sees("police-practitioner") == ["s1_respond"]
    walk.notes()
    clock.set(at(2026, 12, 21, 9))
    withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, f"  {REASON}  ")
    challenge = walk.refresh()
    assert (challenge.status, challenge.outcome, challenge.closed_at, challenge.next_timer_due) == (
        "closed", "withdrawn", at(2026, 12, 21, 9), None)
    assert [row.status for row in walk.rows("s1_respond")] == ["withdrawn"]
    assert walk.sees("police-practitioner") == [] and walk.open_tasks() == {}
    kinds = [e.kind for e in walk.events()][-3:]
    assert kinds == ["challenge_withdrawn", "task_closed_by_withdrawal", "challenge_closed"]
    withdrawn = next(e for e in walk.events() if e.kind == "challenge_withdrawn")
    assert withdrawn.data["reason"] == REASON and withdrawn.data["open_tasks"] == ["s1_respond"]
    assert withdrawn.data["next_timer_due"] is not None and withdrawn.actor_id == walk.user("csc-practitioner").id
    subject = f"{walk.ref}: withdrawn by Practitioner, Darlington Children's Social Care"
    told = walk.notes()
    assert {name for name, s in told if s == subject} == {"csc-practitioner", "police-practitioner"}
    assert REASON in walk.body("police-practitioner", subject)

    # Past every deadline and reminder the case had: nothing fires, nothing is written.
    before = _counts(session)
    clock.set(at(2027, 2, 1, 12))
    assert fire_due_timers(session, clock) == 0
    assert _counts(session) == before

    # The reports see the outcome; a re-execution of the history ends where the case was when withdrawn.
    facts = session.get(ChallengeFacts, challenge.id)
    assert (facts.status, facts.outcome) == ("closed", "withdrawn")
    assert session.get(StageFacts, (challenge.id, 1)).ended_at == at(2026, 12, 21, 9)
    period = parse_period("2026-h2", None, None, clock.now().date())
    outcomes = report(session, challenge.partnership, period, calendar_for(challenge), clock.now()).table("outcomes")
    assert ["Withdrawn by the referrer", 1, 0] in outcomes.rows, outcomes.rows
    result = reexecute(session, challenge)
    assert result.matches, result.message
    # The auditor's replay shows the task withdrawn at the last step.
    assert steps(session, challenge)[-1].elements["s1_respond"]["state"] == "withdrawn"
    extend(session, clock, SIGNER)
    assert verify(session, SIGNER.verifier()).ok


def test_a_case_withdrawn_at_stage_2_after_a_missed_deadline_re_executes(session, clock, walk):
    walk.complete("police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 10))
    assert walk.fire(at(2026, 12, 21, 17, 1)) == 1  # stage 1's deadline escalates it
    walk.complete("csc-manager", "s2_review", {"justified": True, "review": "It stands."}, at(2026, 12, 22, 9))
    clock.set(at(2026, 12, 23, 12))
    withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, REASON)
    assert walk.refresh().current_stage == 2 and walk.open_tasks() == {}
    result = reexecute(session, walk.challenge)
    assert result.matches, result.message


def test_a_withdrawal_whose_deadline_was_due_but_not_yet_fired_re_executes(session, clock, walk):
    # The worker had not reached the case: the deadline it was waiting for had passed, unfired, and never fires.
    clock.set(at(2026, 12, 22, 9))
    withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, REASON)
    assert fire_due_timers(session, clock) == 0
    result = reexecute(session, walk.refresh())
    assert result.matches, result.message


def test_anyone_else_a_second_withdrawal_and_no_reason_are_refused_with_nothing_changed(session, clock, walk):
    before = _counts(session)
    with pytest.raises(Forbidden, match="Only whoever raised"):
        withdraw_challenge(session, clock, walk.user("police-practitioner"), walk.challenge.id, REASON)
    with pytest.raises(Forbidden):  # a manager of the raising agency sees it, but it is not theirs to drop
        withdraw_challenge(session, clock, walk.user("csc-manager"), walk.challenge.id, REASON)
    with pytest.raises(NotFound):
        withdraw_challenge(session, clock, walk.user("health-practitioner"), walk.challenge.id, REASON)
    with pytest.raises(Invalid) as refused:
        withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, "   ")
    assert "reason" in refused.value.errors
    with pytest.raises(Invalid):
        withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, "x" * 2001)
    assert _counts(session) == before and walk.refresh().status == "open"

    withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, REASON)
    after = _counts(session)
    with pytest.raises(Conflict, match="withdrawn already"):
        withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, REASON)
    assert _counts(session) == after


def test_a_challenge_its_procedure_closed_cannot_be_withdrawn(session, clock, walk):
    walk.act("police-practitioner", RESPOND, at(2026, 12, 18, 16))
    walk.act("csc-practitioner", {"discussion": "Agreed.", "decision": "resolved", "satisfied": "yes",
                                  "reason": "Agreed."}, at(2026, 12, 18, 16, 30))
    assert walk.challenge.status == "closed"
    before = _counts(session)
    with pytest.raises(Conflict, match="closed already"):
        withdraw_challenge(session, clock, walk.user("csc-practitioner"), walk.challenge.id, REASON)
    assert _counts(session) == before
