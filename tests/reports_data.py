"""A hand-made set of Darlington challenges for the reports' tests, walked through the real procedure in time
order. The period tested is December 2026 (the dates 1 to 31 December; the previous period is November), with
its bank holidays: Christmas Day Friday 25 December, Boxing Day substituted on Monday 28 December, New Year's Day
Friday 1 January 2027. GMT throughout, so London time is UTC.

    A  raised Mon 2 Nov (the previous period), resolved at stage 1 the same day.
    B  school v CSC, raised Tue 1 Dec, resolved at stage 1 the same day (satisfied: yes).
    K  CSC v police, raised Tue 1 Dec 14:00, at stage 4 by 15:45; misses the stage 4 target (Tue 8 Dec) and, at
       stage 5 from Wed 9 Dec, the stage 5 target (Wed 16 Dec); closed by the partnership Thu 17 Dec (partly).
    C  health v police, raised Wed 2 Dec, resolved at stage 2 on Thu 3 Dec (partly).
    D  CSC v police, raised Mon 7 Dec; nobody responds, so stage 1 lapses at its deadline Tue 8 Dec 17:00;
       resolved at stage 2 on Wed 9 Dec (no).
    E  school v CSC, raised Thu 10 Dec, resolved at stage 3 on Fri 11 Dec (yes).
    F  CSC v police, raised Mon 14 Dec, at stage 3 by 11:15; misses the stage 3 target (Mon 21 Dec), resolved at
       stage 3 on Tue 22 Dec (partly).
    J  CSC v police, raised Mon 21 Dec, at stage 2 by 09:45; its line manager's review lapses with stage 2 at Thu 24
       Dec 17:00; still open at stage 3 at the end of December.

At stage 2 the raising line manager reviews the concern (justified) five minutes before the receiving line
manager responds.
    G  CSC v police, raised Wed 23 Dec, at stage 4 by 11:45, resolved by the heads of service Thu 24 Dec (yes).
    H  school v CSC, raised Tue 29 Dec, escalated by decision through every stage and closed by the partnership
       the same morning (no).
    I  CSC v police, raised Wed 30 Dec, at stage 2 by 11:30, resolved on Mon 4 January 2027 (yes): raised in the
       period, closed after it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import raise_answers
from tests.walk import Walk

REVIEW = {"justified": True, "review": "The concern stands."}
RESPOND = {"rationale": "The referral did not meet the threshold.", "response": "We will review the case."}
ESCALATE = {"discussion": "We could not agree.", "decision": "escalate", "reason": "The concern remains."}
RECORDING_ESCALATE = {"meeting_held": True, "meeting_date": "2026-12-01", "attendees": "Both line managers.",
                      "discussion": "Each agency set out its view.", "agreed_outcomes": "Share the incident log.",
                      "next_steps": "Escalate to the heads of service.", "decision": "escalate",
                      "reason": "The disagreement remains."}
PARTNERS = {"decision": "A section 47 enquiry will be opened.", "next_course_of_action": "A strategy discussion."}

SIDES = {"csc": "Darlington Children's Social Care", "police": "Durham Constabulary",
         "health": "County Durham and Darlington NHS Foundation Trust", "school": "Darlington Primary School"}


def t(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    year = 2027 if month == 1 else 2026
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def resolved(satisfied: str) -> dict:
    return {"discussion": "We agreed a way forward.", "decision": "resolved", "satisfied": satisfied,
            "reason": "The concern is addressed."}


def recording_resolved(satisfied: str) -> dict:
    return dict(RECORDING_ESCALATE, decision="resolved", satisfied=satisfied, next_steps="None.")


def monitoring(satisfied: str) -> dict:
    return {"what_was_the_challenge": "A threshold decision.", "what_was_done": "Every stage was tried.",
            "outcome_of_actions": "No agreement.", "how_resolved": "Referred to the partnership.",
            "satisfied": satisfied, "referred_to_partnership": True}


class Case:
    """One challenge of the set: who raised it against whom, and its walk."""

    def __init__(self, session, clock, raising: str, receiving: str, area: str, when: datetime) -> None:
        self.raising, self.receiving = raising, receiving
        self.walk = Walk(session, clock, "darlington")
        clock.set(when)
        given = raise_answers(0, area=area, subject_reference=f"CH-{when:%m%d%H%M}")
        del given["receiving_agency_id"]
        self.walk.raise_(f"{raising}-practitioner", SIDES[receiving], **given)

    def stage(self, number: int, decision: dict, respond_at: datetime, decide_at: datetime) -> None:
        who = {1: "practitioner", 2: "manager", 3: "manager", 4: "head"}[number]
        if number == 2:  # stage 2 opens with the raising line manager's review, five minutes before the response
            fire(self.walk, respond_at - timedelta(minutes=5))
            self.walk.act(f"{self.raising}-manager", REVIEW, respond_at - timedelta(minutes=5))
        fire(self.walk, respond_at)
        self.walk.act(f"{self.receiving}-{who}", RESPOND, respond_at)
        fire(self.walk, decide_at)
        self.walk.act(f"{self.raising}-{who}", decision, decide_at)

    def stage_5(self, satisfied: str, monitoring_at: datetime, decision_at: datetime) -> None:
        fire(self.walk, monitoring_at)
        # The raising agency's designated lead answers the monitoring questions for the Business Unit.
        self.walk.act(f"{self.raising}-manager", monitoring(satisfied), monitoring_at)
        fire(self.walk, decision_at)
        self.walk.act("dsp-scrutineer", PARTNERS, decision_at)


def fire(walk: Walk, when: datetime) -> None:
    """Every timer of every case due by then fires first, as the worker would have."""
    walk.fire(when)


def walk_december(session, clock) -> dict[str, Case]:
    """Build the set (in time order, as it happened) and return its cases by letter."""
    cases: dict[str, Case] = {}
    a = cases["A"] = Case(session, clock, "csc", "police", "thresholds", t(11, 2, 10))
    a.stage(1, resolved("yes"), t(11, 2, 11), t(11, 2, 12))

    b = cases["B"] = Case(session, clock, "school", "csc", "thresholds", t(12, 1, 10))
    b.stage(1, resolved("yes"), t(12, 1, 11), t(12, 1, 12))

    k = cases["K"] = Case(session, clock, "csc", "police", "decision_making", t(12, 1, 14))
    k.stage(1, ESCALATE, t(12, 1, 14, 30), t(12, 1, 14, 45))
    k.stage(2, ESCALATE, t(12, 1, 15), t(12, 1, 15, 15))
    k.stage(3, RECORDING_ESCALATE, t(12, 1, 15, 30), t(12, 1, 15, 45))

    c = cases["C"] = Case(session, clock, "health", "police", "information_sharing", t(12, 2, 10))
    c.stage(1, ESCALATE, t(12, 2, 11), t(12, 2, 11, 30))
    c.stage(2, resolved("partly"), t(12, 3, 10), t(12, 3, 11))

    d = cases["D"] = Case(session, clock, "csc", "police", "thresholds", t(12, 7, 10))
    fire(d.walk, t(12, 8, 17))  # D's stage 1 lapses; K misses its stage 4 target
    assert d.walk.challenge.current_stage == 2
    d.stage(2, resolved("no"), t(12, 9, 10), t(12, 9, 11))
    k.stage(4, ESCALATE, t(12, 9, 12), t(12, 9, 12, 30))

    e = cases["E"] = Case(session, clock, "school", "csc", "decision_making", t(12, 10, 10))
    e.stage(1, ESCALATE, t(12, 10, 11), t(12, 10, 11, 30))
    e.stage(2, ESCALATE, t(12, 10, 12), t(12, 10, 12, 30))
    e.stage(3, recording_resolved("yes"), t(12, 11, 10), t(12, 11, 11))

    f = cases["F"] = Case(session, clock, "csc", "police", "thresholds", t(12, 14, 10))
    f.stage(1, ESCALATE, t(12, 14, 10, 30), t(12, 14, 10, 45))
    f.stage(2, ESCALATE, t(12, 14, 11), t(12, 14, 11, 15))
    fire(f.walk, t(12, 16, 17))  # K misses its stage 5 target
    k.stage_5("partly", t(12, 17, 10), t(12, 17, 11))

    j = cases["J"] = Case(session, clock, "csc", "police", "information_sharing", t(12, 21, 9))
    j.stage(1, ESCALATE, t(12, 21, 9, 30), t(12, 21, 9, 45))
    fire(f.walk, t(12, 21, 17))  # F misses its stage 3 target
    f.stage(3, recording_resolved("partly"), t(12, 22, 10), t(12, 22, 11))

    g = cases["G"] = Case(session, clock, "csc", "police", "case_closure", t(12, 23, 10))
    g.stage(1, ESCALATE, t(12, 23, 10, 30), t(12, 23, 10, 45))
    g.stage(2, ESCALATE, t(12, 23, 11), t(12, 23, 11, 15))
    g.stage(3, RECORDING_ESCALATE, t(12, 23, 11, 30), t(12, 23, 11, 45))
    g.stage(4, resolved("yes"), t(12, 24, 10), t(12, 24, 11))
    fire(j.walk, t(12, 24, 17))  # J's stage 2 lapses
    assert j.walk.challenge.current_stage == 3

    h = cases["H"] = Case(session, clock, "school", "csc", "thresholds", t(12, 29, 9))
    h.stage(1, ESCALATE, t(12, 29, 9, 30), t(12, 29, 9, 40))
    h.stage(2, ESCALATE, t(12, 29, 9, 50), t(12, 29, 10))
    h.stage(3, RECORDING_ESCALATE, t(12, 29, 10, 10), t(12, 29, 10, 20))
    h.stage(4, ESCALATE, t(12, 29, 10, 30), t(12, 29, 10, 40))
    h.stage_5("no", t(12, 29, 11), t(12, 29, 11, 30))

    i = cases["I"] = Case(session, clock, "csc", "police", "other", t(12, 30, 10))
    i.stage(1, ESCALATE, t(12, 30, 11), t(12, 30, 11, 30))
    i.stage(2, resolved("yes"), t(1, 4, 10), t(1, 4, 11))
    return cases
