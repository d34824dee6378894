"""Verifying the history: every row of the log recomputed from the events and access records it names, every
challenge's chain followed, the Merkle tree rebuilt and its head compared with every signed checkpoint, and each
checkpoint's signature checked. Whatever was altered, removed, inserted, reordered or truncated, and any
checkpoint forged, is reported with where it is."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ..models import ERASED_DATA, AccessLog, Checkpoint, Event, LogEntry
from .entries import EVENT_WIDTH, access_columns, access_leaf, event_columns, event_header, event_leaf, moment
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
    # Events whose content was erased under a retention period (engine.retention): each verified by its header
    # against the content hash the log recorded (its words are gone, so they cannot be checked), never silently.
    erased: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


# Each entry against the row it names: the entries in leaf order joined to their rows, read as the log reads them
# (`entries.py`), so an honest entry is checked by writing its header and two hashes.
_ROWS = """
SELECT l.leaf_index, l.source, l.source_id, l.content_hash, l.prev_hash, l.leaf_hash, {events}, {access}
FROM log_entries l
LEFT JOIN events e ON l.source = 'event' AND e.id = l.source_id
LEFT JOIN access_log a ON l.source = 'access' AND a.id = l.source_id
WHERE l.leaf_index >= {start} AND l.leaf_index < {end}
ORDER BY l.leaf_index"""
_E, _A = 6, 6 + EVENT_WIDTH  # where the row's columns start
# The sequence: every entry's place, challenge and hashes, for the chains and the tree.
_SEQUENCE = """
SELECT leaf_index, source, source_id, challenge_id, prev_hash, leaf_hash FROM log_entries
WHERE leaf_index < {end} ORDER BY leaf_index"""
# Below this many entries the row checks run in this process whatever was asked.
PARALLEL_FROM = 50_000

# What a row check hands back about an entry: (leaf index, source, source id, what is wrong, the time the row says
# it was recorded). Wrong: "missing" (no such row), "content" (not the content hashed), "header" (its kind, time,
# people or place are not the ones committed to), "late" (recorded well before a checkpoint signed without it).
Suspect = tuple[int, str, int, str, str | None]


def _check_rows(cursor, dialect: str, start: int, end: int, signed: list[tuple[int, str]]) -> list[Suspect]:
    """The entries in [start, end) whose row is not as committed. `signed`: (checkpoint size, the time a row
    must have been recorded after to come after that checkpoint)."""
    suspects: list[Suspect] = []
    before = sum(1 for size, _ in signed if size <= start)
    cursor.execute(_ROWS.format(events=event_columns(dialect), access=access_columns(dialect), start=int(start),
                                end=int(end)))
    while rows := cursor.fetchmany(5000):
        for row in rows:
            index, source, source_id, stored_content, prev, stored_leaf = row[:6]
            while before < len(signed) and signed[before][0] <= index:
                before += 1
            if source == "event":
                if row[_E] is None:
                    suspects.append((index, source, source_id, "missing", None))
                    continue
                recorded = row[_E + 4]
                if row[_A - 1] == ERASED_DATA:
                    # Erased: its header, with the content hash recorded when the log took it, must still hold.
                    erased_leaf = leaf_hash(event_header(*row[_E:_A - 1], stored_content, prev))
                    suspects.append((index, source, source_id, "erased" if erased_leaf == stored_leaf else "header",
                                     recorded))
                    continue
                content, _, leaf = event_leaf(row[_E:_A], prev)
            else:
                if row[_A] is None:
                    suspects.append((index, source, source_id, "missing", None))
                    continue
                recorded = row[_A + 1]
                content, _, leaf = access_leaf(row[_A:])
            if content != stored_content:
                suspects.append((index, source, source_id, "content", recorded))
            elif leaf != stored_leaf:
                suspects.append((index, source, source_id, "header", recorded))
            elif before and recorded is not None and recorded < signed[before - 1][1]:
                suspects.append((index, source, source_id, "late", recorded))
    return suspects


def _check_rows_elsewhere(url: str, dialect: str, start: int, end: int, signed) -> list[Suspect]:
    """`_check_rows` in a process of its own, on its own connection."""
    from ..db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()
            return _check_rows(cursor, dialect, start, end, signed)
    finally:
        engine.dispose()


def _elsewhere(session: Session, size: int, workers: int) -> str | None:
    """The database's address, if the row checks are to run in other processes: asked for, a log large enough
    to be worth it, a database other processes can open, and processes that can be forked."""
    url = session.get_bind().url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    if workers > 1 and size >= PARALLEL_FROM and not in_memory and "fork" in multiprocessing.get_all_start_methods():
        return url.render_as_string(hide_password=False)
    return None


def _check_rows_in_processes(url: str, dialect: str, size: int, signed, workers: int) -> list[Suspect]:
    bounds = [size * k // workers for k in range(workers + 1)]
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = [pool.submit(_check_rows_elsewhere, url, dialect, bounds[k], bounds[k + 1], signed)
                 for k in range(workers)]
        return [suspect for part in parts for suspect in part.result()]


def verify(session: Session, verifier: str | None = None, workers: int = 1) -> Report:
    """Verify the whole log against the rows and the checkpoints. `verifier`: the public key auditors trust;
    without one, each checkpoint is checked against the key it names. `workers`: how many processes check the
    entries against their rows (a large log, on a database other processes can open); the chains and the tree
    are followed here meanwhile."""
    started = time.perf_counter()
    report = Report()
    found: list[tuple[tuple[int, int], Finding]] = []  # (leaf, order within it), to report in the log's order
    # As the database holds them now (not as this session last saw them).
    checkpoints = list(session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)
                                       .execution_options(populate_existing=True)))
    report.checkpoints = len(checkpoints)
    by_size = {c.tree_size: c for c in checkpoints}
    size = (session.scalar(select(func.max(LogEntry.leaf_index))) or -1) + 1
    # An entry after checkpoint k was taken into the log after k was signed, so the row it names should not have
    # been recorded well before k was signed.
    signed = [(c.tree_size, moment(c.at - PENDING_GRACE)) for c in checkpoints]

    dialect = session.get_bind().dialect.name
    url = _elsewhere(session, size, workers)
    if url:
        # The other processes check the rows while this one follows the sequence.
        with concurrent.futures.ThreadPoolExecutor(1) as waiting:
            checked = waiting.submit(_check_rows_in_processes, url, dialect, size, signed, workers)
            report.entries = _follow_sequence(session, size, by_size, found)
            suspects = checked.result()
    else:
        report.entries = _follow_sequence(session, size, by_size, found)
        cursor = session.connection().connection.dbapi_connection.cursor()
        try:
            suspects = _check_rows(cursor, dialect, 0, size, signed)
        finally:
            cursor.close()
    erased = [(index, source_id) for index, _, source_id, problem, _ in suspects if problem == "erased"]
    suspects = [suspect for suspect in suspects if suspect[3] != "erased"]
    report.erased = [source_id for _, source_id in erased]
    found.extend(_unrecorded_erasures(session, erased))
    for index, source, source_id, problem, recorded in suspects:
        if index >= report.entries:
            continue  # past a gap in the log, already reported
        what = f"event {source_id}" if source == "event" else f"access record {source_id}"
        found.append(((index, 1), Finding(*{
            "missing": ("removed", what, f"{what} (leaf {index}) is in the log but not in the "
                        + ("history" if source == "event" else "access log")),
            "content": ("altered", what, f"{what} (leaf {index}): its content is not what the log holds"),
            "header": ("altered", what, f"{what} (leaf {index}): its kind, time, people or place are not what the "
                       "log holds"),
            "late": ("inserted", what, f"{what} says it was recorded at {(recorded or '')[:10]} "
                     f"{(recorded or '')[11:19]}, before a checkpoint that does not hold it: it was inserted "
                     "afterwards"),
        }[problem])))
    found.sort(key=lambda pair: pair[0])
    report.findings = [finding for _, finding in found]
    _check_checkpoints(report.findings, checkpoints, report.entries, verifier)
    _check_pending(session, report.findings, checkpoints)
    report.seconds = time.perf_counter() - started
    return report


def _unrecorded_erasures(session: Session, erased: list[tuple[int, int]]) -> list:
    """Erased events whose challenge has no erasure of its own in the history (a `content_erased` event the log
    holds): content removed some other way."""
    if not erased:
        return []
    ids = [source_id for _, source_id in erased]
    challenge_of = dict(session.execute(select(Event.id, Event.challenge_id).where(Event.id.in_(ids))).all())
    recorded = set(session.scalars(
        select(Event.challenge_id).where(Event.kind == "content_erased",
                                         Event.challenge_id.in_(set(challenge_of.values())),
                                         exists().where(LogEntry.source == "event", LogEntry.source_id == Event.id))))
    return [((index, 1), Finding("altered", f"event {source_id}", f"event {source_id} (leaf {index}): its content "
                                 "was removed, but its challenge records no erasure"))
            for index, source_id in erased if challenge_of.get(source_id) not in recorded]


def _follow_sequence(session: Session, size: int, by_size: dict, found: list) -> int:
    """Each challenge's chain and the tree over every entry, its head compared with each checkpoint's. The number
    of entries before any gap."""
    frontier = Frontier()
    heads: dict[int, bytes] = {}
    cursor = session.connection().connection.dbapi_connection.cursor()
    cursor.execute(_SEQUENCE.format(end=int(size)))
    expected = 0
    try:
        while rows := cursor.fetchmany(10_000):
            for index, source, source_id, challenge_id, prev, leaf in rows:
                if index != expected:
                    found.append(((expected, 0), Finding("removed", f"leaf {expected}", f"the log has no entry "
                                                         f"{expected}: entries were removed from it")))
                    return expected
                expected += 1
                if source == "event":
                    if prev != heads.get(challenge_id):
                        found.append(((index, 0), Finding(
                            "reordered", f"leaf {index}", f"event {source_id} of challenge {challenge_id} does not "
                            "follow the challenge's previous entry: entries were reordered or removed")))
                    heads[challenge_id] = leaf
                frontier.append(leaf)
                checkpoint = by_size.get(expected)
                if checkpoint is not None and frontier.root() != checkpoint.root_hash:
                    earlier = max((s for s in by_size if s < expected), default=0)
                    found.append(((index, 3), Finding(
                        "altered", f"checkpoint {checkpoint.tree_size}",
                        f"the log's first {checkpoint.tree_size} entries do not give the head signed at "
                        f"{checkpoint.at:%Y-%m-%d %H:%M:%S}: an entry between leaf {earlier} and leaf "
                        f"{checkpoint.tree_size - 1} was altered, inserted, removed or reordered")))
    finally:
        cursor.close()
    return expected


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


def _check_pending(session: Session, findings, checkpoints) -> None:
    """Rows recorded well before the latest checkpoint that are not in the log were put into the history later."""
    if not checkpoints:
        return
    cutoff = checkpoints[-1].at - PENDING_GRACE
    for model, source, at, label in ((Event, "event", Event.recorded_at, "event"),
                                     (AccessLog, "access", AccessLog.at, "access record")):
        in_log = exists().where(LogEntry.source == source, LogEntry.source_id == model.id)
        for row_id in session.scalars(select(model.id).where(at < cutoff, ~in_log).order_by(model.id)):
            findings.append(Finding("inserted", f"{label} {row_id}",
                                    f"{label} {row_id} was recorded before the latest checkpoint but is not in "
                                    "the log: it was inserted afterwards"))
