"""An auditor's replay of a case, built from its history: at each step the diagram's elements that ran (how
many times, for loops and tiers), waited, lapsed or were withdrawn, the flows taken, who did what, and what was
open with its deadline. A Tees case through two tiers of senior management, on the version of the Tees procedure
whose stage 3 was one loop of the same two tasks (tests/procedures/tees_one_loop: the procedure as published
before its tiers were named, so a case pinned to it still replays, and its loop is counted)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.audit.replay import steps
from engine.models import Partnership
from engine.procedures.files import read_folder
from engine.procedures.versions import publish
from tests.walk import Walk, at

ONE_LOOP = Path(__file__).parent.parent / "procedures" / "tees_one_loop"

RESPOND = {"rationale": "The disclosure did not meet the threshold.", "response": "We will look at it again."}
ESCALATE = {"discussion": "We spoke and could not agree.", "decision": "escalate", "reason": "No agreement."}
SENIOR = {"manager": "D. Patel, Detective Inspector", "rationale": "The decision stands.",
          "response": "We will review it with partners."}


def tier(decision: str) -> dict:
    return {"manager": "R. Jones, Head of Service", "discussion": "The senior managers met.",
            "professional_meeting": False, "decision": decision, "reason": f"Tier decided: {decision}."}


@pytest.fixture
def two_tiers(session, clock, demo):
    tees = session.scalar(select(Partnership).where(Partnership.slug == "tees"))
    publish(session, clock, tees, read_folder(ONE_LOOP), by="test", reason="The version with one loop at stage 3")
    session.commit()
    walk = Walk(session, clock, "tees")
    walk.raise_("tees-csc-practitioner", "Cleveland Police")
    walk.complete("tees-police-practitioner", "s1_respond", RESPOND, at(2026, 12, 21, 10))
    walk.complete("tees-csc-practitioner", "s1_decide", ESCALATE, at(2026, 12, 21, 11))
    walk.complete("tees-police-manager", "s2_respond", RESPOND, at(2026, 12, 22, 10))
    walk.complete("tees-csc-manager", "s2_decide", ESCALATE, at(2026, 12, 22, 11))
    walk.complete("tees-police-senior", "s3_respond", SENIOR, at(2026, 12, 23, 10))
    walk.complete("tees-csc-senior", "s3_decide", tier("next_tier"), at(2026, 12, 23, 11))
    walk.complete("tees-police-senior", "s3_respond", SENIOR, at(2026, 12, 24, 10))
    return walk


def test_the_last_step_counts_each_tier_on_the_loop(session, two_tiers):
    found = steps(session, two_tiers.refresh())
    last = found[-1].elements
    assert last["s3_respond"] == {"state": "completed", "count": 2}
    assert last["s3_decide"]["state"] == "active" and last["s3_decide"]["count"] == 2
    assert last["s1_respond"] == {"state": "completed", "count": 1}
    assert [t["element"] for t in found[-1].open_tasks] == ["s3_decide"]


def test_stepping_back_shows_the_case_as_it_stood(session, two_tiers):
    found = steps(session, two_tiers.refresh())
    first = found[0]
    assert [h["kind"] for h in first.happenings][:1] == ["challenge_raised"]
    assert first.elements["s1_respond"]["state"] == "active"
    assert "s3_respond" not in first.elements and "s1_decide" not in first.elements
    completed = next(s for s in found if any(h["kind"] == "task_completed" for h in s.happenings))
    [done] = [h for h in completed.happenings if h["kind"] == "task_completed"]
    assert done["answers"] == RESPOND and done["by"].startswith("Practitioner")
    assert completed.elements["s1_respond"]["state"] == "completed"
    assert completed.elements["s1_decide"]["state"] == "active"


def test_the_flows_taken_grow_step_by_step_and_engine_steps_are_marked(session, two_tiers):
    found = steps(session, two_tiers.refresh())
    assert set(found[0].flows) < set(found[-1].flows)
    assert all(set(a.flows) <= set(b.flows) for a, b in zip(found, found[1:], strict=False))
    # Script tasks and gateways between people's tasks ran too.
    assert "enter_1" in found[0].elements and "s3_next_tier" in found[-1].elements
    assert found[-1].elements["s3_next_tier"]["count"] == 2


def test_a_case_through_many_tiers_replays_whole(session, two_tiers):
    """Sixty tiers: the case's tree is deeper than Python's recursion limit, and every tier is counted."""
    walk = two_tiers
    for n in range(60):
        walk.complete("tees-csc-senior", "s3_decide", tier("next_tier"), at(2026, 12, 24, 11) + timedelta(hours=n))
        walk.complete("tees-police-senior", "s3_respond", SENIOR, at(2026, 12, 24, 11, 30) + timedelta(hours=n))
    found = steps(session, walk.refresh())
    assert found[-1].elements["s3_respond"] == {"state": "completed", "count": 62}
    assert found[-1].elements["s3_decide"] == {"state": "active", "count": 62}
