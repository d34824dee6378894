"""Retention on a real database: a challenge closed longer ago than its partnership's retention period loses its
personal content (what people wrote and answered), keeps what the statistics count, and the audit log still
verifies, saying which entries were erased; the database allows no other change of the history, and content
removed without a recorded erasure is found."""

from __future__ import annotations

import zlib

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from engine import retention
from engine.audit.log import extend
from engine.audit.notes import Signer
from engine.audit.verify import verify
from engine.models import Challenge, Event, Notification, Task
from tests.conftest import AUDIT_KEY
from tests.walk import Walk, at

SIGNER = Signer.generate("test.invalid/audit")
RESPOND = {"rationale": "The referral did not meet the threshold for a section 47 enquiry.",
           "response": "We will review the case with the school's DSL."}
RESOLVED = {"discussion": "We agreed a strategy discussion will be held.", "decision": "resolved", "satisfied": "yes",
            "reason": "A strategy discussion addresses the concern."}


def _statistics(session, challenge_id: int) -> tuple:
    """What the business unit's statistics count of a challenge."""
    c = session.get(Challenge, challenge_id)
    missed = session.scalar(select(Event.id).where(Event.challenge_id == c.id, Event.kind == "deadline_missed"))
    stages = sorted(session.scalars(select(Event.data).where(Event.challenge_id == c.id,
                                                             Event.kind == "stage_entered")), key=str)
    return (c.raising_agency_id, c.receiving_agency_id, c.area, c.outcome, c.current_stage, c.raised_at,
            c.closed_at, missed, stages, c.reference)


@pytest.fixture
def closed(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    walk.raise_("csc-practitioner", "Durham Constabulary", subject_reference="CH-3071")
    walk.act("police-practitioner", RESPOND, at(2026, 12, 18, 16, 0))
    walk.act("csc-practitioner", RESOLVED, at(2026, 12, 18, 16, 30))
    assert walk.challenge.status == "closed"
    other = Walk(session, clock, "darlington")
    other.raise_("csc-practitioner", "Durham Constabulary")  # still open: never erased
    demo.retention_days = 365
    session.commit()
    extend(session, clock, SIGNER)
    return walk.challenge.id, other.challenge.id


def test_a_closed_challenge_is_erased_after_the_retention_period_and_the_log_still_verifies(session, clock, closed):
    erased_id, open_id = closed
    before = _statistics(session, erased_id)
    clock.set(at(2027, 12, 18, 16, 29))
    assert retention.erase_due(session, clock) == 0  # a minute before the year is up
    clock.set(at(2027, 12, 18, 16, 30))

    assert retention.erase_due(session, clock) == 1
    extend(session, clock, SIGNER)

    session.expire_all()
    challenge = session.get(Challenge, erased_id)
    assert (challenge.summary, challenge.subject_reference, challenge.erased_at) == ("", "(erased)", clock.now())
    assert all(t.data is None for t in session.scalars(select(Task).where(Task.challenge_id == erased_id)))
    assert {n.body for n in session.scalars(select(Notification).where(Notification.challenge_id == erased_id))} \
        == {""}
    history = list(session.scalars(select(Event).where(Event.challenge_id == erased_id).order_by(Event.id)))
    words = [e for e in history if e.kind in retention.CONTENT_KINDS]
    assert words and all(e.data == {"erased": True} for e in words)
    assert history[-1].kind == "content_erased" and history[-1].data["events"] == len(words)
    assert "threshold" not in str([e.data for e in history])
    state = session.scalar(select(Challenge.state).where(Challenge.id == erased_id))
    text = zlib.decompress(state).decode()
    where = text.find("threshold")
    assert where < 0, text[max(0, where - 300):where + 50]
    assert "CH-3071" not in text
    assert _statistics(session, erased_id)[:-1] == before[:-1]
    assert session.get(Challenge, open_id).summary != ""

    report = verify(session, SIGNER.verifier())
    assert report.ok, report.findings
    assert sorted(report.erased) == sorted(e.id for e in words)
    assert retention.erase_due(session, clock) == 0


def test_erasure_is_the_one_change_the_database_allows_of_the_history(session, clock, closed):
    erased_id, _ = closed
    event_id = session.scalar(select(Event.id).where(Event.challenge_id == erased_id,
                                                     Event.kind == "task_completed"))
    for statement, data in (("UPDATE events SET kind = 'x', data = :data WHERE id = :id", '{"erased":true}'),
                            ("UPDATE events SET data = :data WHERE id = :id", '{"erased":false}'),
                            ("DELETE FROM events WHERE id = :id", None)):
        with pytest.raises(DBAPIError):
            session.execute(text(statement), {"id": event_id, "data": data})
        session.rollback()


def test_content_removed_without_a_recorded_erasure_is_found(session, clock, closed):
    erased_id, _ = closed
    event_id = session.scalar(select(Event.id).where(Event.challenge_id == erased_id,
                                                     Event.kind == "task_completed"))
    session.execute(text("UPDATE events SET data = :data WHERE id = :id"), {"id": event_id,
                                                                          "data": '{"erased":true}'})
    session.commit()

    report = verify(session, SIGNER.verifier())
    assert [(f.kind, f.where) for f in report.findings] == [("altered", f"event {event_id}")]
    assert "records no erasure" in report.findings[0].message


def test_the_commands_erase_and_verify_saying_what_was_erased(session, clock, closed):
    from web import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": str(session.get_bind().url.render_as_string(hide_password=False)),
                      "TESTING": True, "SECRET_KEY": "retention-test", "CLOCK": clock, "AUDIT_KEY": AUDIT_KEY})
    clock.set(at(2027, 12, 19, 9, 0))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["erase-due"])
    assert result.output.strip() == "1 challenge(s) erased", result.output
    extend(session, clock, SIGNER)
    result = runner.invoke(args=["audit", "verify", "--key", SIGNER.verifier(), "--replay"])
    assert result.exit_code == 0, result.output
    assert "the log verifies" in result.output and "entries erased under a retention period" in result.output
    assert "every replay matches" in result.output
    from web.database import db

    with app.app_context():
        db.engine.dispose()


def test_the_timer_worker_erases_what_is_due(sessions, clock, closed):
    from engine.cases.worker import TimerWorker

    erased_id, _ = closed
    clock.set(at(2027, 12, 19, 9, 0))
    TimerWorker(sessions, clock, signer=SIGNER).tick()
    with sessions() as session:
        assert session.get(Challenge, erased_id).erased_at == clock.now()


def test_erasure_keeps_the_reports_facts_and_a_rebuild_leaves_them_as_they_were(session, clock, closed):
    from engine.cases.writer import partnership_calendar
    from engine.models import ChallengeFacts
    from engine.reports.facts import partnerships_missing_facts, rebuild

    challenge = session.get(Challenge, closed[0])
    before = session.get(ChallengeFacts, challenge.id)
    counted = (before.status, before.stage_reached, before.outcome, before.satisfied)
    clock.advance(days=challenge.partnership.retention_days + 1)
    retention.erase(session, clock, session.get(Challenge, challenge.id))
    partnership = session.get(Challenge, challenge.id).partnership
    rebuild(session, partnership.id, partnership_calendar(partnership))
    session.commit()
    session.expire_all()
    after = session.get(ChallengeFacts, challenge.id)
    assert (after.status, after.stage_reached, after.outcome, after.satisfied) == counted
    assert partnerships_missing_facts(session) == []
