"""Tees (seed 003), walked stage by stage through the engine's services with the clock moved across Christmas
and New Year 2026: the Independent Reviewing Officer told at stage 2 only for a child on a Child Protection Plan
or Looked After, senior managers tier after tier, the Safeguarding Children Partnership's learning or a
resolution meeting chaired by an agency not involved, and the outcome shared with the referrer at every stage."""

from __future__ import annotations

import pytest

from engine.errors import Invalid
from engine.queries.access import can_view
from tests.walk import Walk, at

RESPOND = {"rationale": "The threshold for a strategy discussion was not met.",
           "response": "We will review the decision with the sergeant."}
ESCALATE = {"discussion": "We discussed why the practice is unsafe for the child.", "decision": "escalate",
            "reason": "No agreement on holding a strategy discussion."}
RESOLVED = {"discussion": "We discussed why the practice is unsafe for the child.", "decision": "resolved",
            "satisfied": "yes", "reason": "A strategy discussion will be held tomorrow."}
SENIOR_RESPOND = {"manager": "D. Patel, Detective Inspector", "rationale": "The decision stands on the evidence.",
                  "response": "We are willing to review it with partners."}


def tier(decision: str, manager: str = "R. Jones, Service Manager") -> dict:
    return {"manager": manager, "discussion": "The senior managers consulted immediately.",
            "professional_meeting": False, "decision": decision, "reason": f"Tier decided: {decision}.",
            **({"satisfied": "partly"} if decision == "resolved" else {})}


CONSIDER_MEETING = {"issues": "Whether the disclosure met the threshold.", "learning_identified": False,
                    "recommendations": "The meeting should settle whether a strategy discussion is held.",
                    "next_step": "resolution_meeting"}
CONSIDER_LEARNING = {"issues": "Whether the disclosure met the threshold.", "learning_identified": True,
                     "learning": "The threshold guidance is read differently by the two agencies.",
                     "procedures_group": True, "recommendations": "The Tees Procedures Group to revise the guidance.",
                     "next_step": "recommendations", "satisfied": "no"}
MEETING = {"meeting_date": "2027-01-26", "attendees": "Both agencies' senior managers; two partnership members.",
           "minutes": "The dispute was discussed in full.", "resolution": "A strategy discussion will be held.",
           "recommendations_to_agencies": "Police to record threshold reasoning on every closure.", "satisfied": "yes"}


@pytest.fixture
def walk(session, clock, demo):
    return Walk(session, clock, "tees")


def test_a_child_protection_plan_challenge_walks_all_four_stages_and_tiers(walk):
    challenge = walk.raise_("tees-csc-practitioner", "Cleveland Police", cp_or_lac="child_protection_plan")
    ref = challenge.reference
    assert ref == f"TEE-2026-{challenge.id:05d}"
    # Stage 1: two working days from Friday 18 December, so Tuesday 22 December (not the weekend).
    assert walk.dues() == {"s1_respond": at(2026, 12, 22, 17)}
    assert walk.sees("tees-police-practitioner") == ["s1_respond"]
    assert walk.sees("tees-csc-practitioner") == []
    assert walk.sees("tees-iro") == []
    assert walk.notes() == {("tees-police-practitioner", f"{ref}: new task - Stage 1: respond to the challenge")}
    assert walk.fire(at(2026, 12, 20, 12)) == 0
    assert walk.fire(at(2026, 12, 21, 17)) == 1  # reminder at the end of the first working day
    assert walk.notes() == {("tees-police-practitioner", f"{ref}: stage 1 is waiting for you")}
    walk.complete("tees-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 22, 10))
    assert walk.sees("tees-csc-practitioner") == ["s1_decide"]
    walk.notes()

    # The referrer does not decide: at the deadline it goes to the line managers, and as the child is on a
    # Child Protection Plan the Independent Reviewing Officer is told.
    assert walk.fire(at(2026, 12, 22, 17)) == 1
    assert [r.status for r in walk.rows("s1_decide")] == ["lapsed"]
    assert walk.refresh().current_stage == 2
    # Three working days from Tue 22 Dec 17:00: Wed 23, Thu 24, then (25 to 28 December off) Tue 29.
    assert walk.dues() == {"s2_respond": at(2026, 12, 29, 17)}
    assert walk.sees("tees-police-manager") == ["s2_respond"]
    missed = f"{ref}: stage 1 deadline passed, now at stage 2"
    iro = f"{ref}: professional challenge about a child on a Child Protection Plan"
    assert walk.notes() == {
        ("tees-csc-practitioner", missed), ("tees-police-practitioner", missed), ("tees-police-manager", missed),
        ("tees-iro", iro),
        ("tees-police-manager", f"{ref}: new task - Stage 2: line manager responds"),
        ("tees-csc-practitioner", f"{ref}: now at stage 2"),
        # The raising line manager is involved from the start of stage 2.
        ("tees-csc-manager", f"{ref}: stage 2 has started, and you are involved"),
    }
    assert "escalated to the line managers of Stockton-on-Tees Children's Services and Cleveland Police" in (
        walk.body("tees-iro", iro))
    assert walk.sees("tees-iro") == []  # told, not given a task
    assert can_view(walk.session, walk.user("tees-iro"), challenge.id)  # ...but can open what it links to

    assert walk.fire(at(2026, 12, 24, 17)) == 1  # reminder one working day before
    assert walk.notes() == {("tees-police-manager", f"{ref}: stage 2 is waiting for you")}
    walk.complete("tees-police-manager", "s2_respond", RESPOND, at(2026, 12, 29, 9))
    walk.complete("tees-csc-manager", "s2_decide", ESCALATE, at(2026, 12, 29, 11))

    # Stage 3, tier 1, the senior managers: five working days from Tue 29 Dec: Wed 30, Thu 31, (New Year) Mon 4,
    # Tue 5, Wed 6.
    assert walk.refresh().current_stage == 3
    assert walk.dues() == {"s3_respond": at(2027, 1, 6, 17)}
    assert walk.sees("tees-police-senior") == ["s3_respond"]
    assert walk.sees("tees-police-manager") == []
    assert walk.sees("tees-police-head") == []
    notes = walk.notes()
    assert ("tees-csc-practitioner", f"{ref}: outcome of stage 2") in notes
    assert "No agreement on holding a strategy discussion. It has been escalated to the senior managers" in (
        walk.body("tees-csc-practitioner", f"{ref}: outcome of stage 2"))
    assert ("tees-iro", iro) not in notes  # the IRO is told at stage 2 only
    # The raising senior manager is told as the tier starts: they consult their counterpart.
    tier_1 = f"{ref}: stage 3 tier 1 has started, and you are involved"
    assert ("tees-csc-senior", tier_1) in notes
    assert "respond by Wednesday 6 January 2027, 17:00" in walk.body("tees-csc-senior", tier_1)
    assert ("tees-police-senior", f"{ref}: new task - Stage 3, tier 1: receiving senior manager responds") in notes
    walk.complete("tees-police-senior", "s3_respond", SENIOR_RESPOND, at(2026, 12, 31, 10))
    assert walk.sees("tees-csc-senior") == ["s3_decide"]
    walk.notes()
    walk.complete("tees-csc-senior", "s3_decide", tier("next_tier"), at(2027, 1, 4, 10))

    # Tier 2 goes to a more senior post on each side, the heads of service, with its own deadline: five working
    # days from Mon 4 Jan (Mon 11 Jan).
    assert walk.dues() == {"s3_t2_respond": at(2027, 1, 11, 17)}
    assert walk.sees("tees-police-head") == ["s3_t2_respond"]
    assert walk.sees("tees-police-senior") == []
    next_tier = f"{ref}: escalated to the next tier of management"
    notes = walk.notes()
    assert ("tees-csc-practitioner", next_tier) in notes
    assert "It goes to tier 2, the heads of service." in walk.body("tees-csc-practitioner", next_tier)
    assert ("tees-csc-head", f"{ref}: stage 3 tier 2 has started, and you are involved") in notes
    # Nobody at tier 2 acts: a reminder two working days before (Thu 7 Jan), then at its deadline it goes up to
    # tier 3, the directors, by itself, and everyone involved is told.
    assert walk.fire(at(2027, 1, 7, 17)) == 1
    assert walk.notes() == {("tees-police-head", f"{ref}: stage 3 tier 2 is waiting for you")}
    assert walk.fire(at(2027, 1, 11, 17)) == 1
    assert [r.status for r in walk.rows("s3_t2_respond")] == ["lapsed"]
    missed = f"{ref}: stage 3 tier 2 deadline passed, now at tier 3"
    notes = walk.notes()
    assert {("tees-police-head", missed), ("tees-csc-practitioner", missed), ("tees-police-senior", missed),
            ("tees-csc-senior", missed)} <= notes
    assert ("tees-csc-director", f"{ref}: stage 3 tier 3 has started, and you are involved") in notes
    assert ("tees-police-director", f"{ref}: new task - Stage 3, tier 3: receiving director responds") in notes
    # Tier 3's own deadline: five working days from Mon 11 Jan, 17:00 (Mon 18 Jan).
    assert walk.refresh().current_stage == 3
    assert walk.dues() == {"s3_t3_respond": at(2027, 1, 18, 17)}
    assert walk.sees("tees-police-director") == ["s3_t3_respond"]
    assert walk.sees("tees-police-head") == []
    walk.complete("tees-police-director", "s3_t3_respond", SENIOR_RESPOND, at(2027, 1, 12, 10))
    assert walk.sees("tees-csc-director") == ["s3_t3_decide"]
    walk.notes()
    # The last tier cannot send it up another tier.
    with pytest.raises(Invalid) as refused:
        walk.complete("tees-csc-director", "s3_t3_decide", tier("next_tier"), at(2027, 1, 12, 11))
    assert list(refused.value.errors) == ["decision"]
    walk.complete("tees-csc-director", "s3_t3_decide", tier("refer_to_partnership", "S. Lee, Director"),
                  at(2027, 1, 12, 11))

    # Stage 4: the Safeguarding Children Partnership, twenty working days from Tue 12 Jan: Tue 9 February.
    assert walk.refresh().current_stage == 4
    assert walk.dues() == {"s4_consider": at(2027, 2, 9, 17)}
    assert walk.sees("tees-scp") == ["s4_consider"]
    notes = walk.notes()
    assert {("tees-scp", f"{ref}: dispute referred to the Safeguarding Children Partnership"),
            ("tees-csc-practitioner", f"{ref}: outcome of stage 3")} <= notes
    assert "after 3 tier(s) of management" in walk.body(
        "tees-scp", f"{ref}: dispute referred to the Safeguarding Children Partnership")
    walk.complete("tees-scp", "s4_consider", CONSIDER_MEETING, at(2027, 1, 14, 10))
    assert walk.sees("tees-scp") == ["s4_convene"]
    assert walk.notes() == {
        ("tees-scp", f"{ref}: new task - Stage 4: convene a resolution meeting with an independent chair")}
    health = walk.agency("North Tees and Hartlepool NHS Foundation Trust")
    walk.complete("tees-scp", "s4_convene", {"chairing": health.id, "meeting_date": "2027-01-26",
                                             "partnership_representatives": "Two partnership members."},
                  at(2027, 1, 15, 10))
    # The chair's task goes to the senior managers of the agency chosen, and to nobody else.
    chair_task = walk.task("s4_chair")
    assert (chair_task.agency_id, chair_task.role, chair_task.due_at) == (health.id, "senior_manager",
                                                                          at(2027, 2, 9, 17))
    assert walk.sees("tees-health-senior") == ["s4_chair"]
    for other in ("tees-school-senior", "tees-csc-senior", "tees-police-senior", "tees-scp"):
        assert walk.sees(other) == []
    convened = f"{ref}: resolution meeting convened"
    assert walk.notes() == {
        ("tees-csc-senior", convened), ("tees-police-senior", convened), ("tees-csc-practitioner", convened),
        ("tees-health-senior", f"{ref}: new task - Stage 4: chair the resolution meeting"),
    }
    walk.complete("tees-health-senior", "s4_chair", MEETING, at(2027, 1, 26, 15))

    closed = walk.refresh()
    assert (closed.status, closed.outcome, closed.current_stage) == ("closed", "resolved", 4)
    assert closed.next_timer_due is None
    outcome = f"{ref}: resolution meeting outcome"
    notes = walk.notes()
    assert {("tees-csc-practitioner", outcome), ("tees-health-senior", outcome), ("tees-scp", outcome),
            ("tees-police-senior", outcome)} <= notes
    assert "agreed: A strategy discussion will be held." in walk.body("tees-csc-practitioner", outcome)
    assert [(stage, bpmn_id, status) for stage, bpmn_id, status, _ in walk.record()] == [
        (1, "s1_respond", "completed"), (1, "s1_decide", "lapsed"),
        (2, "s2_respond", "completed"), (2, "s2_decide", "completed"),
        (3, "s3_respond", "completed"), (3, "s3_decide", "completed"),
        (3, "s3_t2_respond", "lapsed"),
        (3, "s3_t3_respond", "completed"), (3, "s3_t3_decide", "completed"),
        (4, "s4_consider", "completed"), (4, "s4_convene", "completed"), (4, "s4_chair", "completed"),
    ]
    tiers = [answers["Manager deciding at this tier (name and post)"] for _, bpmn_id, _, answers in walk.record()
             if bpmn_id in ("s3_decide", "s3_t3_decide")]
    assert tiers == ["R. Jones, Service Manager", "S. Lee, Director"]
    # Each tier is numbered on the record.
    assert [walk.rows(bpmn_id)[0].title for bpmn_id in (
        "s3_respond", "s3_decide", "s3_t2_respond", "s3_t3_respond", "s3_t3_decide")] == [
        "Stage 3, tier 1: receiving senior manager responds", "Stage 3, tier 1: senior managers record the outcome",
        "Stage 3, tier 2: receiving head of service responds",
        "Stage 3, tier 3: receiving director responds", "Stage 3, tier 3: directors record the outcome"]
    convene = walk.record()[-2][3]
    # The chair's agency reads as its name, not its id (a new user found "13" on the printed record).
    assert convene["Agency of the independent chair (not involved in the disagreement)"] == health.name


@pytest.mark.parametrize("cp_or_lac, words", [
    ("child_protection_plan", "on a Child Protection Plan"),
    ("looked_after", "Looked After"),
])
def test_the_iro_is_told_at_stage_2_when_the_child_is_on_a_plan_or_looked_after(walk, cp_or_lac, words):
    challenge = walk.raise_("tees-school-practitioner", "Stockton-on-Tees Children's Services", cp_or_lac=cp_or_lac)
    ref = challenge.reference
    walk.complete("tees-csc-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 9))
    assert not [n for n in walk.notes() if n[0] == "tees-iro"]  # not at stage 1
    walk.complete("tees-school-practitioner", "s1_decide", ESCALATE, at(2026, 12, 21, 10))
    subject = f"{ref}: professional challenge about a child {words}"
    notes = walk.notes()
    assert ("tees-iro", subject) in notes
    assert [n for n in notes if n[0] == "tees-iro"] == [("tees-iro", subject)]
    assert f"case CH-3071, a child {words}" in walk.body("tees-iro", subject)
    # The outcome of stage 1 is shared with the referrer.
    assert ("tees-school-practitioner", f"{ref}: outcome of stage 1") in notes


def test_the_iro_is_not_told_when_the_child_is_neither_on_a_plan_nor_looked_after(walk):
    challenge = walk.raise_("tees-school-practitioner", "Stockton-on-Tees Children's Services", cp_or_lac="neither")
    walk.complete("tees-csc-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 9))
    walk.complete("tees-school-practitioner", "s1_decide", ESCALATE, at(2026, 12, 21, 10))
    assert walk.refresh().current_stage == 2
    walk.complete("tees-csc-manager", "s2_respond", RESPOND, at(2026, 12, 21, 11))
    walk.complete("tees-school-manager", "s2_decide", ESCALATE, at(2026, 12, 21, 12))
    assert walk.refresh().current_stage == 3
    users = {username for username, _ in walk.notes()}
    assert "tees-iro" not in users
    assert {"tees-school-practitioner", "tees-csc-manager", "tees-csc-senior"} <= users
    assert challenge.reference.startswith("TEE-")


def test_resolved_at_stage_1(walk):
    challenge = walk.raise_("tees-health-practitioner", "Cleveland Police", cp_or_lac="looked_after")
    ref = challenge.reference
    walk.complete("tees-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 9))
    walk.complete("tees-health-practitioner", "s1_decide", RESOLVED, at(2026, 12, 21, 10))
    closed = walk.refresh()
    assert (closed.status, closed.outcome, closed.current_stage) == ("closed", "resolved", 1)
    assert walk.open_tasks() == {}
    notes = walk.notes()
    assert {("tees-health-practitioner", f"{ref}: resolved at stage 1"),
            ("tees-police-practitioner", f"{ref}: resolved at stage 1")} <= notes
    assert "tees-iro" not in {u for u, _ in notes}  # the IRO is told at stage 2, which was never reached
    assert walk.fire(at(2027, 3, 1, 9)) == 0


def _to_stage_3(walk, raising: str = "tees-csc", receiving: str = "tees-police") -> None:
    walk.complete(f"{receiving}-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 9))
    walk.complete(f"{raising}-practitioner", "s1_decide", ESCALATE, at(2026, 12, 21, 10))
    walk.complete(f"{receiving}-manager", "s2_respond", RESPOND, at(2026, 12, 21, 11))
    walk.complete(f"{raising}-manager", "s2_decide", ESCALATE, at(2026, 12, 21, 12))
    assert walk.refresh().current_stage == 3


def _to_stage_4(walk) -> None:
    _to_stage_3(walk)
    walk.complete("tees-police-senior", "s3_respond", SENIOR_RESPOND, at(2026, 12, 21, 13))
    walk.complete("tees-csc-senior", "s3_decide", tier("refer_to_partnership"), at(2026, 12, 21, 14))
    assert walk.refresh().current_stage == 4


def test_each_tier_missing_its_own_deadline_goes_up_a_tier_and_the_last_to_the_partnership(walk):
    challenge = walk.raise_("tees-csc-practitioner", "Cleveland Police")
    ref = challenge.reference
    _to_stage_3(walk)
    # Tier 1 from Mon 21 Dec 12:00: Tue 22, Wed 23, Thu 24, (Christmas) Tue 29, Wed 30 December.
    assert walk.dues() == {"s3_respond": at(2026, 12, 30, 17)}
    walk.complete("tees-police-senior", "s3_respond", SENIOR_RESPOND, at(2026, 12, 22, 10))
    walk.notes()
    # The raising senior manager does not record the outcome: at tier 1's deadline it goes to the heads of service.
    assert walk.fire(at(2026, 12, 30, 17)) == 1
    assert [r.status for r in walk.rows("s3_decide")] == ["lapsed"]
    assert walk.sees("tees-police-head") == ["s3_t2_respond"]
    missed = f"{ref}: stage 3 tier 1 deadline passed, now at tier 2"
    notes = walk.notes()
    assert {("tees-csc-senior", missed), ("tees-police-senior", missed), ("tees-csc-practitioner", missed)} <= notes
    assert "escalated to tier 2 of management: the heads of service" in walk.body("tees-csc-senior", missed)
    # Tier 2's own deadline, from Wed 30 Dec 17:00: Thu 31, Mon 4, Tue 5, Wed 6, Thu 7 January.
    assert walk.dues() == {"s3_t2_respond": at(2027, 1, 7, 17)}
    walk.complete("tees-police-head", "s3_t2_respond", SENIOR_RESPOND, at(2027, 1, 4, 10))
    assert walk.sees("tees-csc-head") == ["s3_t2_decide"]
    walk.complete("tees-csc-head", "s3_t2_decide", tier("next_tier", "A. Khan, Head of Service"), at(2027, 1, 5, 10))
    # Tier 3 from Tue 5 Jan: Wed 6, Thu 7, Fri 8, Mon 11, Tue 12 January; nobody acts by then, so it goes to the
    # Safeguarding Children Partnership.
    assert walk.dues() == {"s3_t3_respond": at(2027, 1, 12, 17)}
    walk.notes()
    assert walk.fire(at(2027, 1, 12, 17)) == 1
    assert walk.refresh().current_stage == 4
    assert [r.status for r in walk.rows("s3_t3_respond")] == ["lapsed"]
    assert walk.sees("tees-scp") == ["s4_consider"]
    last = f"{ref}: stage 3 tier 3 deadline passed, now at stage 4"
    notes = walk.notes()
    assert {("tees-police-director", last), ("tees-csc-practitioner", last)} <= notes
    assert "after 3 tier(s) of management" in walk.body(
        "tees-scp", f"{ref}: dispute referred to the Safeguarding Children Partnership")


def test_resolved_at_tier_2_by_the_heads_of_service(walk):
    challenge = walk.raise_("tees-school-practitioner", "Stockton-on-Tees Children's Services")
    ref = challenge.reference
    _to_stage_3(walk, raising="tees-school", receiving="tees-csc")
    walk.complete("tees-csc-senior", "s3_respond", SENIOR_RESPOND, at(2026, 12, 22, 9))
    walk.complete("tees-school-senior", "s3_decide", tier("next_tier"), at(2026, 12, 22, 10))
    # A school's tiers: the deputy head, then the head teacher.
    assert walk.sees("tees-csc-head") == ["s3_t2_respond"]
    walk.complete("tees-csc-head", "s3_t2_respond", SENIOR_RESPOND, at(2026, 12, 22, 11))
    assert walk.sees("tees-school-head") == ["s3_t2_decide"]
    walk.complete("tees-school-head", "s3_t2_decide", tier("resolved", "B. Shaw, Head Teacher"), at(2026, 12, 22, 12))
    closed = walk.refresh()
    assert (closed.status, closed.outcome, closed.current_stage) == ("closed", "resolved", 3)
    assert "resolved at stage 3, tier 2 (the heads of service)" in walk.body(
        "tees-school-practitioner", f"{ref}: resolved at stage 3")
    assert walk.rows("s3_t3_respond") == []


def test_the_partnership_closes_it_with_learning_and_recommendations(walk):
    challenge = walk.raise_("tees-csc-practitioner", "Cleveland Police")
    ref = challenge.reference
    _to_stage_4(walk)
    # Twenty working days from Mon 21 Dec: 22, 23, 24, 29, 30 and 31 December are six (25 and 28 December are
    # bank holidays); 4 to 8 and 11 to 15 January make sixteen (1 January is one too); 18, 19, 20 and 21 January
    # make twenty: Thursday 21 January 2027.
    assert walk.dues() == {"s4_consider": at(2027, 1, 21, 17)}
    walk.notes()
    # Recommendations are always asked for.
    without = {k: v for k, v in CONSIDER_LEARNING.items() if k != "recommendations"}
    with pytest.raises(Invalid) as refused:
        walk.complete("tees-scp", "s4_consider", without, at(2027, 1, 5, 10))
    assert refused.value.errors == {"recommendations": "This answer is required."}
    walk.complete("tees-scp", "s4_consider", CONSIDER_LEARNING, at(2027, 1, 5, 10))
    closed = walk.refresh()
    assert (closed.status, closed.outcome, closed.current_stage) == ("closed", "decided_by_partnership", 4)
    subject = f"{ref}: the Safeguarding Children Partnership's recommendations"
    assert ("tees-csc-practitioner", subject) in walk.notes()
    assert "Recommendations: The Tees Procedures Group to revise the guidance." in walk.body(
        "tees-csc-practitioner", subject)
    assert walk.rows("s4_convene") == []


def test_the_independent_chair_must_come_from_an_agency_not_involved(walk):
    walk.raise_("tees-csc-practitioner", "Cleveland Police")
    _to_stage_4(walk)
    walk.complete("tees-scp", "s4_consider", CONSIDER_MEETING, at(2027, 1, 5, 10))
    # Neither side of the disagreement, nor the partnership itself, may chair it.
    for involved in ("Cleveland Police", "Stockton-on-Tees Children's Services",
                     "Tees Safeguarding Children Partnership"):
        with pytest.raises(Invalid) as refused:
            walk.complete("tees-scp", "s4_convene", {
                "chairing": walk.agency(involved).id, "meeting_date": "2027-01-20",
                "partnership_representatives": "Two members."}, at(2027, 1, 6, 10))
        assert list(refused.value.errors) == ["chairing"]
    school = walk.agency("Stockton Primary School")
    walk.complete("tees-scp", "s4_convene", {"chairing": school.id, "meeting_date": "2027-01-20",
                                             "partnership_representatives": "Two members."}, at(2027, 1, 6, 11))
    assert walk.sees("tees-school-senior") == ["s4_chair"]
    assert walk.sees("tees-health-senior") == []
