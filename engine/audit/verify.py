"""Verifying the history: every row of the log recomputed from the events and access records it names, every
challenge's chain followed, the Merkle tree rebuilt and its head compared with every signed checkpoint, and each
checkpoint's signature checked. Whatever was altered, removed, inserted, reordered or truncated, and any
checkpoint forged, is reported with where it is."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Text, select
from sqlalchemy.orm import Session

from ..models import AccessLog, Checkpoint, Event, LogEntry, UTCDateTime
from .entries import access_content, access_header, content_hash, event_header
from .merkle import Frontier, leaf_hash
from .notes import open_checkpoint

# A row may still be on its way into the log (the worker takes rows every few seconds): only one this much older
# than the newest checkpoint and missing from the log is reported as inserted.
PENDING_GRACE = timedelta(minutes=2)


@dataclass(frozen=True)
class Finding:
    kind: str  # altered, removed, inserted, reordered, truncated, forged
    where: str  # "event 42", "access record 7", "leaf 12", "checkpoint 300"
    message: str


@dataclass
class Report:
    entries: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings


_UTC = UTCDateTime()
_TEXT = Text()


def _moment(value):
    """A timestamp as the driver returns it (SQLite: text; PostgreSQL: datetime) made an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return _UTC.process_result_value(value, None)


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def verify(session: Session, verifier: str | None = None) -> Report:
    """Verify the whole log against the rows and the checkpoints. `verifier`: the public key auditors trust;
    without one, each checkpoint is checked against the key it names."""
    started = time.perf_counter()
    report = Report()
    findings = report.findings
    connection = session.connection()
    events = {row[0]: row for row in connection.execute(select(
        Event.id, Event.challenge_id, Event.kind, Event.at, Event.recorded_at, Event.actor_id, Event.task_id,
        Event.element_id, Event.data.cast(_TEXT))).all()}
    records = {row[0]: row for row in connection.execute(select(
        AccessLog.id, AccessLog.at, AccessLog.kind, AccessLog.user_id, AccessLog.challenge_id, AccessLog.token_id,
        AccessLog.username, AccessLog.address, AccessLog.what, AccessLog.detail.cast(_TEXT))).all()}
    entries = connection.execute(select(LogEntry.leaf_index, LogEntry.source, LogEntry.source_id,
                                        LogEntry.challenge_id, LogEntry.content_hash, LogEntry.prev_hash,
                                        LogEntry.leaf_hash).order_by(LogEntry.leaf_index)).all()
    # As the database holds them now (not as this session last saw them).
    checkpoints = list(session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)
                                       .execution_options(populate_existing=True)))
    report.entries, report.checkpoints = len(entries), len(checkpoints)
    by_size = {c.tree_size: c for c in checkpoints}

    frontier = Frontier()
    heads: dict[int, bytes] = {}
    logged = {"event": set(), "access": set()}
    # The checkpoints in size order: an entry after checkpoint k was taken into the log after k was signed.
    signed = [(c.tree_size, c.at) for c in checkpoints]
    before = 0  # how many of them an entry comes after
    for expected_index, entry in enumerate(entries):
        index, source, source_id, challenge_id, stored_content, prev, stored_leaf = entry
        if index != expected_index:
            findings.append(Finding("removed", f"leaf {expected_index}",
                                    f"the log has no entry {expected_index}: entries were removed from it"))
            break
        logged[source].add(source_id)
        what = f"event {source_id}" if source == "event" else f"access record {source_id}"
        while before < len(signed) and signed[before][0] <= index:
            before += 1
        signed_before = signed[before - 1][1] if before else None
        if source == "event":
            if prev != heads.get(challenge_id):
                findings.append(Finding("reordered", f"leaf {index}", f"{what} of challenge {challenge_id} does not "
                                        "follow the challenge's previous entry: entries were reordered or removed"))
            heads[challenge_id] = stored_leaf
            row = events.get(source_id)
            if row is None:
                findings.append(Finding("removed", what, f"{what} (leaf {index}) is in the log but not in the history"))
            else:
                content = content_hash(_json(row[8]) or {})
                recorded = _moment(row[4])
                leaf = leaf_hash(event_header(row[0], row[1], row[2], _moment(row[3]), recorded, row[5],
                                              row[6], row[7], content, prev))
                _compare(findings, what, index, content, stored_content, leaf, stored_leaf)
                _late(findings, what, recorded, signed_before)
        else:
            row = records.get(source_id)
            if row is None:
                findings.append(Finding("removed", what, f"{what} (leaf {index}) is in the log but not in the access "
                                        "log"))
            else:
                content = content_hash(access_content(row[6], row[7], row[8], _json(row[9])))
                at = _moment(row[1])
                leaf = leaf_hash(access_header(row[0], at, row[2], row[3], row[4], row[5], content))
                _compare(findings, what, index, content, stored_content, leaf, stored_leaf)
                _late(findings, what, at, signed_before)
        frontier.append(stored_leaf)
        checkpoint = by_size.get(frontier.size)
        if checkpoint is not None and frontier.root() != checkpoint.root_hash:
            earlier = max((s for s in by_size if s < frontier.size), default=0)
            findings.append(Finding("altered", f"checkpoint {checkpoint.tree_size}",
                                    f"the log's first {checkpoint.tree_size} entries do not give the head signed at "
                                    f"{checkpoint.at:%Y-%m-%d %H:%M:%S}: an entry between leaf {earlier} and leaf "
                                    f"{checkpoint.tree_size - 1} was altered, inserted, removed or reordered"))
    _check_checkpoints(findings, checkpoints, len(entries), verifier)
    _check_pending(findings, events, records, logged, checkpoints)
    report.seconds = time.perf_counter() - started
    return report


def _late(findings, what: str, recorded, signed_before) -> None:
    """A row recorded well before a checkpoint that was signed without it was put into the history afterwards."""
    if signed_before is not None and recorded < signed_before - PENDING_GRACE:
        findings.append(Finding("inserted", what, f"{what} says it was recorded at {recorded:%Y-%m-%d %H:%M:%S}, "
                                "before a checkpoint that does not hold it: it was inserted afterwards"))


def _compare(findings, what, index, content, stored_content, leaf, stored_leaf) -> None:
    if content != stored_content:
        findings.append(Finding("altered", what, f"{what} (leaf {index}): its content is not what the log holds"))
    elif leaf != stored_leaf:
        findings.append(Finding("altered", what, f"{what} (leaf {index}): its kind, time, people or place are not "
                                "what the log holds"))


def _check_checkpoints(findings, checkpoints, size: int, verifier: str | None) -> None:
    for checkpoint in checkpoints:
        where = f"checkpoint {checkpoint.tree_size}"
        try:
            opened = open_checkpoint(checkpoint.note, verifier or checkpoint.verifier)
        except ValueError as exc:
            findings.append(Finding("forged", where, f"{where}: {exc}"))
            continue
        if (opened.size, opened.root) != (checkpoint.tree_size, checkpoint.root_hash):
            findings.append(Finding("forged", where, f"{where}: the signed note says size {opened.size}, the row "
                                    "another size or root"))
    if checkpoints and checkpoints[-1].tree_size > size:
        findings.append(Finding("truncated", "the log", f"checkpoint {checkpoints[-1].tree_size} was signed for "
                                f"{checkpoints[-1].tree_size} entries but the log has {size}: it was truncated"))


def _check_pending(findings, events, records, logged, checkpoints) -> None:
    if not checkpoints:
        return
    cutoff = checkpoints[-1].at - PENDING_GRACE
    for source, rows, at_column, label in (("event", events, 4, "event"), ("access", records, 1, "access record")):
        for row_id, row in rows.items():
            if row_id not in logged[source] and _moment(row[at_column]) < cutoff:
                findings.append(Finding("inserted", f"{label} {row_id}",
                                        f"{label} {row_id} was recorded before the latest checkpoint but is not in "
                                        "the log: it was inserted afterwards"))

