"""Taking new rows into the log and signing checkpoints. The worker calls `extend` every few seconds: the events
and access records not yet in the log become its next entries (an event's entry names the previous entry of its
challenge), and when the log has grown a signed checkpoint of its new size is written. One process at a time
extends the log (an advisory lock on PostgreSQL; SQLite has one writer anyway)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import Session

from ..clock import Clock
from ..models import AccessLog, Checkpoint, Event, LogEntry
from ..unit_of_work import unit_of_work
from .entries import access_leaf, event_leaf
from .merkle import Frontier
from .notes import Signer, checkpoint_body

# A row committed late (its transaction began before others that committed first) still has a recent id: look
# back this far behind the newest row already in the log for any such row.
LATE_WINDOW = 10_000
_LOCK = 7_240_116  # the advisory lock's number (PostgreSQL)


@dataclass(frozen=True)
class Extended:
    added: int
    size: int
    checkpoint: int | None  # the size of the checkpoint written, if one was


def _new(session: Session, model, source: str, limit: int):
    newest = session.scalar(select(func.max(LogEntry.source_id)).where(LogEntry.source == source)) or 0
    in_log = exists().where(LogEntry.source == source, LogEntry.source_id == model.id)
    return list(session.scalars(select(model).where(model.id > newest - LATE_WINDOW, ~in_log)
                                .order_by(model.id).limit(limit)))


def _last_of_challenges(session: Session, challenge_ids: set[int]) -> dict[int, bytes]:
    """The leaf hash of each challenge's latest event entry."""
    if not challenge_ids:
        return {}
    latest = (select(LogEntry.challenge_id, func.max(LogEntry.leaf_index).label("leaf"))
              .where(LogEntry.source == "event", LogEntry.challenge_id.in_(challenge_ids))
              .group_by(LogEntry.challenge_id).subquery())
    return dict(session.execute(select(LogEntry.challenge_id, LogEntry.leaf_hash)
                                .join(latest, LogEntry.leaf_index == latest.c.leaf)).all())


def extend(session: Session, clock: Clock, signer: Signer, limit: int = 20_000) -> Extended:
    """Take up to `limit` new rows of each kind into the log and, if it grew, sign a checkpoint. Commits."""
    with unit_of_work(session) as work:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        size = (session.scalar(select(func.max(LogEntry.leaf_index))) or -1) + 1
        events = _new(session, Event, "event", limit)
        records = _new(session, AccessLog, "access", limit)
        heads = _last_of_challenges(session, {e.challenge_id for e in events})
        rows = []
        for event in events:
            content, leaf = event_leaf(event, heads.get(event.challenge_id))
            rows.append(dict(leaf_index=size + len(rows), source="event", source_id=event.id,
                             challenge_id=event.challenge_id, content_hash=content,
                             prev_hash=heads.get(event.challenge_id), leaf_hash=leaf))
            heads[event.challenge_id] = leaf
        for record in records:
            content, leaf = access_leaf(record)
            rows.append(dict(leaf_index=size + len(rows), source="access", source_id=record.id,
                             challenge_id=record.challenge_id, content_hash=content, prev_hash=None,
                             leaf_hash=leaf))
        if rows:
            session.execute(LogEntry.__table__.insert(), rows)
        written = _checkpoint(session, clock, signer, size + len(rows))
        work.commit()
    return Extended(len(rows), size + len(rows), written)


def _checkpoint(session: Session, clock: Clock, signer: Signer, size: int) -> int | None:
    last = session.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))
    if size == 0 or (last is not None and last.tree_size >= size):
        return None
    frontier = Frontier()
    start = 0
    if last is not None:
        frontier.size, frontier.stack = last.tree_size, [(h, bytes.fromhex(v)) for h, v in last.frontier]
        start = last.tree_size
    for leaf in session.scalars(select(LogEntry.leaf_hash).where(LogEntry.leaf_index >= start)
                                .order_by(LogEntry.leaf_index)):
        frontier.append(leaf)
    root = frontier.root()
    note = signer.sign(checkpoint_body(signer.name, size, root))
    session.add(Checkpoint(tree_size=size, root_hash=root, note=note, at=clock.now(), verifier=signer.verifier(),
                           frontier=[[h, v.hex()] for h, v in frontier.stack]))
    return size


def latest_checkpoint(session: Session) -> Checkpoint | None:
    return session.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))
