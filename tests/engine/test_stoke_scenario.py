"""Stoke-on-Trent Safeguarding Children Partnership (seed 004), stepped escalation walked step by step through the
engine's services with the clock moved across Christmas and New Year 2026: practitioners, line managers /
safeguarding leads, the agencies' Safeguarding Partnership representatives, then SOTSCP; and the guidance on
respectful challenge and the barriers to challenge published with the procedure for the raise page."""

from __future__ import annotations

import pytest

from engine.procedures.versions import current_version
from tests.walk import Walk, at

RESPOND = {"rationale": "The assessment found no role for children's social care.",
           "response": "We will share the assessment with the police."}
ESCALATE = {"discussion": "We compared the assessment with the police intelligence.", "decision": "escalate",
            "reason": "We still disagree about the level of need."}
RESOLVED = {"discussion": "We compared the assessment with the police intelligence.", "decision": "resolved",
            "satisfied": "yes", "reason": "Children's social care will reassess this week."}
REVIEW = {"consideration": "Both representatives' accounts and the assessment.",
          "recommendation": "A joint reassessment within ten working days.", "agencies_accept": True,
          "satisfied": "yes"}


@pytest.fixture
def walk(session, clock, demo):
    return Walk(session, clock, "stoke")


def test_a_challenge_steps_up_to_sotscp_over_christmas_and_new_year(walk):
    challenge = walk.raise_("stoke-police-practitioner", "Stoke-on-Trent Children's Social Care")
    ref = challenge.reference
    assert ref == f"STO-2026-{challenge.id:05d}"
    # Step 1: two working days from Friday 18 December: Mon 21, Tue 22.
    assert walk.dues() == {"s1_respond": at(2026, 12, 22, 17)}
    assert walk.sees("stoke-csc-practitioner") == ["s1_respond"]
    assert walk.sees("stoke-police-practitioner") == []
    assert walk.sees("stoke-csc-manager") == []
    assert walk.notes() == {("stoke-csc-practitioner", f"{ref}: new task - Step 1: respond to the challenge")}
    assert walk.fire(at(2026, 12, 21, 16, 59)) == 0
    assert walk.fire(at(2026, 12, 21, 17)) == 1  # the end of the first working day
    assert walk.notes() == {("stoke-csc-practitioner", f"{ref}: step 1 deadline approaching")}
    walk.complete("stoke-csc-practitioner", "s1_respond", RESPOND, at(2026, 12, 22, 10))
    assert walk.sees("stoke-police-practitioner") == ["s1_decide"]
    walk.notes()
    walk.complete("stoke-police-practitioner", "s1_decide", ESCALATE, at(2026, 12, 22, 11))

    # Step 2: three working days from Tue 22 Dec: Wed 23, Thu 24, then (25 to 28 December off) Tue 29.
    assert walk.refresh().current_stage == 2
    assert walk.dues() == {"s2_respond": at(2026, 12, 29, 17)}
    assert walk.sees("stoke-csc-manager") == ["s2_respond"]
    assert walk.notes() == {
        ("stoke-csc-manager", f"{ref}: new task - Step 2: line manager / safeguarding lead responds"),
        ("stoke-police-practitioner", f"{ref}: now at step 2"),
        # The raising line manager / safeguarding lead is involved from the start of step 2.
        ("stoke-police-manager", f"{ref}: step 2 has started, and you are involved"),
    }
    assert walk.fire(at(2026, 12, 24, 17)) == 1  # reminder one working day before (Christmas Eve)
    assert walk.notes() == {("stoke-csc-manager", f"{ref}: step 2 deadline approaching")}
    # The manager does not respond: at the deadline it steps up to the representatives.
    assert walk.fire(at(2026, 12, 29, 17)) == 1
    assert [r.status for r in walk.rows("s2_respond")] == ["lapsed"]
    assert walk.refresh().current_stage == 3
    # Step 3: five working days from Tue 29 Dec: Wed 30, Thu 31, (New Year's Day) Mon 4, Tue 5, Wed 6 January.
    assert walk.dues() == {"s3_respond": at(2027, 1, 6, 17)}
    assert walk.sees("stoke-csc-rep") == ["s3_respond"]
    assert walk.sees("stoke-csc-manager") == []
    missed = f"{ref}: step 2 deadline passed, now at step 3"
    assert walk.notes() == {
        # everyone involved, and the managers whose task lapsed
        ("stoke-police-practitioner", missed), ("stoke-csc-practitioner", missed), ("stoke-csc-manager", missed),
        ("stoke-csc-rep", missed),
        ("stoke-csc-rep", f"{ref}: new task - Step 3: Safeguarding Partnership representative responds"),
        ("stoke-police-practitioner", f"{ref}: now at step 3"),
    }
    assert "escalated to step 3: the agencies' Safeguarding Partnership representatives." in walk.body(
        "stoke-csc-manager", missed)
    # Reminder two working days before (Tue 5 is one, Mon 4 is two).
    assert walk.fire(at(2027, 1, 4, 17)) == 1
    assert walk.notes() == {("stoke-csc-rep", f"{ref}: step 3 deadline approaching")}
    walk.complete("stoke-csc-rep", "s3_respond", RESPOND, at(2027, 1, 5, 10))
    assert walk.sees("stoke-police-rep") == ["s3_decide"]
    walk.notes()
    walk.complete("stoke-police-rep", "s3_decide", ESCALATE, at(2027, 1, 6, 10))

    # Step 4: SOTSCP, a target of ten working days from Wed 6 Jan: Wed 20 January.
    assert walk.refresh().current_stage == 4
    assert walk.dues() == {"s4_review": at(2027, 1, 20, 17)}
    assert walk.sees("stoke-sotscp") == ["s4_review"]
    assert walk.sees("stoke-police-rep") == []
    escalated = f"{ref}: dispute escalated to SOTSCP (step 4)"
    assert walk.notes() == {
        ("stoke-sotscp", escalated), ("stoke-business-unit", escalated),
        ("stoke-sotscp", f"{ref}: new task - Step 4: SOTSCP considers the dispute and recommends"),
        ("stoke-police-practitioner", f"{ref}: now at step 4"),
    }
    # Reminder three working days before (Tue 19, Mon 18, Fri 15), then the target passes: people are told, the
    # task stays with SOTSCP.
    assert walk.fire(at(2027, 1, 15, 17)) == 1
    assert walk.notes() == {("stoke-sotscp", f"{ref}: step 4 is waiting for SOTSCP")}
    assert walk.fire(at(2027, 1, 20, 17)) == 1
    overdue = f"{ref}: step 4 is overdue"
    assert walk.notes() == {
        ("stoke-sotscp", overdue), ("stoke-business-unit", overdue), ("stoke-police-practitioner", overdue),
        ("stoke-csc-practitioner", overdue), ("stoke-csc-rep", overdue), ("stoke-police-rep", overdue),
    }
    assert walk.sees("stoke-sotscp") == ["s4_review"]
    walk.complete("stoke-sotscp", "s4_review", REVIEW, at(2027, 1, 21, 10))

    closed = walk.refresh()
    assert (closed.status, closed.outcome, closed.current_stage) == ("closed", "resolved", 4)
    assert closed.next_timer_due is None
    recommendation = f"{ref}: SOTSCP recommendation (step 4)"
    assert {("stoke-police-practitioner", recommendation), ("stoke-business-unit", recommendation),
            ("stoke-csc-rep", recommendation)} <= walk.notes()
    assert "Recommendation: A joint reassessment within ten working days." in walk.body(
        "stoke-business-unit", recommendation)
    record = walk.record()
    assert [(stage, bpmn_id, status) for stage, bpmn_id, status, _ in record] == [
        (1, "s1_respond", "completed"), (1, "s1_decide", "completed"),
        (2, "s2_respond", "lapsed"),
        (3, "s3_respond", "completed"), (3, "s3_decide", "completed"),
        (4, "s4_review", "completed"),
    ]
    assert record[-1][3] == {"What SOTSCP considered": "Both representatives' accounts and the assessment.",
                             "Recommendation": "A joint reassessment within ten working days.",
                             "Do both agencies accept the recommendation?": "Yes",
                             "Are those involved satisfied with the outcome?": "Yes"}


def test_resolved_at_step_1(walk):
    challenge = walk.raise_("stoke-school-practitioner", "Staffordshire Police")
    ref = challenge.reference
    walk.complete("stoke-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 9))
    walk.complete("stoke-school-practitioner", "s1_decide", RESOLVED, at(2026, 12, 21, 10))
    closed = walk.refresh()
    assert (closed.status, closed.outcome, closed.current_stage) == ("closed", "resolved", 1)
    assert walk.open_tasks() == {}
    notes = walk.notes()
    assert {("stoke-school-practitioner", f"{ref}: resolved at step 1"),
            ("stoke-police-practitioner", f"{ref}: resolved at step 1")} <= notes
    assert not {u for u, _ in notes} & {"stoke-sotscp", "stoke-business-unit"}
    assert walk.fire(at(2027, 3, 1, 9)) == 0


def test_sotscp_makes_a_recommendation_the_agencies_do_not_accept(walk):
    """The last step, settled on the day it is reached."""
    challenge = walk.raise_("stoke-health-practitioner", "Stoke Primary School")
    ref = challenge.reference
    for bpmn_id, username, answers in (
            ("s1_respond", "stoke-school-practitioner", RESPOND), ("s1_decide", "stoke-health-practitioner", ESCALATE),
            ("s2_respond", "stoke-school-manager", RESPOND), ("s2_decide", "stoke-health-manager", ESCALATE),
            ("s3_respond", "stoke-school-rep", RESPOND), ("s3_decide", "stoke-health-rep", ESCALATE)):
        walk.complete(username, bpmn_id, answers, at(2026, 12, 21, 10))
    assert walk.refresh().current_stage == 4
    # Ten working days from Mon 21 Dec: 22, 23, 24, 29, 30, 31 December, 4, 5, 6, 7 January.
    assert walk.dues() == {"s4_review": at(2027, 1, 7, 17)}
    walk.complete("stoke-sotscp", "s4_review", dict(REVIEW, agencies_accept=False), at(2026, 12, 21, 15))
    closed = walk.refresh()
    assert (closed.status, closed.outcome) == ("closed", "decided_by_partnership")
    assert ("stoke-health-practitioner", f"{ref}: SOTSCP recommendation (step 4)") in walk.notes()


def test_the_procedure_carries_the_barriers_to_challenge_for_the_raise_page(walk):
    version = current_version(walk.session, walk.agency("Staffordshire Police").partnership_id)
    assert version.procedure == "stoke"
    guidance = {item["title"]: item for item in version.meta["raise_guidance"]}
    assert list(guidance) == ["Respectful (assertive) challenge", "Barriers to professional challenge",
                              "The stepped escalation process"]
    assert guidance["Barriers to professional challenge"]["points"] == [
        "Communication skills", "Lack of confidence", "Lack of experience",
        "Lack of knowledge of process / procedures", "Types of bias", "Time constraints", "Fear / worry"]
    assert "evidence-based, child focused" in guidance["Respectful (assertive) challenge"]["text"]
