"""The tamper-evident log, on a real database: the worker takes events and access records into an RFC 9162
Merkle tree and signs checkpoints; the database refuses UPDATE and DELETE on the history; and whatever an
administrator of the database does anyway (the triggers dropped, rows changed by raw SQL) verification finds and
locates: an event altered, removed, inserted or reordered, the log truncated, a checkpoint forged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from engine import access_log
from engine.access_log import Caller
from engine.audit import merkle
from engine.audit import verify as verify_module
from engine.audit.log import extend, latest_checkpoint
from engine.audit.notes import Signer, checkpoint_body, open_checkpoint
from engine.audit.verify import verify
from engine.cases.raising import raise_challenge
from engine.cases.tasks import complete_task
from engine.models import Checkpoint, Event, LogEntry, Task
from tests.conftest import raise_answers

SIGNER = Signer.generate("test.invalid/audit")


@pytest.fixture
def logged(session, clock, user, agency):
    """Two challenges, one with stage 1 answered, a read of each logged, all taken into the log."""
    first = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    second = raise_challenge(session, clock, user("police-practitioner"), raise_answers(agency("Darlington Ch").id))
    clock.advance(hours=1)
    [task] = session.scalars(select(Task).where(Task.challenge_id == first.id)).all()
    complete_task(session, clock, user("police-practitioner"), task.id,
                  {"rationale": "Below threshold.", "response": "We will look again."})
    for challenge in (first, second):
        access_log.log(session, clock, "case_read", Caller(user("dsp-business-unit"), "10.0.0.5"),
                       challenge_id=challenge.id, what="page")
    session.commit()
    clock.advance(seconds=5)
    done = extend(session, clock, SIGNER)
    assert done.added == done.size and done.checkpoint == done.size
    return first, second


def raw(session, statement: str, **params) -> None:
    session.execute(text(statement), params)
    session.commit()


def drop_guards(session) -> None:
    """What only an administrator of the database could do: take away the append-only triggers."""
    for table in ("events", "access_log", "log_entries", "checkpoints"):
        if session.get_bind().dialect.name == "sqlite":
            raw(session, f"DROP TRIGGER {table}_append_only_update")
            raw(session, f"DROP TRIGGER {table}_append_only_delete")
        else:
            raw(session, f"DROP TRIGGER {table}_append_only ON {table}")


def findings(session):
    return [(f.kind, f.where) for f in verify(session, SIGNER.verifier()).findings]


# --- the log as it should be ----------------------------------------------------------------------------------

def test_a_log_nobody_touched_verifies(session, logged):
    report = verify(session, SIGNER.verifier())
    events = session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
    assert report.ok, report.findings
    assert report.entries == session.query(LogEntry).count() > events / 2 and report.checkpoints == 1


def test_each_events_entry_names_the_previous_entry_of_its_challenge(session, logged):
    first, _ = logged
    entries = session.scalars(select(LogEntry).where(LogEntry.challenge_id == first.id, LogEntry.source == "event")
                              .order_by(LogEntry.leaf_index)).all()
    assert entries[0].prev_hash is None
    assert [e.prev_hash for e in entries[1:]] == [e.leaf_hash for e in entries[:-1]]


def test_the_checkpoint_is_a_signed_tree_head_of_every_entry(session, logged):
    checkpoint = latest_checkpoint(session)
    leaves = session.scalars(select(LogEntry.leaf_hash).order_by(LogEntry.leaf_index)).all()
    opened = open_checkpoint(checkpoint.note, SIGNER.verifier())
    assert (opened.origin, opened.size, opened.root) == ("test.invalid/audit", len(leaves), merkle.root(leaves))
    assert checkpoint.note.startswith(f"test.invalid/audit\n{len(leaves)}\n")


def test_new_history_grows_the_log_and_the_checkpoints_stay_consistent(session, clock, user, logged):
    before = latest_checkpoint(session)
    first, _ = logged
    access_log.log(session, clock, "case_read", Caller(user("csc-practitioner"), "10.0.0.9"), challenge_id=first.id,
                   what="page")
    session.commit()
    assert extend(session, clock, SIGNER).added == 1
    after = latest_checkpoint(session)
    leaves = session.scalars(select(LogEntry.leaf_hash).order_by(LogEntry.leaf_index)).all()
    proof = merkle.consistency_proof(leaves, before.tree_size, after.tree_size)
    assert merkle.verify_consistency(before.tree_size, after.tree_size, before.root_hash, after.root_hash, proof)
    assert extend(session, clock, SIGNER).added == 0 and latest_checkpoint(session).tree_size == after.tree_size
    assert verify(session, SIGNER.verifier()).ok


# --- the database refuses --------------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE events SET data = '{}'", "DELETE FROM events", "UPDATE log_entries SET leaf_hash = leaf_hash",
    "DELETE FROM checkpoints", "UPDATE access_log SET what = 'x'",
])
def test_the_database_refuses_to_change_the_history(session, logged, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert verify(session, SIGNER.verifier()).ok


# --- what verification finds, and where ------------------------------------------------------------------------

def test_an_altered_event_is_found(session, logged):
    first, _ = logged
    drop_guards(session)
    completed = session.scalar(select(Event).where(Event.challenge_id == first.id, Event.kind == "task_completed"))
    raw(session, "UPDATE events SET data = :data WHERE id = :id", id=completed.id,
        data='{"title": "Stage 1: respond to the challenge", "answers": {"response": "We agree entirely."}}')
    assert findings(session) == [("altered", f"event {completed.id}")]


def test_an_event_moved_in_time_is_found(session, logged):
    first, _ = logged
    drop_guards(session)
    raised = session.scalar(select(Event).where(Event.challenge_id == first.id, Event.kind == "challenge_raised"))
    raw(session, "UPDATE events SET at = :at WHERE id = :id", id=raised.id, at=raised.at - timedelta(days=3))
    assert findings(session) == [("altered", f"event {raised.id}")]


def test_a_removed_event_is_found(session, logged):
    first, _ = logged
    drop_guards(session)
    opened = session.scalar(select(Event.id).where(Event.challenge_id == first.id, Event.kind == "task_opened")
                            .order_by(Event.id.desc()).limit(1))
    raw(session, "DELETE FROM events WHERE id = :id", id=opened)
    assert findings(session) == [("removed", f"event {opened}")]


def test_an_event_inserted_into_the_past_is_found_before_and_after_the_log_takes_it(session, clock, logged):
    first, _ = logged
    drop_guards(session)
    hour_ago = clock.now() - timedelta(hours=1)
    raw(session, "INSERT INTO events (id, challenge_id, at, recorded_at, kind, data) VALUES "
                 "(:id, :challenge, :at, :at, 'task_completed', '{}')", id=9000, challenge=first.id,
        at=hour_ago.replace(tzinfo=None))
    clock.advance(minutes=5)
    assert ("inserted", "event 9000") in findings(session)
    extend(session, clock, SIGNER)
    assert ("inserted", "event 9000") in findings(session)


def test_swapped_events_are_found_as_reordered(session, logged):
    first, _ = logged
    drop_guards(session)
    entries = session.scalars(select(LogEntry).where(LogEntry.challenge_id == first.id, LogEntry.source == "event")
                              .order_by(LogEntry.leaf_index)).all()
    a, b = entries[1], entries[2]
    raw(session, "UPDATE log_entries SET leaf_index = -1 WHERE leaf_index = :a", a=a.leaf_index)
    raw(session, "UPDATE log_entries SET leaf_index = :a WHERE leaf_index = :b", a=a.leaf_index, b=b.leaf_index)
    raw(session, "UPDATE log_entries SET leaf_index = :b WHERE leaf_index = -1", b=b.leaf_index)
    found = findings(session)
    assert ("reordered", f"leaf {a.leaf_index}") in found
    assert ("altered", f"checkpoint {latest_checkpoint(session).tree_size}") in found


def test_a_truncated_log_is_found(session, logged):
    drop_guards(session)
    size = latest_checkpoint(session).tree_size
    raw(session, "DELETE FROM log_entries WHERE leaf_index >= :keep", keep=size - 3)
    assert ("truncated", "the log") in findings(session)


def test_a_forged_checkpoint_is_found(session, logged):
    drop_guards(session)
    checkpoint = latest_checkpoint(session)
    forger = Signer.generate("test.invalid/audit")
    forged = forger.sign(checkpoint_body("test.invalid/audit", checkpoint.tree_size, merkle.EMPTY))
    raw(session, "UPDATE checkpoints SET note = :note WHERE tree_size = :size", note=forged, size=checkpoint.tree_size)
    assert findings(session) == [("forged", f"checkpoint {checkpoint.tree_size}")]


def test_a_checkpoint_whose_root_was_replaced_is_found(session, logged):
    drop_guards(session)
    checkpoint = latest_checkpoint(session)
    session.execute(select(Checkpoint))
    raw(session, "UPDATE checkpoints SET root_hash = :root WHERE tree_size = :size", root=merkle.EMPTY,
        size=checkpoint.tree_size)
    found = findings(session)
    assert ("forged", f"checkpoint {checkpoint.tree_size}") in found


def test_rows_checked_in_other_processes_give_the_same_findings(session, clock, logged, monkeypatch):
    """A large log's rows are checked by forked processes on their own connections (audit verify, the bench):
    the same findings, in the same order, as one process."""
    first, second = logged
    drop_guards(session)
    completed = session.scalar(select(Event.id).where(Event.challenge_id == first.id, Event.kind == "task_completed"))
    raised = session.scalar(select(Event.id).where(Event.challenge_id == second.id, Event.kind == "challenge_raised"))
    raw(session, "UPDATE events SET kind = 'task_lapsed' WHERE id = :id", id=completed)
    raw(session, "DELETE FROM events WHERE id = :id", id=raised)
    raw(session, "UPDATE access_log SET address = '10.9.9.9' WHERE id = (SELECT max(id) FROM access_log)")
    alone = findings(session)
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 1)
    together = [(f.kind, f.where) for f in verify(session, SIGNER.verifier(), workers=2).findings]
    assert together == alone
    assert ("altered", f"event {completed}") in alone and ("removed", f"event {raised}") in alone
    assert [kind for kind, where in alone if where.startswith("access record")] == ["altered"]
