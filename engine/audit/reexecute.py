"""Re-executing a case from its history (`audit verify --replay`): the case is started again from the data it
was raised with, on its pinned procedure version, and every completion its history records is done again at its
recorded moment with its answers, in a step process, on the recorded clock. What the procedure does then must be
what the history says it did, moment by moment, and must end where the stored case stands: its open tasks, its
stage, its status and outcome, its next timer. Either "replay matches", or the first event where it diverges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases.run import StepRefused
from ..cases.runner import replay
from ..cases.writer import chosen_fields
from ..models import Agency, CaseMigration, Challenge, Event, ProcedureVersion, Task
from ..procedures.versions import version_of

# What the history has that the procedure does not write (people's claims, refusals, the raising itself).
# Moving a case to another version (and back) is a process owner's act, not the procedure's; claims, notes and
# erasure are people's; the worker's reminders of tasks wanted as soon as possible are the engine's.
_NOT_THE_PROCEDURES = {"challenge_raised", "task_claimed", "timer_failed", "step_failed", "challenge_closed",
                       "task_released", "task_reassigned", "note_added", "content_erased", "case_migrated",
                       "migration_reverted", "challenge_withdrawn", "task_closed_by_withdrawal",
                       "attachment_added", "reminder_sent"}


@dataclass(frozen=True)
class Replayed:
    challenge_id: int
    matches: bool
    event_id: int | None = None  # the first event where the replay diverges
    message: str = "replay matches"


def _start_data(session: Session, challenge: Challenge, raised: Event) -> dict[str, Any]:
    """The data the case started with: kept with its raising since it was kept, else rebuilt from its rows."""
    if "start_data" in (raised.data or {}):
        return raised.data["start_data"]
    raising, receiving = session.get(Agency, challenge.raising_agency_id), session.get(Agency,
                                                                                          challenge.receiving_agency_id)
    data = raised.data or {}
    return {"reference": challenge.reference, "raised_at": challenge.raised_at.isoformat(), "raising_agency":
            raising.name, "raising_agency_id": raising.id, "raising_agency_kind": raising.kind,
            "receiving_agency": receiving.name, "receiving_agency_id": receiving.id,
            "receiving_agency_kind": receiving.kind, "subject_kind": data.get("subject_kind", "child"),
            "subject_reference": challenge.subject_reference, "area": challenge.area, "summary": challenge.summary,
            "cp_or_lac": data.get("cp_or_lac"), "significant_risk": data.get("significant_risk"),
            "concern_first_raised": data.get("concern_first_raised"),
            "deadlines_from": data.get("deadlines_from") or challenge.raised_at.isoformat()}


def _groups(items):
    """Consecutive (moment, [(kind, element)]) merged where the moment is the same."""
    merged = []
    for at, group in groupby(items, key=lambda item: item[0]):
        happened = sorted((h for _, hs in group for h in hs), key=lambda h: (h[0], h[1] or ""))
        merged.append((at, happened))
    return merged


def reexecute(session: Session, challenge: Challenge) -> Replayed:
    history = list(session.scalars(select(Event).where(Event.challenge_id == challenge.id).order_by(Event.id)))
    if not history or history[0].kind != "challenge_raised":
        return Replayed(challenge.id, False, history[0].id if history else None, "the history does not begin with "
                        "the challenge being raised")
    rows = {t.id: t for t in session.scalars(select(Task).where(Task.challenge_id == challenge.id))}
    version = version_of(session, challenge)
    raised = history[0]
    completions = [{"at": e.at.isoformat(), "element": e.element_id or rows[e.task_id].bpmn_id,
                    "answers": (e.data or {}).get("answers", {})} for e in history if e.kind == "task_completed"]
    # A case moved onto another version starts on the one it was raised on and moves where its history says (a
    # move undone changed nothing: the case was put back as it was).
    moved = list(session.scalars(select(CaseMigration).where(CaseMigration.challenge_id == challenge.id,
                                                             CaseMigration.reverted_at.is_(None))
                                 .order_by(CaseMigration.id)))
    events_by_id = {e.id: e for e in history}
    migrations = []
    for move in moved:
        event, target = events_by_id[move.event_id], session.get(ProcedureVersion, move.to_version_id)
        migrations.append({
            "at": event.at.isoformat(), "rearm": move.rearmed, "mapping": (event.data or {}).get("mapping") or {},
            "after": sum(1 for e in history if e.kind == "task_completed" and e.id < move.event_id),
            "version": {"content_hash": target.content_hash, "bpmn_xml": target.bpmn_xml,
                        "process_id": target.process_id}})
    if moved:
        version = session.get(ProcedureVersion, moved[0].from_version_id)
    # A withdrawn case stopped where its withdrawal says: re-executed up to that moment, but not as far as the
    # timer it was waiting for, which never fired.
    withdrawn = next((e for e in history if e.kind == "challenge_withdrawn"), None)
    until = max(e.recorded_at for e in history)
    if withdrawn is not None:
        stopped = (withdrawn.data or {}).get("next_timer_due")
        until = withdrawn.at
        if stopped and datetime.fromisoformat(stopped) <= until:
            until = datetime.fromisoformat(stopped) - timedelta(microseconds=1)
    partnership = challenge.partnership
    request = {
        "version": {"content_hash": version.content_hash, "bpmn_xml": version.bpmn_xml,
                    "process_id": version.process_id},
        "calendar": {"nation": partnership.nation, "end_of_day": partnership.end_of_working_day},
        "chosen_fields": chosen_fields(version),
        "start": {"now": raised.recorded_at.isoformat(), "at": raised.at.isoformat(),
                  "data": _start_data(session, challenge, raised)},
        "completions": completions,
        "migrations": migrations,
        "until": until.isoformat(),
    }
    try:
        result = replay(request)
    except StepRefused as exc:
        return Replayed(challenge.id, False, None, f"the history cannot be followed: {exc}")

    stored = [(e.at, [(("task_withdrawn" if e.kind == "task_cancelled" else e.kind),
                       e.element_id or (rows[e.task_id].bpmn_id if e.task_id in rows else None))], e.id)
              for e in history if e.kind not in _NOT_THE_PROCEDURES]
    first_ids = {}
    for at, _, event_id in stored:
        first_ids.setdefault(at, event_id)
    found = _groups([(at, h) for at, h, _ in stored])
    expected = _groups([(datetime.fromisoformat(at), [tuple(h) for h in hs]) for at, hs in result["written"]])
    for want, got in zip(expected, found, strict=False):
        if want != got:
            return Replayed(challenge.id, False, first_ids.get(got[0]),
                            f"at {got[0]:%Y-%m-%d %H:%M} the history has {got[1]}, re-execution {want[1]}")
    if len(expected) != len(found):
        extra = expected[len(found)] if len(expected) > len(found) else found[len(expected)]
        return Replayed(challenge.id, False, first_ids.get(extra[0]),
                        f"the history and re-execution part at {extra[0]:%Y-%m-%d %H:%M}")
    open_rows = sorted(t.bpmn_id for t in rows.values() if t.status == "open")
    status, outcome = challenge.status, challenge.outcome
    next_timer = challenge.next_timer_due.isoformat() if challenge.next_timer_due else None
    if withdrawn is not None:
        if (open_rows, status, outcome, next_timer) != ([], "closed", "withdrawn", None):
            return Replayed(challenge.id, False, withdrawn.id, "the case was withdrawn, yet it is "
                            f"{status} ({outcome}) with open tasks {open_rows!r} and next timer {next_timer!r}")
        # What the case was waiting on when it was withdrawn is what the procedure must have reached.
        data = withdrawn.data or {}
        open_rows, status, outcome, next_timer = data.get("open_tasks"), "open", None, data.get("next_timer_due")
    ending = {"open tasks": (open_rows, result["open"]), "stage": (challenge.current_stage, result["stage"]),
              "status": (status, "closed" if result["finished"] else "open"),
              "outcome": (outcome, result["outcome"]),
              "next timer": (next_timer, result["next_timer_due"])}
    for what, (kept, replayed) in ending.items():
        if kept != replayed:
            return Replayed(challenge.id, False, history[-1].id, f"the case's {what} is {kept!r}; re-execution "
                            f"ends with {replayed!r}")
    return Replayed(challenge.id, True)
