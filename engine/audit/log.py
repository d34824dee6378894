"""Taking new rows into the log and signing checkpoints. The worker calls `extend` every few seconds: the events
and access records not yet in the log become its next entries (an event's entry names the previous entry of its
challenge), and when the log has grown a signed checkpoint of its new size is written. One process at a time
extends the log (an advisory lock on PostgreSQL; SQLite has one writer anyway)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..clock import Clock
from ..models import Checkpoint, LogEntry
from ..unit_of_work import unit_of_work
from .entries import access_columns, access_leaf, event_columns, event_leaf
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


def _new(session: Session, table: str, source: str, columns: str, limit: int) -> list:
    """Up to `limit` rows of the table not yet in the log, oldest first, read by their `entries` columns."""
    newest = session.scalar(select(func.max(LogEntry.source_id)).where(LogEntry.source == source)) or 0
    alias = table[0]
    return list(session.execute(text(
        f"SELECT {columns} FROM {table} {alias} WHERE {alias}.id > :floor AND NOT EXISTS (SELECT 1 FROM log_entries "
        f"l WHERE l.source = '{source}' AND l.source_id = {alias}.id) ORDER BY {alias}.id LIMIT :limit"),
        {"floor": newest - LATE_WINDOW, "limit": limit}))


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
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        size = (session.scalar(select(func.max(LogEntry.leaf_index))) or -1) + 1
        events = _new(session, "events", "event", event_columns(dialect), limit)
        records = _new(session, "access_log", "access", access_columns(dialect), limit)
        heads = _last_of_challenges(session, {row[1] for row in events})
        rows = []
        for event in events:
            challenge_id = event[1]
            content, _, leaf = event_leaf(event, heads.get(challenge_id))
            rows.append((size + len(rows), "event", event[0], challenge_id, content, heads.get(challenge_id), leaf))
            heads[challenge_id] = leaf
        for record in records:
            content, _, leaf = access_leaf(record)
            rows.append((size + len(rows), "access", record[0], record[4], content, None, leaf))
        if rows:
            connection = session.connection()
            mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            connection.exec_driver_sql(
                "INSERT INTO log_entries (leaf_index, source, source_id, challenge_id, content_hash, prev_hash, "
                f"leaf_hash) VALUES ({', '.join([mark] * 7)})", rows)
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
