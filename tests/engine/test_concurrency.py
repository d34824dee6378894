"""Two people acting on the same task at the same moment, on real connections: exactly one wins, the other is
told clearly, and nothing of the loser's is half-applied."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from engine.accounts import create_user
from engine.cases.raising import raise_challenge
from engine.cases.tasks import claim_task, complete_task
from engine.errors import Conflict
from engine.models import Event, Task
from engine.queries import access
from tests.conftest import raise_answers

ANSWERS = {"rationale": "Threshold not met.", "response": "We will look again."}


def _race(sessions, clock, usernames, action):
    """Run `action(session, user)` for each username at the same moment; return what each got."""
    barrier = threading.Barrier(len(usernames))
    outcomes = {}

    def run(username):
        with sessions() as s:
            from engine.models import User

            user = s.scalar(select(User).where(User.username == username))
            barrier.wait()
            try:
                action(s, user)
                outcomes[username] = "won"
            except Conflict as exc:
                outcomes[username] = f"conflict: {exc}"

    threads = [threading.Thread(target=run, args=(name,)) for name in usernames]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _second_officer(session, agency):
    police = agency("Durham")
    create_user(session, "police-practitioner-2", "Second practitioner, Durham Constabulary",
                "pp2@demo.invalid", "demo-password", [(police.id, "practitioner")])
    session.commit()


def test_two_people_completing_the_same_task_at_once(sessions, session, clock, user, agency):
    _second_officer(session, agency)
    for round_ in range(5):
        challenge = raise_challenge(session, clock, user("csc-practitioner"),
                                    raise_answers(agency("Durham").id, subject_reference=f"RACE-{round_}"))
        task = session.scalar(select(Task).where(Task.challenge_id == challenge.id, Task.status == "open"))
        outcomes = _race(sessions, clock, ["police-practitioner", "police-practitioner-2"],
                         lambda s, u, task_id=task.id: complete_task(s, clock, u, task_id, dict(ANSWERS)))
        assert sorted(o.split(":")[0] for o in outcomes.values()) == ["conflict", "won"], outcomes
        session.expire_all()
        completed = session.scalars(select(Event).where(Event.challenge_id == challenge.id,
                                                        Event.kind == "task_completed")).all()
        assert len(completed) == 1
        winner = next(name for name, o in outcomes.items() if o == "won")
        assert completed[0].actor.username == winner
        assert session.get(Task, task.id).completed_by.username == winner
        # The next task opened once, not twice.
        assert session.scalar(select(func.count(Task.id)).where(Task.challenge_id == challenge.id,
                                                                Task.bpmn_id == "s1_decide")) == 1


def test_two_people_claiming_the_same_task_at_once(sessions, session, clock, user, agency):
    _second_officer(session, agency)
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    task = session.scalar(select(Task).where(Task.challenge_id == challenge.id, Task.status == "open"))
    outcomes = _race(sessions, clock, ["police-practitioner", "police-practitioner-2"],
                     lambda s, u: claim_task(s, clock, u, task.id))
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["conflict", "won"], outcomes
    loser = next(name for name, o in outcomes.items() if o != "won")
    assert "claimed" in outcomes[loser]
    session.expire_all()
    claims = session.scalars(select(Event).where(Event.challenge_id == challenge.id,
                                                 Event.kind == "task_claimed")).all()
    assert len(claims) == 1
    assert access.my_tasks(session, user(loser)) == []
