"""Parts the procedure drawings share (tools/draw_*.py): a user task with its stage properties, and the timers
hung on a task's edge: a reminder, a hard deadline that moves the case on, a soft target that only tells people.

Scripts are Python source run in the engine's sandbox; the functions they call (notify, local_time, ...) are
the ones engine/spiff.py injects.
"""

from __future__ import annotations

from collections.abc import Callable

from bpmn_drawing import Diagram, Node


def user_task(d: Diagram, bpmn_id: str, name: str, lane: str, col: float, form: str, stage: int, due: str,
              row: float = 0.5) -> Node:
    return d.add(Node(bpmn_id, "userTask", name, lane, col, row=row, form=form,
                      properties={"stage": str(stage), "due": due}))


def script(d: Diagram, bpmn_id: str, name: str, lane: str, col: float, source: str, row: float = 0.5) -> Node:
    return d.add(Node(bpmn_id, "scriptTask", name, lane, col, row=row, script=source))


def end(d: Diagram, bpmn_id: str, name: str, lane: str, col: float, row: float = 0.5) -> Node:
    return d.add(Node(bpmn_id, "endEvent", name, lane, col, row=row))


def reminder(d: Diagram, task: Node, when: str, source: str, label: str) -> None:
    """A non-interrupting timer at `when` (a data variable holding an ISO moment) that runs `source` (normally a
    notify("current", ...)) and ends; the task stays open."""
    timer = d.add(Node(f"{task.id}_reminder", "boundaryEvent", label, task.lane, 0, attached_to=task.id,
                       interrupting=False, time_date=when, offset=1))
    remind = script(d, f"{task.id}_remind", label, task.lane, task.col, source, row=0.15)
    done = end(d, f"{task.id}_remind_end", "Reminded", task.lane, task.col + 0.55, row=0.15)
    d.flow(timer.id, remind.id)
    d.flow(remind.id, done.id)


def deadline(d: Diagram, task: Node, when: str, source: str, then: str, label: str) -> None:
    """An interrupting timer at `when`: the task is cancelled, `source` runs, and the case goes on to `then`."""
    timer = d.add(Node(f"{task.id}_deadline", "boundaryEvent", label, task.lane, 0, attached_to=task.id,
                       interrupting=True, time_date=when, offset=0))
    missed = script(d, f"{task.id}_missed", f"{label} passed", task.lane, task.col + 0.5, source, row=0.85)
    d.flow(timer.id, missed.id)
    d.flow(missed.id, then)


def target(d: Diagram, task: Node, when: str, source: str, label: str) -> None:
    """A non-interrupting timer at `when`: `source` tells people the target passed; the task stays open (and
    shows as overdue)."""
    timer = d.add(Node(f"{task.id}_target", "boundaryEvent", label, task.lane, 0, attached_to=task.id,
                       interrupting=False, time_date=when, offset=0))
    tell = script(d, f"{task.id}_overdue", f"{label} passed", task.lane, task.col + 0.5, source, row=0.85)
    done = end(d, f"{task.id}_overdue_end", "Told", task.lane, task.col + 1, row=0.85)
    d.flow(timer.id, tell.id)
    d.flow(tell.id, done.id)


def respond_decide(d: Diagram, n: int, col: float, respond_lane: str, decide_lane: str, respond_name: str,
                   decide_name: str, *, then: str, resolved_source: str, reminder_source: str,
                   escalate_source: str | None = None, deadline_source: Callable[[str], str] | None = None,
                   target_source: str | None = None, word: str = "Stage", respond_form: str = "respond.json",
                   decide_form: str = "decide.json") -> float:
    """The usual stage: the receiving side responds, the raising side records the discussion and decides
    (`decision == "resolved"` closes the challenge, anything else escalates to `then`). Each task has a reminder
    at `stage_reminder`, and at `stage_due` either a hard deadline (`deadline_source(lane)` runs, given the lane
    of the task that lapsed, then on to `then`) or a soft target (`target_source`). Returns the next free
    column."""
    respond = user_task(d, f"s{n}_respond", respond_name, respond_lane, col, respond_form, n, "stage_due")
    decide = user_task(d, f"s{n}_decide", decide_name, decide_lane, col + 1, decide_form, n, "stage_due")
    d.flow(respond.id, decide.id)
    gate = d.add(Node(f"s{n}_gate", "exclusiveGateway", "Resolved?", decide_lane, col + 2))
    d.flow(decide.id, gate.id)
    done = script(d, f"s{n}_resolved", f"Resolved at {word.lower()} {n}", decide_lane, col + 2, resolved_source,
                  row=0.15)
    d.flow(gate.id, done.id, "resolved", 'decision == "resolved"')
    d.flow(done.id, end(d, f"s{n}_end", "Resolved", decide_lane, col + 2.7, row=0.15).id)
    if escalate_source:
        tell = script(d, f"s{n}_feedback", "Tell the referrer", decide_lane, col + 3, escalate_source)
        gate.default = d.flow(gate.id, tell.id, "escalate").id
        d.flow(tell.id, then)
    else:
        gate.default = d.flow(gate.id, then, "escalate").id
    for task in (respond, decide):
        if deadline_source:
            deadline(d, task, "stage_due", deadline_source(task.lane), then, f"{word} {n} deadline")
        if target_source:
            target(d, task, "stage_due", target_source, f"{word} {n} target")
        reminder(d, task, "stage_reminder", reminder_source, f"{word} {n} reminder")
    return col + 4
