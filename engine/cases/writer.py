"""The one writer of a step: what each moment of a case said (`run.Moment`) becomes rows in the caller's
transaction, through the store's statements: task rows opened and closed (lapsed or withdrawn), the stage, the
outbox, the events (each at the moment the case lived it), and last the case row itself."""

from __future__ import annotations

import base64
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .. import events
from ..calendar import WorkingCalendar
from ..clock import Clock
from ..errors import StepFailed
from ..models import Agency, Challenge, Partnership, ProcedureVersion, User
from ..reports import facts
from ..vocabulary import CHOSEN_PREFIX
from . import store
from .run import Moment, StepResult


def partnership_calendar(partnership: Partnership) -> WorkingCalendar:
    return WorkingCalendar(partnership.nation, time.fromisoformat(partnership.end_of_working_day))


def calendar_for(challenge: Challenge) -> WorkingCalendar:
    return partnership_calendar(challenge.partnership)


def stage_word(version: ProcedureVersion) -> str:
    """What the procedure calls its stages: "stage" unless it says "step" or "level"."""
    return version.meta.get("stage_word", "stage")


def reminder_interval(version: ProcedureVersion, bpmn_id: str) -> int | None:
    """Every how many working days a task of this version is reminded while open, when its procedure wants it
    done "as soon as possible" (procedure.json's as_soon_as_possible); None for the other tasks."""
    entry = version.meta.get("as_soon_as_possible") or {}
    return entry.get("remind_every_working_days") if bpmn_id in entry.get("tasks", ()) else None


def chosen_fields(version: ProcedureVersion) -> list[str]:
    """The fields of a case's data that lanes with an agency chosen while the case runs read it from."""
    return sorted({lane["side"].removeprefix(CHOSEN_PREFIX) for lane in version.lanes.values()
                   if lane["side"].startswith(CHOSEN_PREFIX)})


def lane_agency_id(session: Session, challenge: Challenge, side: str, data: dict[str, Any] | None = None) -> int:
    """The agency whose members hold a lane of this case: by side, or chosen at run time (agency_from:<field>)."""
    if side == "raising":
        return challenge.raising_agency_id
    if side == "receiving":
        return challenge.receiving_agency_id
    if side.startswith(CHOSEN_PREFIX):
        field = side.removeprefix(CHOSEN_PREFIX)
        chosen = (data or {}).get(field)
        agency = session.get(Agency, chosen) if isinstance(chosen, int) and 0 < chosen < 2**31 else None
        if agency is None or agency.partnership_id != challenge.partnership_id:
            raise StepFailed(f"the case has no agency of this partnership in {field!r} for a lane that needs one")
        return agency.id
    body = session.scalar(select(Agency.id).where(Agency.partnership_id == challenge.partnership_id,
                                                  Agency.is_partnership_body.is_(True)))
    if body is None:
        raise StepFailed("the partnership has no business unit for its partnership lanes")
    return body


STALE_REMINDER = ("not sent: the case was caught up after downtime and the task's deadline had passed too, so the "
                  "deadline's own notice says it all")


def _local(calendar: WorkingCalendar, moment: datetime) -> str:
    local = moment.astimezone(calendar.zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"


class Writer:
    def __init__(self, session: Session, clock: Clock, challenge: Challenge, version: ProcedureVersion,
                 actor: User | None = None) -> None:
        self.session, self.clock, self.challenge, self.version, self.actor = session, clock, challenge, version, actor
        self.events: list[events.Event] = []
        self.calendar = calendar_for(challenge)
        self._body_agency: int | None = None
        self.last_moment: datetime | None = None

    def add(self, event: events.Event) -> None:
        self.events.append(event)

    def _lane_agency(self, side: str, data: dict[str, Any]) -> int:
        if side == "partnership":  # the same for every task of the case: looked up once
            if self._body_agency is None:
                self._body_agency = lane_agency_id(self.session, self.challenge, side, data)
            return self._body_agency
        return lane_agency_id(self.session, self.challenge, side, data)

    # -- one moment ---------------------------------------------------------------------------------------

    def moments(self, moments: list[Moment]) -> None:
        for moment in moments:
            self.moment(moment)

    def moment(self, moment: Moment) -> None:
        at = datetime.fromisoformat(moment.at)
        self.last_moment = at
        case_id = self.challenge.id
        deadline_rows = store.task_ids(self.session, case_id, [f.task for f in moment.fired if f.deadline])
        for fired in moment.fired:
            self.add(events.TimerFired(at, {"timer": fired.name, "bpmn_id": fired.bpmn_id, "due": fired.due},
                                       element_id=fired.bpmn_id))
            if fired.deadline:
                self.add(events.DeadlineMissed(at, {"title": fired.task_title, "stage": fired.task_stage,
                                                    "due": fired.due, "timer": fired.bpmn_id},
                                               task_id=deadline_rows.get(fired.task), element_id=fired.task_bpmn_id))
        self._close(moment, at)
        self._open(moment, at)
        self._stage(moment, at)
        self._notices(moment, at)

    def _close(self, moment: Moment, at: datetime) -> None:
        for lapsed, status, kind in ((True, "lapsed", events.TaskLapsed), (False, "withdrawn", events.TaskWithdrawn)):
            closing = {c.uuid: c for c in moment.closed if c.lapsed is lapsed}
            for row in store.close_tasks(self.session, self.challenge.id, list(closing), status, at):
                data = {"title": row.title, "stage": row.stage}
                if lapsed:
                    data["timer"] = closing[row.task_uuid].timer
                self.add(kind(at, data, task_id=row.id, element_id=row.bpmn_id))

    def _open(self, moment: Moment, at: datetime) -> None:
        if not moment.opened:
            return
        challenge, rows = self.challenge, []
        for task in moment.opened:
            lane = self.version.lanes[task.lane]
            every = reminder_interval(self.version, task.bpmn_id)
            rows.append(dict(
                challenge_id=challenge.id, procedure_version_id=challenge.procedure_version_id, task_uuid=task.uuid,
                bpmn_id=task.bpmn_id, title=task.title,
                lane=task.lane, role=lane["role"], side=lane["side"],
                agency_id=self._lane_agency(lane["side"], task.data), stage=task.stage, form=task.form,
                due_at=datetime.fromisoformat(task.due) if task.due else None, status="open", opened_at=at,
                claimed_by_id=None, claimed_at=None, completed_by_id=None, completed_at=None, closed_at=None,
                remind_at=self.calendar.add_working_days(at, every) if every else None,
            ))
        now = self.clock.now()
        for task_id, row in zip(store.open_tasks(self.session, rows), rows, strict=True):
            due = row["due_at"]
            self.add(events.TaskOpened(at, {"title": row["title"], "stage": row["stage"], "lane": row["lane"],
                                            "due_at": due.isoformat() if due else None},
                                       task_id=task_id, element_id=row["bpmn_id"]))
            due_text = f" It is due by {_local(self.calendar, due)}." if due else ""
            store.queue(self.session, now, challenge.id, store.lane_holders(row["role"], row["agency_id"]),
                        f"{challenge.reference}: new task - {row['title']}",
                        f"A professional challenge needs you: {row['title']} (case {challenge.subject_reference})."
                        f"{due_text}", at)

    def _stage(self, moment: Moment, at: datetime) -> None:
        challenge = self.challenge
        if moment.stage is None or moment.stage == challenge.current_stage:
            return
        previous = challenge.current_stage
        set_committed_value(challenge, "current_stage", moment.stage)  # written with the case row
        self.add(events.StageEntered(at, {"stage": moment.stage, "previous": previous}))
        if previous > 0:  # the referrer needs no word that their own new challenge is at stage 1
            word = stage_word(self.version)
            store.queue(self.session, self.clock.now(), challenge.id, store.user(challenge.referrer_id),
                        f"{challenge.reference}: now at {word} {moment.stage}",
                        f"Your professional challenge about case {challenge.subject_reference} has moved from {word} "
                        f"{previous} to {word} {moment.stage}. Open it to see the record of each {word}.", at)

    def _stale_reminder(self, moment: Moment) -> bool:
        """Whether the moment is only reminders caught up after downtime whose task's deadline has passed too:
        "deadline approaching" would arrive after the deadline, beside the notice that it was missed."""
        now = self.clock.now()
        return bool(moment.fired) and all(
            f.task and not f.deadline and not f.interrupting and f.task_due
            and datetime.fromisoformat(f.task_due) <= now for f in moment.fired)

    def _notices(self, moment: Moment, at: datetime) -> None:
        challenge = self.challenge
        if moment.notices and self._stale_reminder(moment):
            for notice in moment.notices:  # recorded, so the history still shows every notice the diagram asked for
                self.add(events.Notified(at, {"subject": notice.subject, "to": notice.to, "recipients": 0,
                                              "withheld": STALE_REMINDER}))
            return
        for notice in moment.notices:
            try:
                who = store.recipients(challenge, self.version.lanes,
                                       lambda side, data=notice.data: self._lane_agency(side, data),
                                       notice.to, notice.waiting)
            except ValueError as exc:
                raise StepFailed(str(exc)) from exc
            count = store.queue(self.session, self.clock.now(), challenge.id, who, notice.subject, notice.message, at)
            self.add(events.Notified(at, {"subject": notice.subject, "to": notice.to, "recipients": count}))

    # -- the end of the step --------------------------------------------------------------------------------

    def finish(self, result: StepResult) -> None:
        """Close the challenge if its procedure ended, write the step's events, then the case row."""
        challenge = self.challenge
        changes: dict[str, Any] = {}
        if result.finished and challenge.status == "open":
            at = self.last_moment or self.clock.now()
            changes = {"status": "closed", "outcome": result.outcome, "closed_at": at}
            self.add(events.ChallengeClosed(at, {"outcome": result.outcome, "stage": challenge.current_stage},
                                            actor_id=self.actor.id if self.actor else None))
        facts.fold(self.session, challenge, self.version, self.calendar, self.events)
        events.write(self.session, self.clock, challenge.id, self.events)
        self.events = []
        # A step that succeeds takes the case out of any set-aside an earlier failure put it in.
        store.save_case(self.session, challenge, state=base64.b64decode(result.state),
                        next_timer_due=datetime.fromisoformat(result.next_timer_due) if result.next_timer_due
                        else None, set_aside_reason=None, set_aside_at=None, **changes)


def set_aside(session: Session, clock: Clock, challenge: Challenge, reason: str, kind: type[events.Event],
              actor: User | None = None, **data: Any) -> None:
    """Mark a case whose step failed (and was rolled back) as set aside, with the reason, and record it. The
    caller commits this on its own."""
    now = clock.now()
    challenge.set_aside_reason = reason[:2000]
    challenge.set_aside_at = now
    events.write(session, clock, challenge.id, [kind(now, {"error": reason[:2000], **data},
                                                     actor_id=actor.id if actor else None)])
