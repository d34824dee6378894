"""A past for the demo's Darlington partnership, so its reports have something to count on a fresh `make run`:
two dozen challenges raised over the last half year, walked through the real procedure by the demo's people on a
clock set back (escalated, resolved, closed by the partnership, some with a stage left to lapse at its deadline),
most of them closed, the last few still open. Only `serve --demo` walks it, once: when Darlington has no
challenges yet."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .cases.raising import raise_challenge
from .cases.tasks import claim_task, complete_task
from .cases.timers import fire_due_timers
from .clock import Clock, MovableClock
from .models import Agency, Challenge, Partnership, Task, User
from .queries.documents import prefilled_answers

AGENCIES = {"csc": "Darlington Children's Social Care", "police": "Durham Constabulary",
            "health": "County Durham and Darlington NHS Foundation Trust", "school": "Darlington Primary School"}
AREAS = ("thresholds", "decision_making", "information_sharing", "progressing_plans", "case_closure",
         "roles_and_responsibilities", "service_provision")
PAIRS = (("csc", "police"), ("school", "csc"), ("health", "csc"), ("police", "health"), ("school", "police"),
         ("csc", "health"))
# Each challenge's path: "e" escalated by decision, "l" left to lapse at its deadline, then how it ends:
# "r" resolved at the stage it reached, "p" decided by the partnership (stage 5), "o" left open.
PATHS = ("r", "er", "eer", "eeer", "eeeep", "lr", "elr", "eer", "r", "er", "eeeep", "eelr", "r", "er", "eer",
         "lr", "eeer", "r", "er", "eeeep", "eo", "o")
RESPOND = {"rationale": "The decision was made on the information we had.", "response": "We will look at it again."}
SATISFIED = ("yes", "yes", "partly", "no")
WHO = {1: "practitioner", 2: "manager", 3: "manager", 4: "head"}


def walk_history(session: Session, clock: Clock, days: int = 180) -> int:
    """Walk the demo history if Darlington has no challenges yet; how many challenges it raised."""
    partnership = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    if partnership is None or session.scalar(select(func.count()).select_from(Challenge)
                                             .where(Challenge.partnership_id == partnership.id)):
        return 0
    rng = random.Random(2026)
    now = clock.now().replace(second=0, microsecond=0)
    past = MovableClock(now - timedelta(days=days))
    step = timedelta(days=days) / (len(PATHS) + 1)
    for n, path in enumerate(PATHS):
        raising, receiving = PAIRS[n % len(PAIRS)]
        raised = now - timedelta(days=days) + step * n + timedelta(hours=rng.randint(0, 6))
        _walk(session, past, raised, raising, receiving, AREAS[n % len(AREAS)], path, rng, n)
    _fire(session, past, now)
    return len(PATHS)


def _user(session: Session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def _fire(session: Session, clock: MovableClock, when: datetime) -> None:
    if when > clock.now():
        clock.set(when)
    fire_due_timers(session, clock)


def _act(session: Session, clock: MovableClock, challenge: Challenge, username: str, answers: dict) -> None:
    clock.advance(minutes=40)
    _fire(session, clock, clock.now())
    person = _user(session, username)
    session.expire_all()
    task = session.scalar(select(Task).where(Task.challenge_id == challenge.id, Task.status == "open")
                          .order_by(Task.id))
    claim_task(session, clock, person, task.id)
    complete_task(session, clock, person, task.id, answers)


def _decision(stage: int, decision: str, satisfied: str) -> dict:
    answers = {"discussion": "We met and talked it through.", "decision": decision,
               "reason": "Agreed." if decision == "resolved" else "We could not agree."}
    if decision == "resolved":
        answers["satisfied"] = satisfied
    if stage == 3:
        answers.update(meeting_held=True, attendees="Both agencies' line managers.",
                       agreed_outcomes="Information to be shared.", next_steps="As agreed.")
    return answers


def _walk(session: Session, clock: MovableClock, raised: datetime, raising: str, receiving: str, area: str,
          path: str, rng: random.Random, n: int) -> None:
    if raised > clock.now():
        clock.set(raised)
    _fire(session, clock, raised)
    challenge = raise_challenge(session, clock, _user(session, f"{raising}-practitioner"), {
        "receiving_agency_id": session.scalar(select(Agency.id).where(Agency.name == AGENCIES[receiving])),
        "challenged_role": "Team manager", "subject_reference": f"CH-{4100 + n}",
        "area": area, "summary": "A decision the referrer disagrees with.",
        "cp_or_lac": rng.choice(("neither", "neither", "child_protection_plan", "looked_after")),
        "significant_risk": n % 5 == 2})
    for move in path:
        session.expire_all()
        stage = session.get(Challenge, challenge.id).current_stage
        if move == "o":
            return
        if move == "l":  # nobody answers: the stage lapses at its deadline
            due = session.scalar(select(func.min(Task.due_at)).where(Task.challenge_id == challenge.id,
                                                                     Task.status == "open"))
            _fire(session, clock, due + timedelta(minutes=1))
            continue
        if stage == 5:
            # The raising agency's designated lead answers the monitoring questions, from what the stages recorded.
            monitoring = session.scalar(select(Task).where(Task.challenge_id == challenge.id, Task.status == "open")
                                        .order_by(Task.id))
            _act(session, clock, challenge, f"{raising}-manager", {
                "what_was_the_challenge": "A disagreement about a threshold decision.",
                "what_was_done": "Every stage of the procedure.", "outcome_of_actions": "No agreement.",
                "how_resolved": "Referred to the Lead Safeguarding Partners.",
                **prefilled_answers(session, monitoring), "satisfied": rng.choice(SATISFIED),
                "referred_to_partnership": True})
            _act(session, clock, challenge, "dsp-scrutineer", {"decision": "An assessment will be made.",
                                                              "next_course_of_action": "A strategy discussion."})
            return
        if stage == 2:  # the raising line manager reviews the concern first
            _act(session, clock, challenge, f"{raising}-manager", {"justified": True, "review": "It stands."})
        _act(session, clock, challenge, f"{receiving}-{WHO[stage]}", RESPOND)
        decision = "escalate" if move in "ep" else "resolved"
        _act(session, clock, challenge, f"{raising}-{WHO[stage]}", _decision(stage, decision, rng.choice(SATISFIED)))
