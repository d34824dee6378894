"""The events of a challenge's history, one class per kind: its stable name (what the events table keeps), a
label for people, and what its data holds. An event carries the moment the case lived it (`at`: a timer's due
moment when a case is caught up after downtime) apart from when it was recorded (`recorded_at`), who did it
(`actor_id`), the task row and the diagram element it concerns, and its data. `write` is the one way events
reach the database; `KINDS` is how they are read back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from .cases import store
from .clock import Clock


@dataclass
class Event:
    """An event of a challenge's history."""

    name: ClassVar[str]
    label: ClassVar[str]
    # The keys its data holds, each with what it means (for docs/events and the replay's tables).
    keys: ClassVar[dict[str, str]] = {}

    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    actor_id: int | None = None
    task_id: int | None = None
    element_id: str | None = None

    def describe(self) -> str:
        return describe(self.name, self.data)


class ChallengeRaised(Event):
    """The referrer raised the challenge: what they said, and the advice they were shown."""

    name, label = "challenge_raised", "Challenge raised"
    keys = {"reference": "the challenge reference", "raised_at": "when it was raised",
            "deadlines_from": "the moment its deadlines count from (the concern first raised, where the procedure "
                              "counts from it, else the raising)",
            "challenged_role": "the role of the professional or decision-maker challenged (and challenged_name, "
                               "challenged_team, challenged_contact where given)",
            "mash_advice_shown": "the MASH advice, when a risk of significant harm was stated"}


class StageEntered(Event):
    """The case reached a new stage (the highest stage of its open tasks)."""

    name, label = "stage_entered", "Moved to stage"
    keys = {"stage": "the stage now", "previous": "the stage before"}


class TaskOpened(Event):
    """A task was opened for the holders of its lane's role in its agency."""

    name, label = "task_opened", "Task opened"
    keys = {"title": "the task", "stage": "its stage", "lane": "its lane", "due_at": "its deadline, if any"}


class TaskClaimed(Event):
    """Someone claimed a task: nobody else can complete it now."""

    name, label = "task_claimed", "Task claimed"
    keys = {"title": "the task"}


class TaskCompleted(Event):
    """Someone completed a task with their answers to its form."""

    name, label = "task_completed", "Task completed"
    keys = {"title": "the task", "stage": "its stage", "answers": "the answers given"}


class TaskLapsed(Event):
    """A task was closed by its deadline: the procedure moved the case on without it."""

    name, label = "task_lapsed", "Task closed by its deadline"
    keys = {"title": "the task", "stage": "its stage", "timer": "the deadline's timer"}


class TaskWithdrawn(Event):
    """A task was withdrawn because the case took another path (another task settled the stage, say)."""

    name, label = "task_withdrawn", "Task withdrawn: the case took another path"
    keys = {"title": "the task", "stage": "its stage"}


class TaskCancelled(Event):
    """A task closed by the procedure, recorded before lapsed and withdrawn tasks were told apart."""

    name, label = "task_cancelled", "Task closed by the procedure"
    keys = {"title": "the task", "stage": "its stage"}


class TimerFired(Event):
    """A timer of the diagram fired at its due moment (a reminder, a deadline, a target)."""

    name, label = "timer_fired", "Timer fired"
    keys = {"timer": "the timer's name", "bpmn_id": "its element", "due": "its due moment"}


class DeadlineMissed(Event):
    """A task's deadline passed before it was completed."""

    name, label = "deadline_missed", "Deadline missed"
    keys = {"title": "the task", "stage": "its stage", "due": "the deadline", "timer": "the deadline's timer"}


class Notified(Event):
    """The procedure told people something (their notifications and email)."""

    name, label = "notified", "Notification sent"
    keys = {"subject": "the subject", "to": "the diagram's recipients", "recipients": "how many people",
            "withheld": "why nobody was told, when a reminder caught up after downtime came after its deadline"}


class ChallengeClosed(Event):
    """The procedure ended: the challenge is closed with its outcome."""

    name, label = "challenge_closed", "Challenge closed"
    keys = {"outcome": "the declared outcome", "stage": "the stage it closed at"}


class TimerFailed(Event):
    """Firing the case's timers failed; nothing of that step was kept and the case was set aside."""

    name, label = "timer_failed", "Timer failed; the case was set aside"
    keys = {"error": "why"}


class StepFailed(Event):
    """Completing a task failed in the procedure; nothing of that step was kept and the case was set aside."""

    name, label = "step_failed", "A step failed and nothing of it was kept; the case was set aside"
    keys = {"error": "why", "task_id": "the task being completed", "title": "its title"}


class TaskReleased(Event):
    """A claim was given up (by its holder, or for someone absent or leaving): the task is back for its lane."""

    name, label = "task_released", "Claim released"
    keys = {"title": "the task", "from": "who had claimed it", "reason": "why, when not by the holder"}


class TaskReassigned(Event):
    """A manager gave an open task to another holder of its role, with a reason."""

    name, label = "task_reassigned", "Task reassigned"
    keys = {"title": "the task", "from": "who had claimed it, if anyone", "to": "who holds it now",
            "reason": "why"}


class ReminderSent(Event):
    """A task its procedure wants done "as soon as possible" was still open after the interval the procedure sets:
    its holder and their manager were reminded (by the worker, not by a step of the diagram)."""

    name, label = "reminder_sent", "Reminder sent: wanted as soon as possible"
    keys = {"title": "the task", "stage": "its stage", "holders": "how many holders were told",
            "managers": "how many of their managers were told", "manager_role": "the managers' role, if any",
            "next": "when the next reminder is due"}


class NoteAdded(Event):
    """Someone taking part in the challenge added a note to it (at any stage)."""

    name, label = "note_added", "Note added"
    keys = {"text": "the note", "by": "who wrote it"}


class ChallengeWithdrawn(Event):
    """Its referrer withdrew the challenge, with a reason: its open tasks were closed and its deadlines stopped
    (the challenge is then closed with the outcome "withdrawn"). What the case was waiting on is kept, so a
    re-execution of its history can check the procedure had reached just that."""

    name, label = "challenge_withdrawn", "Challenge withdrawn by its referrer"
    keys = {"reason": "why", "by": "who withdrew it", "stage": "the stage it was at",
            "open_tasks": "the diagram elements of the tasks it was waiting on",
            "next_timer_due": "the deadline or reminder it was waiting for, stopped"}


class TaskClosedByWithdrawal(Event):
    """An open task was closed, not completed, because its challenge was withdrawn."""

    name, label = "task_closed_by_withdrawal", "Task closed (the challenge was withdrawn)"
    keys = {"title": "the task", "stage": "its stage"}


class AttachmentAdded(Event):
    """Someone who can see the challenge added a file to it (kept with the challenge; the event holds what
    identifies the file, never its content)."""

    name, label = "attachment_added", "File attached"
    keys = {"attachment_id": "the attachment", "file_name": "its name", "kind": "what its content is",
            "size": "its size in bytes", "sha256": "the SHA-256 of its content", "by": "who added it"}


class ContentErased(Event):
    """The challenge's personal content was erased under its partnership's retention period: what people wrote and
    answered is gone; what the statistics need (agencies, area, stages, times, outcome) and the history's hashes
    are kept, so the audit log still verifies."""

    name, label = "content_erased", "Personal content erased (retention period)"
    keys = {"retention_days": "the partnership's retention period", "closed_at": "when the challenge closed",
            "events": "how many events' content was erased"}


class CaseMigrated(Event):
    """A process owner moved the running case onto another version of its procedure."""

    name, label = "case_migrated", "Moved to another version of the procedure"
    keys = {"from_version": "the version it ran on", "to_version": "the version it runs on now",
            "from_hash": "the content hash of the one", "to_hash": "and of the other",
            "rearmed": "whether its waiting timers were evaluated again on the new version",
            "mapping": "elements the new version gave other ids (old id -> new id)", "by": "who"}


class MigrationReverted(Event):
    """The case's move to another version was undone before anything else happened to it."""

    name, label = "migration_reverted", "Moved back to the version it ran on"
    keys = {"from_version": "the version it was moved to", "to_version": "the version it runs on again",
            "from_hash": "the content hash of the one", "to_hash": "and of the other", "by": "who"}


KINDS: dict[str, type[Event]] = {kind.name: kind for kind in Event.__subclasses__()}


def label(name: str) -> str:
    kind = KINDS.get(name)
    return kind.label if kind else name


def describe(name: str, data: dict[str, Any]) -> str:
    """What a person reads after the label: the task, the stage, the subject."""
    if name in ("task_opened", "task_claimed", "task_completed", "task_lapsed", "task_withdrawn", "task_cancelled",
                "deadline_missed", "step_failed", "task_released", "task_reassigned", "task_closed_by_withdrawal",
                "reminder_sent"):
        return data.get("title", "")
    if name == "stage_entered":
        return str(data.get("stage", ""))
    if name == "notified":
        return data.get("subject", "")
    if name == "timer_fired":
        return data.get("timer", "")
    if name == "attachment_added":
        return data.get("file_name", "")
    return ""


def write(session: Session, clock: Clock, challenge_id: int, events: list[Event]) -> None:
    """Write events in one statement, in the order given (their ids keep it), recorded now."""
    if not events:
        return
    recorded = clock.now()
    store.write_events(session, [
        {"challenge_id": challenge_id, "at": e.at, "recorded_at": recorded, "kind": e.name, "actor_id": e.actor_id,
         "task_id": e.task_id, "element_id": e.element_id, "data": e.data} for e in events])
