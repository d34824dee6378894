"""Dudley Safeguarding People Partnership (seed 002), walked stage by stage through the engine's services with
the clock moved across Christmas and New Year 2026: day-N deadlines, the school's chair of governors alongside
the head teacher, written representations to the DSPP Executive, the Professional Challenge and Resolution
Template sent to the DSPP Business Unit, and the third-sector worker who is also the safeguarding lead."""

from __future__ import annotations

import pytest

from engine.queries.documents import build
from tests.walk import Walk, at

RESPOND = {"rationale": "The strategy discussion threshold was not met on the information we had.",
           "response": "We will look again at the school's chronology."}
ESCALATE = {"discussion": "We went through the chronology together.", "decision": "escalate",
            "reason": "The police still will not hold a strategy discussion."}
RESOLVED = {"discussion": "We went through the chronology together.", "decision": "resolved",
            "satisfied": "yes", "reason": "A strategy discussion is booked for Tuesday."}
ESCALATION = {"problem": "No strategy discussion after a third disclosure.",
              "aim": "A strategy discussion within two working days.",
              "representative": "A. Khan, Assistant Director (DSCPG)"}
GOVERNORS = {"view": "The governing body supports the head teacher's escalation.", "supports_head_teacher": True}
REPRESENTATION = {"position": "The school has three disclosures on record.",
                  "outcome_sought": "A strategy discussion and a review of the threshold decision."}
CONSIDER = {"considerations": "Only the school's representation was received.", "call_meeting": True,
            "invitees": "Both DSCPG representatives and the DSL."}
MEETING = {"meeting_date": "2027-01-18", "attendees": "DSPP Executive, both representatives, the school's DSL.",
           "notes": "Agreed the disclosures meet the threshold for a strategy discussion."}
TEMPLATE = {"nature_of_challenge": "No strategy discussion after repeated disclosures.",
            "steps_taken": "Practitioners, line managers, senior managers and DSCPG representatives met.",
            "recommendation": "Hold a strategy discussion within two working days.",
            "actions": "Police to convene it; the school to share its chronology.", "agencies_accept": True,
            "satisfied": "partly"}
ESCALATION_TITLE = "Stage 3: senior manager escalates to the DSAB / DSCPG representative"


@pytest.fixture
def walk(session, clock, demo):
    return Walk(session, clock, "dudley")


def test_a_school_challenge_walks_all_four_stages_over_christmas_and_new_year(walk):
    # Friday 18 December 2026, 15:00: a teacher challenges West Midlands Police. Day 1 is today.
    challenge = walk.raise_("dudley-school-practitioner", "West Midlands Police")
    ref = challenge.reference
    assert ref == f"DUD-2026-{challenge.id:05d}"
    # Stage 1: one working day, so 17:00 on Monday 21 December (the weekend does not count).
    assert walk.dues() == {"s1_respond": at(2026, 12, 21, 17)}
    assert walk.sees("dudley-police-practitioner") == ["s1_respond"]
    assert walk.sees("dudley-school-practitioner") == []
    assert walk.sees("dudley-csc-practitioner") == []
    assert walk.sees("dudley-police-manager") == []
    assert walk.notes() == {("dudley-police-practitioner", f"{ref}: new task - Stage 1: respond to the challenge")}

    assert walk.fire(at(2026, 12, 19, 12)) == 0  # Saturday: nothing is due
    # The reminder comes four hours before the deadline, on Monday.
    assert walk.fire(at(2026, 12, 21, 13)) == 1
    assert walk.notes() == {("dudley-police-practitioner", f"{ref}: stage 1 deadline approaching")}

    walk.complete("dudley-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 14))
    assert walk.sees("dudley-school-practitioner") == ["s1_decide"]
    # The decision opens after the reminder moment, so its holder is reminded at once.
    assert walk.notes() == {
        ("dudley-school-practitioner", f"{ref}: new task - Stage 1: record the discussion and decide"),
        ("dudley-school-practitioner", f"{ref}: stage 1 deadline approaching"),
    }
    walk.complete("dudley-school-practitioner", "s1_decide", ESCALATE, at(2026, 12, 21, 15))

    # Stage 2: by day 9. Day 2 Mon 21, 3 Tue 22, 4 Wed 23, 5 Thu 24, then Christmas Day (Fri 25), the weekend
    # and the Boxing Day substitute (Mon 28), 6 Tue 29, 7 Wed 30, 8 Thu 31, New Year's Day (Fri 1 Jan) and
    # the weekend, so day 9 is Monday 4 January 2027.
    assert walk.refresh().current_stage == 2
    assert walk.dues() == {"s2_respond": at(2027, 1, 4, 17)}
    assert walk.sees("dudley-police-manager") == ["s2_respond"]
    assert walk.sees("dudley-police-practitioner") == []
    assert walk.notes() == {
        ("dudley-police-manager", f"{ref}: new task - Stage 2: line manager / safeguarding lead responds"),
        ("dudley-school-practitioner", f"{ref}: now at stage 2"),
        # The raising line manager / safeguarding lead is involved from the start of stage 2.
        ("dudley-school-manager", f"{ref}: stage 2 has started, and you are involved"),
    }
    # Reminder two working days before day 9: Thu 31 Dec is one, Wed 30 Dec is two.
    assert walk.fire(at(2026, 12, 30, 16, 59)) == 0
    assert walk.fire(at(2026, 12, 30, 17)) == 1
    assert walk.notes() == {("dudley-police-manager", f"{ref}: stage 2 deadline approaching")}
    walk.complete("dudley-police-manager", "s2_respond", RESPOND, at(2026, 12, 31, 10))
    assert walk.sees("dudley-school-manager") == ["s2_decide"]
    walk.notes()
    walk.complete("dudley-school-manager", "s2_decide", ESCALATE, at(2027, 1, 4, 9))

    # Stage 3, by day 14 (Mon 11 Jan): both senior managers escalate, and as the raising agency is a school its
    # chair of governors takes part alongside the head teacher.
    assert walk.refresh().current_stage == 3
    assert walk.dues() == {"s3_escalate_raising": at(2027, 1, 11, 17), "s3_escalate_receiving": at(2027, 1, 11, 17),
                           "s3_governors_raising": at(2027, 1, 11, 17)}
    assert walk.sees("dudley-school-head") == ["s3_escalate_raising"]
    assert walk.sees("dudley-school-governors") == ["s3_governors_raising"]
    assert walk.sees("dudley-police-senior") == ["s3_escalate_receiving"]
    assert walk.sees("dudley-school-manager") == []
    assert walk.notes() == {
        ("dudley-school-practitioner", f"{ref}: stage 2 not resolved, escalated"),
        ("dudley-school-practitioner", f"{ref}: now at stage 3"),
        ("dudley-school-head", f"{ref}: new task - {ESCALATION_TITLE}"),
        ("dudley-police-senior", f"{ref}: new task - {ESCALATION_TITLE}"),
        ("dudley-school-governors", f"{ref}: new task - Stage 3: chair of governors, alongside the head teacher"),
    }
    # The outcome is fed back to the practitioner who raised the concern.
    assert "The police still will not hold a strategy discussion." in walk.body(
        "dudley-school-practitioner", f"{ref}: stage 2 not resolved, escalated")
    walk.complete("dudley-school-head", "s3_escalate_raising", ESCALATION, at(2027, 1, 5, 10))
    walk.complete("dudley-police-senior", "s3_escalate_receiving", ESCALATION, at(2027, 1, 6, 10))
    assert walk.sees("dudley-police-rep") == []  # the representatives wait for the chair of governors
    walk.notes()
    # Reminder two working days before day 14 (Fri 8 is one, Thu 7 is two): only the chair's task is open.
    assert walk.fire(at(2027, 1, 7, 17)) == 1
    assert walk.notes() == {("dudley-school-governors", f"{ref}: stage 3 deadline approaching")}
    walk.complete("dudley-school-governors", "s3_governors_raising", GOVERNORS, at(2027, 1, 8, 9))
    assert walk.dues() == {"s3_respond": at(2027, 1, 11, 17)}
    assert walk.sees("dudley-police-rep") == ["s3_respond"]
    walk.complete("dudley-police-rep", "s3_respond", RESPOND, at(2027, 1, 8, 12))
    assert walk.sees("dudley-school-rep") == ["s3_decide"]
    walk.notes()
    walk.complete("dudley-school-rep", "s3_decide", ESCALATE, at(2027, 1, 11, 10))

    # Stage 4: written representations by day 16 (Wed 13 Jan), the recommendation by day 21 (Wed 20 Jan).
    assert walk.refresh().current_stage == 4
    assert walk.dues() == {"s4_representation_raising": at(2027, 1, 13, 17),
                           "s4_representation_receiving": at(2027, 1, 13, 17)}
    assert walk.sees("dudley-school-rep") == ["s4_representation_raising"]
    assert walk.sees("dudley-police-rep") == ["s4_representation_receiving"]
    assert walk.sees("dudley-executive") == []
    notes = walk.notes()
    assert ("dudley-executive", f"{ref}: challenge escalated to the DSPP Executive (stage 4)") in notes
    assert ("dudley-business-unit", f"{ref}: challenge escalated to the DSPP Executive (stage 4)") in notes
    assert ("dudley-school-practitioner", f"{ref}: stage 3 not resolved, escalated") in notes
    assert ("dudley-school-practitioner", f"{ref}: now at stage 4") in notes
    # Reminder the working day before day 16.
    assert walk.fire(at(2027, 1, 12, 17)) == 1
    assert walk.notes() == {("dudley-school-rep", f"{ref}: written representation due"),
                            ("dudley-police-rep", f"{ref}: written representation due")}
    walk.complete("dudley-school-rep", "s4_representation_raising", REPRESENTATION, at(2027, 1, 13, 10))
    # The police send none by day 16: the Executive is told and goes on without it.
    assert walk.fire(at(2027, 1, 13, 17)) == 1
    assert [r.status for r in walk.rows("s4_representation_receiving")] == ["lapsed"]
    assert walk.dues() == {"s4_consider": at(2027, 1, 20, 17)}
    assert walk.sees("dudley-executive") == ["s4_consider"]
    assert walk.notes() == {
        ("dudley-executive", f"{ref}: no written representation from West Midlands Police"),
        ("dudley-executive", f"{ref}: new task - Stage 4: consider the written representations"),
    }
    walk.complete("dudley-executive", "s4_consider", CONSIDER, at(2027, 1, 14, 10))
    assert walk.sees("dudley-executive") == ["s4_meeting"]
    walk.complete("dudley-executive", "s4_meeting", MEETING, at(2027, 1, 18, 16))
    walk.notes()
    # Reminder two working days before day 21 (Tue 19 is one, Mon 18 is two).
    assert walk.fire(at(2027, 1, 18, 17)) == 1
    assert walk.notes() == {("dudley-executive", f"{ref}: stage 4 due by day 21")}
    walk.complete("dudley-executive", "s4_template", TEMPLATE, at(2027, 1, 19, 11))

    closed = walk.refresh()
    assert (closed.status, closed.outcome, closed.current_stage) == ("closed", "resolved", 4)
    assert closed.closed_at == at(2027, 1, 19, 11)
    assert closed.next_timer_due is None
    notes = walk.notes()
    template_subject = f"{ref}: stage 4 resolution - Professional Challenge and Resolution Template"
    assert (("dudley-business-unit", template_subject) in notes
            and ("dudley-executive", template_subject) not in notes)
    body = walk.body("dudley-business-unit", template_subject)
    assert "Recommendation: Hold a strategy discussion within two working days." in body
    assert "Action and resolution: Police to convene it; the school to share its chronology." in body
    assert "Both agencies accept the recommendation: Yes" in body
    recommendation = f"{ref}: recommendation of the DSPP Executive"
    assert {("dudley-school-practitioner", recommendation), ("dudley-police-rep", recommendation),
            ("dudley-school-rep", recommendation), ("dudley-executive", recommendation)} <= notes
    assert ("dudley-business-unit", recommendation) not in notes

    record = walk.record()
    assert [(stage, bpmn_id, status) for stage, bpmn_id, status, _ in record] == [
        (1, "s1_respond", "completed"), (1, "s1_decide", "completed"),
        (2, "s2_respond", "completed"), (2, "s2_decide", "completed"),
        (3, "s3_escalate_raising", "completed"), (3, "s3_escalate_receiving", "completed"),
        (3, "s3_governors_raising", "completed"), (3, "s3_respond", "completed"), (3, "s3_decide", "completed"),
        (4, "s4_representation_raising", "completed"), (4, "s4_representation_receiving", "lapsed"),
        (4, "s4_consider", "completed"), (4, "s4_meeting", "completed"), (4, "s4_template", "completed"),
    ]
    template = record[-1][3]
    assert template["Recommendation of the DSPP Executive"] == "Hold a strategy discussion within two working days."
    assert template["Do both agencies accept the recommendation?"] == "Yes"
    assert record[6][3]["Does the chair of governors support the head teacher's position?"] == "Yes"

    # The printable Professional Challenge and Resolution Template holds the disagreement, then the stage 4 tasks.
    document = build(walk.session, closed, "resolution_template")
    assert document.title == "Professional Challenge and Resolution Template"
    assert [s.heading for s in document.sections] == [
        "The disagreement",
        "Stage 4: written representation to the DSPP Executive (Dudley Primary School)",
        "Stage 4: written representation to the DSPP Executive (West Midlands Police)",
        "Stage 4: consider the written representations (DSPP Business Unit)",
        "Stage 4: record the meeting with the involved parties (DSPP Business Unit)",
        "Stage 4: Professional Challenge and Resolution Template (DSPP Business Unit)",
    ]


def test_resolved_at_stage_1_closes_without_telling_the_partnership(walk):
    challenge = walk.raise_("dudley-csc-practitioner", "Dudley Group NHS Foundation Trust")
    ref = challenge.reference
    walk.complete("dudley-health-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 9))
    walk.complete("dudley-csc-practitioner", "s1_decide", RESOLVED, at(2026, 12, 21, 10))
    closed = walk.refresh()
    assert (closed.status, closed.outcome, closed.current_stage) == ("closed", "resolved", 1)
    assert closed.next_timer_due is None
    assert walk.open_tasks() == {}
    notes = walk.notes()
    assert {("dudley-csc-practitioner", f"{ref}: resolved at stage 1"),
            ("dudley-health-practitioner", f"{ref}: resolved at stage 1")} <= notes
    # "If resolution is reached at stage 1 then DSPP does not need to be informed."
    assert not {n for n in notes if n[0] in ("dudley-business-unit", "dudley-executive")}
    assert walk.fire(at(2027, 2, 1, 9)) == 0


def test_the_executive_recommends_without_a_meeting_and_the_business_unit_gets_the_record(walk):
    """The last stage, resolved early in it: both representations in before day 16, no meeting called; the
    agencies do not accept the recommendation, so the outcome is the partnership's decision."""
    challenge = walk.raise_("dudley-police-practitioner", "Dudley Children's Services", subject_kind="adult")
    ref = challenge.reference
    # Nobody acts: stages 1, 2 and 3 each escalate at their deadline.
    for deadline, stage in ((at(2026, 12, 21, 17), 2), (at(2027, 1, 4, 17), 3), (at(2027, 1, 11, 17), 4)):
        assert walk.fire(deadline) == 1
        assert walk.refresh().current_stage == stage
    assert [r.status for r in walk.rows("s3_escalate_raising")] == ["lapsed"]
    notes = walk.notes()
    missed = f"{ref}: stage 3 deadline missed, now at stage 4"
    assert ("dudley-police-practitioner", missed) in notes
    assert "the DSPP Executive, to be concluded by Wednesday 20 January 2027, 17:00" in walk.body(
        "dudley-police-practitioner", missed)
    # An adult's challenge goes to the Dudley Safeguarding Adults Board representatives.
    assert "The DSAB representatives could not resolve" in walk.body(
        "dudley-executive", f"{ref}: challenge escalated to the DSPP Executive (stage 4)")
    walk.complete("dudley-police-rep", "s4_representation_raising", REPRESENTATION, at(2027, 1, 12, 10))
    walk.complete("dudley-csc-rep", "s4_representation_receiving", REPRESENTATION, at(2027, 1, 12, 11))
    walk.complete("dudley-executive", "s4_consider", dict(CONSIDER, call_meeting=False), at(2027, 1, 13, 9))
    assert list(walk.open_tasks()) == ["s4_template"]
    walk.complete("dudley-executive", "s4_template", dict(TEMPLATE, agencies_accept=False), at(2027, 1, 13, 15))
    closed = walk.refresh()
    assert (closed.status, closed.outcome) == ("closed", "decided_by_partnership")
    assert walk.rows("s4_meeting") == []
    assert "Both agencies accept the recommendation: No" in walk.body(
        "dudley-business-unit", f"{ref}: stage 4 resolution - Professional Challenge and Resolution Template")


def test_day_21_passing_tells_everyone_involved_and_the_business_unit_and_moves_nothing(walk):
    challenge = walk.raise_("dudley-csc-practitioner", "West Midlands Police")
    ref = challenge.reference
    walk.fire(at(2027, 1, 13, 17))  # to stage 4 and past day 16 with no representations
    assert list(walk.open_tasks()) == ["s4_consider"]
    walk.notes()
    # The reminder (Mon 18 Jan) and the day 21 target (Wed 20 Jan) both fall due; they fire in that order, and
    # the reminder, whose target has passed too by now, is not sent: the "past day 21" notice says it all.
    assert walk.fire(at(2027, 1, 20, 17)) == 1
    assert walk.notes() == {("dudley-executive", f"{ref}: stage 4 is past day 21"),
                            ("dudley-csc-practitioner", f"{ref}: stage 4 is past day 21"),
                            ("dudley-business-unit", f"{ref}: stage 4 is past day 21")}
    assert walk.sees("dudley-executive") == ["s4_consider"]
    assert walk.refresh().status == "open"


@pytest.mark.parametrize("raiser, receiving, chairs", [
    ("dudley-police-practitioner", "Dudley Primary School", {"s3_governors_receiving": "dudley-school-governors"}),
    ("dudley-school-practitioner", "Dudley Group NHS Foundation Trust",
     {"s3_governors_raising": "dudley-school-governors"}),
    ("dudley-csc-practitioner", "West Midlands Police", {}),
])
def test_a_schools_chair_of_governors_joins_stage_3_alongside_the_head_teacher(walk, raiser, receiving, chairs):
    walk.raise_(raiser, receiving)
    walk.fire(at(2027, 1, 4, 17))  # stages 1 and 2 pass their deadlines
    opened = walk.open_tasks()
    assert {k for k in opened if "governors" in k} == set(chairs)
    assert {"s3_escalate_raising", "s3_escalate_receiving"} <= set(opened)
    for bpmn_id, username in chairs.items():
        assert walk.sees(username) == [bpmn_id]
        assert opened[bpmn_id].role == "chair_of_governors"
        assert opened[bpmn_id].agency.name == "Dudley Primary School"
    assert walk.sees("dudley-school-head") == (
        ["s3_escalate_receiving"] if receiving == "Dudley Primary School"
        else ["s3_escalate_raising"] if raiser.startswith("dudley-school") else [])


def test_the_third_sector_worker_who_raised_it_holds_the_stage_2_task_as_safeguarding_lead(walk):
    challenge = walk.raise_("dudley-vcs-worker", "Dudley Children's Services")
    ref = challenge.reference
    assert challenge.raising_agency.name == "Dudley Community Family Support"
    walk.complete("dudley-csc-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 9))
    assert walk.sees("dudley-vcs-worker") == ["s1_decide"]
    walk.complete("dudley-vcs-worker", "s1_decide", ESCALATE, at(2026, 12, 21, 10))
    walk.complete("dudley-csc-manager", "s2_respond", RESPOND, at(2026, 12, 22, 10))
    # The same worker, now as the designated safeguarding lead, decides stage 2.
    assert walk.sees("dudley-vcs-worker") == ["s2_decide"]
    assert walk.task("s2_decide").role == "line_manager"
    assert ("dudley-vcs-worker", f"{ref}: new task - Stage 2: record the resolution and decide") in walk.notes()
    walk.complete("dudley-vcs-worker", "s2_decide", RESOLVED, at(2026, 12, 22, 15))
    closed = walk.refresh()
    assert (closed.status, closed.outcome, closed.current_stage) == ("closed", "resolved", 2)
    assert [(r.completed_by.username, r.bpmn_id) for r in walk.rows("s1_decide") + walk.rows("s2_decide")] == [
        ("dudley-vcs-worker", "s1_decide"), ("dudley-vcs-worker", "s2_decide")]


@pytest.mark.parametrize("raised, stage_1_due, day_9, day_14", [
    # Thursday 24 December is day 1. The next working day is Tuesday 29 December: Christmas Day (Fri 25), the
    # weekend and the Boxing Day substitute (Mon 28) do not count. Day 2 Tue 29, 3 Wed 30, 4 Thu 31, New Year's
    # Day and the weekend, 5 Mon 4, 6 Tue 5, 7 Wed 6, 8 Thu 7, 9 Fri 8; 10 Mon 11 ... 14 Fri 15 January.
    (at(2026, 12, 24, 11), at(2026, 12, 29, 17), at(2027, 1, 8, 17), at(2027, 1, 15, 17)),
    # Raised on Christmas Day itself: day 1 is the first working day after, Tuesday 29 December, and one working
    # day from Christmas Day also ends then. Day 2 Wed 30, 3 Thu 31, 4 Mon 4 ... 8 Fri 8, 9 Mon 11; 14 Mon 18.
    (at(2026, 12, 25, 10), at(2026, 12, 29, 17), at(2027, 1, 11, 17), at(2027, 1, 18, 17)),
])
def test_deadlines_over_christmas_land_on_the_right_working_day(walk, raised, stage_1_due, day_9, day_14):
    walk.clock.set(raised)
    walk.raise_("dudley-csc-practitioner", "West Midlands Police")
    assert walk.dues() == {"s1_respond": stage_1_due}
    walk.complete("dudley-police-practitioner", "s1_respond", RESPOND)
    walk.complete("dudley-csc-practitioner", "s1_decide", ESCALATE)
    assert walk.dues() == {"s2_respond": day_9}
    walk.complete("dudley-police-manager", "s2_respond", RESPOND)
    walk.complete("dudley-csc-manager", "s2_decide", ESCALATE)
    assert walk.dues() == {"s3_escalate_raising": day_14, "s3_escalate_receiving": day_14}
