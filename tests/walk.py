"""Walking a procedure through the engine's services, as the scenario tests of each partnership do: raise, claim
and complete as named demo users, move the clock and fire due timers, and read back what each person sees, the
task rows, the notifications sent and the record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from engine.cases.raising import raise_challenge
from engine.cases.tasks import claim_task, complete_task
from engine.cases.timers import fire_due_timers
from engine.models import Agency, Challenge, Event, Notification, Partnership, Task, User
from engine.queries.access import my_tasks
from engine.queries.records import stage_records


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in UTC (the same as London time in December and January)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class Walk:
    def __init__(self, session, clock, slug: str) -> None:
        self.session, self.clock, self.slug = session, clock, slug
        self.challenge: Challenge | None = None
        self._seen_notification = 0

    # who and what ---------------------------------------------------------------------------------------
    def user(self, username: str) -> User:
        found = self.session.scalar(select(User).where(User.username == username))
        assert found is not None, username
        return found

    def agency(self, name: str) -> Agency:
        found = self.session.scalar(
            select(Agency).join(Partnership).where(Partnership.slug == self.slug, Agency.name == name))
        assert found is not None, name
        return found

    # acting -----------------------------------------------------------------------------------------------
    def raise_(self, username: str, receiving: str, **answers: Any) -> Challenge:
        given = {"receiving_agency_id": self.agency(receiving).id, "challenged_role": "Team manager",
                 "subject_reference": "CH-3071",
                 "area": "decision_making", "summary": "The referral was closed without a strategy discussion.",
                 "cp_or_lac": "neither", "significant_risk": False}
        given.update(answers)
        self.challenge = raise_challenge(self.session, self.clock, self.user(username), given)
        self._seen_notification = 0
        return self.challenge

    def complete(self, username: str, bpmn_id: str, answers: dict[str, Any], when: datetime | None = None) -> Task:
        if when is not None:
            self.clock.set(when)
        row = self.task(bpmn_id)
        person = self.user(username)
        claim_task(self.session, self.clock, person, row.id)
        return complete_task(self.session, self.clock, person, row.id, answers)

    def act(self, username: str, answers: dict[str, Any], when: datetime | None = None) -> Task:
        """The user finds the case's task in My tasks, claims it and completes it."""
        if when is not None:
            self.clock.set(when)
        person = self.user(username)
        [line] = [t for t in my_tasks(self.session, person) if t.challenge_id == self.challenge.id]
        claim_task(self.session, self.clock, person, line.id)
        done = complete_task(self.session, self.clock, person, line.id, answers)
        self.refresh()
        return done

    def fire(self, when: datetime) -> int:
        """Move the clock and fire every timer due by then; how many cases moved."""
        self.clock.set(when)
        moved = fire_due_timers(self.session, self.clock)
        self.refresh()
        return moved

    # reading ----------------------------------------------------------------------------------------------
    @property
    def ref(self) -> str:
        return self.challenge.reference

    def refresh(self) -> Challenge:
        self.session.expire_all()
        self.challenge = self.session.get(Challenge, self.challenge.id)
        return self.challenge

    def only_open_task(self) -> Task:
        tasks = list(self.open_tasks().values())
        assert len(tasks) == 1, [t.title for t in tasks]
        return tasks[0]

    def who_has(self, task: Task, usernames: list[str]) -> list[str]:
        """Which of these users' My tasks list this task."""
        return [name for name in usernames if task.id in [t.id for t in my_tasks(self.session, self.user(name))]]

    def open_tasks(self) -> dict[str, Task]:
        self.session.expire_all()
        rows = self.session.scalars(select(Task).where(Task.challenge_id == self.challenge.id,
                                                       Task.status == "open").order_by(Task.id)).all()
        return {row.bpmn_id: row for row in rows}

    def task(self, bpmn_id: str) -> Task:
        rows = self.open_tasks()
        assert bpmn_id in rows, f"{bpmn_id} is not open; open: {sorted(rows)}"
        return rows[bpmn_id]

    def dues(self) -> dict[str, datetime]:
        return {bpmn_id: row.due_at for bpmn_id, row in self.open_tasks().items()}

    def rows(self, bpmn_id: str) -> list[Task]:
        self.session.expire_all()
        return list(self.session.scalars(select(Task).where(Task.challenge_id == self.challenge.id,
                                                            Task.bpmn_id == bpmn_id).order_by(Task.id)))

    def sees(self, username: str) -> list[str]:
        """The bpmn ids of this challenge's tasks in the user's task list."""
        self.session.expire_all()
        return [t.bpmn_id for t in my_tasks(self.session, self.user(username)) if t.challenge_id == self.challenge.id]

    def notes(self) -> set[tuple[str, str]]:
        """(username, subject) of this challenge's notifications sent since the last call."""
        self.session.expire_all()
        rows = self.session.execute(
            select(Notification.id, User.username, Notification.subject)
            .join(User, User.id == Notification.user_id)
            .where(Notification.challenge_id == self.challenge.id, Notification.id > self._seen_notification)
            .order_by(Notification.id)
        ).all()
        if rows:
            self._seen_notification = rows[-1][0]
        return {(username, subject) for _, username, subject in rows}

    def body(self, username: str, subject: str) -> str:
        self.session.expire_all()
        found = self.session.scalar(
            select(Notification.body).join(User, User.id == Notification.user_id)
            .where(Notification.challenge_id == self.challenge.id, User.username == username,
                   Notification.subject == subject))
        assert found is not None, (username, subject)
        return found

    def subjects(self, username: str) -> list[str]:
        """The subjects of this challenge's notifications to the user, in order."""
        return list(self.session.scalars(
            select(Notification.subject)
            .where(Notification.user_id == self.user(username).id, Notification.challenge_id == self.challenge.id)
            .order_by(Notification.id)))

    def recipients(self, subject: str) -> set[str]:
        return set(self.session.scalars(
            select(User.username).join(Notification, Notification.user_id == User.id)
            .where(Notification.challenge_id == self.challenge.id, Notification.subject == subject)))

    def notification_ids(self, subject: str) -> list[int]:
        return list(self.session.scalars(select(Notification.id).where(
            Notification.challenge_id == self.challenge.id, Notification.subject == subject)
            .order_by(Notification.id)))

    def events(self, after: int = 0) -> list[Event]:
        return list(self.session.scalars(select(Event).where(Event.challenge_id == self.challenge.id,
                                                             Event.id > after).order_by(Event.id)))

    def last_event_id(self) -> int:
        return self.session.scalar(select(func.max(Event.id)).where(Event.challenge_id == self.challenge.id)) or 0

    def record(self) -> list[tuple[int, str, str, dict[str, str]]]:
        """Each task of the record: (stage, bpmn id, status, {label: answer})."""
        self.session.expire_all()
        out = []
        for stage in stage_records(self.session, self.refresh()):
            for rec in stage.tasks:
                out.append((stage.stage, rec.task.bpmn_id, rec.task.status, {a.label: a.text for a in rec.answers}))
        return out
