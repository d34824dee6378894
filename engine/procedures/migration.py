"""Moving running challenges onto the current version of their procedure. A dry run says, per case, whether it
can move and why not; a migration moves the chosen cases one transaction per case: its data, history,
claims and task rows are kept, its waiting deadlines too unless the owner re-arms them, a `case_migrated` event
names both versions' hashes, and a case that cannot move is left untouched and reported. A migration is undone
(`revert`) while nothing has happened to the case since."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker, undefer

from .. import events
from ..cases.step import take
from ..clock import Clock
from ..errors import Conflict, NotFound, StepFailed
from ..models import CaseMigration, Challenge, Event, Partnership, ProcedureVersion
from ..unit_of_work import unit_of_work
from .versions import version_of


@dataclass(frozen=True)
class CaseMove:
    challenge_id: int
    reference: str
    moved: bool  # in a dry run: whether it can move
    reason: str


def open_cases(session: Session, partnership: Partnership, from_version_id: int | None = None) -> list[Challenge]:
    """The partnership's open challenges that are not on its current version (or only those on one version)."""
    query = select(Challenge).where(Challenge.partnership_id == partnership.id, Challenge.status == "open",
                                    Challenge.procedure_version_id != partnership.current_version_id)
    if from_version_id is not None:
        query = query.where(Challenge.procedure_version_id == from_version_id)
    return list(session.scalars(query.order_by(Challenge.id)))


def _target(session: Session, partnership: Partnership) -> ProcedureVersion:
    if partnership.current_version_id is None:
        raise NotFound(f"{partnership.name} has no current version")
    return session.get(ProcedureVersion, partnership.current_version_id)


def _refusal(challenge: Challenge, target: ProcedureVersion) -> str | None:
    if challenge.status != "open":
        return "it is closed"
    if challenge.procedure_version_id == target.id:
        return "it already runs on this version"
    if challenge.set_aside_reason:
        return f"it is set aside: {challenge.set_aside_reason}"
    if challenge.procedure_version.procedure != target.procedure:
        return "it runs another procedure"
    return None


def dry_run(session: Session, clock: Clock, partnership: Partnership, challenge_ids: list[int],
            mapping: dict[str, str] | None = None) -> list[CaseMove]:
    """Whether each case could move onto the current version now, and why not (`mapping`: elements the new
    version gave other ids, old id -> new id). Changes nothing."""
    target = _target(session, partnership)
    moves = []
    for challenge in _chosen(session, partnership, challenge_ids):
        version_of(session, challenge)
        reason = _refusal(challenge, target)
        if reason is None:
            try:
                take(clock, challenge, challenge.procedure_version, "migrate", migrate_to=target, mapping=mapping)
            except (Conflict, StepFailed) as exc:
                reason = str(exc)
        moves.append(CaseMove(challenge.id, challenge.reference, reason is None, reason or "can move"))
    return moves


def _chosen(session: Session, partnership: Partnership, challenge_ids: list[int]) -> list[Challenge]:
    found = list(session.scalars(select(Challenge).where(Challenge.id.in_(challenge_ids),
                                                         Challenge.partnership_id == partnership.id)
                                 .order_by(Challenge.id)))
    return found


def migrate(session: Session, clock: Clock, partnership: Partnership, challenge_ids: list[int], by: str | None,
            rearm: bool = False, mapping: dict[str, str] | None = None) -> list[CaseMove]:
    """Move each chosen case onto the current version, each in a transaction of its own (committed here); a
    case that cannot move is left as it was and reported with why."""
    target = _target(session, partnership)
    return [_migrate_one(session, clock, partnership.id, challenge_id, target, by, rearm, mapping)
            for challenge_id in challenge_ids]


def migrate_many(sessions: sessionmaker, clock: Clock, partnership_id: int, challenge_ids: list[int],
                 by: str | None, rearm: bool = False, workers: int = 4, batch: int = 500) -> list[CaseMove]:
    """`migrate` for many cases: batches taken by `workers` threads, each with a session of its own (still one
    transaction per case; the time of each commit overlaps the others' work). The moves in the cases' order."""
    def run(ids: list[int]) -> list[CaseMove]:
        with sessions() as session:
            partnership = session.get(Partnership, partnership_id)
            target = _target(session, partnership)
            moves = [_migrate_one(session, clock, partnership_id, challenge_id, target, by, rearm)
                     for challenge_id in ids]
            return moves

    batches = [challenge_ids[n:n + batch] for n in range(0, len(challenge_ids), batch)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [move for moves in pool.map(run, batches) for move in moves]


def _migrate_one(session: Session, clock: Clock, partnership_id: int, challenge_id: int,
                 target: ProcedureVersion, by: str | None, rearm: bool,
                 mapping: dict[str, str] | None = None) -> CaseMove:
    with unit_of_work(session) as work:
        challenge = session.scalar(select(Challenge).where(Challenge.id == challenge_id,
                                                           Challenge.partnership_id == partnership_id)
                                   .options(undefer(Challenge.state)).with_for_update())
        if challenge is None:
            return CaseMove(challenge_id, "?", False, "no such challenge in this partnership")
        before = version_of(session, challenge)
        reason = _refusal(challenge, target)
        if reason is None:
            try:
                result = take(clock, challenge, before, "migrate", migrate_to=target, rearm=rearm, mapping=mapping)
            except (Conflict, StepFailed) as exc:
                reason = str(exc)
        if reason is not None:
            return CaseMove(challenge.id, challenge.reference, False, reason)
        previous_state, previous_due = challenge.state, challenge.next_timer_due
        events.write(session, clock, challenge.id, [events.CaseMigrated(at=clock.now(), data={
            "from_version": before.number, "to_version": target.number, "from_hash": before.content_hash,
            "to_hash": target.content_hash, "rearmed": rearm, "mapping": mapping or {}, "by": by})])
        event_id = session.scalar(select(func.max(Event.id)).where(Event.challenge_id == challenge.id))
        session.add(CaseMigration(challenge_id=challenge.id, from_version_id=before.id, to_version_id=target.id,
                                  at=clock.now(), by=by, rearmed=rearm, previous_state=previous_state,
                                  previous_next_timer_due=previous_due, event_id=event_id))
        challenge.state = base64.b64decode(result.state)
        challenge.procedure_version_id = target.id
        challenge.next_timer_due = datetime.fromisoformat(result.next_timer_due) if result.next_timer_due else None
        work.commit()
        return CaseMove(challenge.id, challenge.reference, True, f"moved to version {target.number}")


def migrations_of(session: Session, partnership: Partnership) -> list[CaseMigration]:
    return list(session.scalars(select(CaseMigration).join(Challenge, Challenge.id == CaseMigration.challenge_id)
                                .where(Challenge.partnership_id == partnership.id)
                                .order_by(CaseMigration.id.desc()).limit(200)))


def revert(session: Session, clock: Clock, partnership: Partnership, migration_id: int, by: str | None) -> Challenge:
    """Put the case back as it was before the migration, if nothing has happened to it since (its last event is
    still the migration's); `Conflict` if something has. The caller commits."""
    migration = session.get(CaseMigration, migration_id)
    challenge = session.get(Challenge, migration.challenge_id) if migration is not None else None
    if challenge is None or challenge.partnership_id != partnership.id:
        raise NotFound("No such migration.")
    if migration.reverted_at is not None:
        raise Conflict("This migration was undone already.")
    last = session.scalar(select(func.max(Event.id)).where(Event.challenge_id == challenge.id))
    if last != migration.event_id or challenge.procedure_version_id != migration.to_version_id:
        raise Conflict("Something has happened to the case since it was moved, so the move cannot be undone.")
    moved_to = session.get(ProcedureVersion, migration.to_version_id)
    back_to = session.get(ProcedureVersion, migration.from_version_id)
    challenge.state = migration.previous_state
    challenge.procedure_version_id = back_to.id
    challenge.next_timer_due = migration.previous_next_timer_due
    migration.reverted_at = clock.now()
    events.write(session, clock, challenge.id, [events.MigrationReverted(at=clock.now(), data={
        "from_version": moved_to.number, "to_version": back_to.number, "from_hash": moved_to.content_hash,
        "to_hash": back_to.content_hash, "by": by})])
    return challenge
