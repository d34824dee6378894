"""A case step by step, for an auditor: its history cut into steps (the events written together at one moment
of the case), and at each step which elements of its diagram had run, were waiting, lapsed or were withdrawn,
how many times each ran (loops, tiers), the sequence flows taken, who did what with which answers, and the tasks
open with their deadlines. Built from the events, the task rows and the case's stored workflow (whose task tree
places the engine's own steps, gateways and scripts, between the people's), with no engine run."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import events as kinds
from ..bpmn.parser import parse_xml
from ..bpmn.serializer import state_json
from ..models import Challenge, Event, Task, User
from ..procedures.versions import specs_of
from ..vocabulary import outcome_label

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_CLOSED = {"task_lapsed": "lapsed", "task_withdrawn": "withdrawn", "task_cancelled": "withdrawn",
           "task_closed_by_withdrawal": "withdrawn"}


@dataclass
class Step:
    number: int
    at: datetime
    recorded_at: datetime
    happenings: list[dict[str, Any]]
    elements: dict[str, dict[str, Any]] = field(default_factory=dict)
    flows: list[str] = field(default_factory=list)
    open_tasks: list[dict[str, Any]] = field(default_factory=list)


def _flows(bpmn_xml: str) -> dict[tuple[str, str], str]:
    """(source element, target element) -> the id of the sequence flow between them."""
    found: dict[tuple[str, str], str] = {}
    for flow in parse_xml(bpmn_xml).iter(f"{{{BPMN}}}sequenceFlow"):
        found.setdefault((flow.get("sourceRef"), flow.get("targetRef")), flow.get("id"))
    return found


def _tree(challenge: Challenge) -> tuple[dict[str, dict], str | None]:
    """The stored workflow's tasks (id -> task) and its root, subprocesses' tasks included."""
    state = state_json(challenge.state)
    tasks = dict(state.get("tasks", {}))
    for sub in state.get("subprocesses", {}).values():
        tasks.update(sub.get("tasks", {}))
    return tasks, state.get("root")


def _label(event: Event, people: dict[int, str]) -> dict[str, Any]:
    data = event.data or {}
    described = kinds.describe(event.kind, data)
    happening = {"kind": event.kind, "label": kinds.label(event.kind), "what": described,
                 "by": people.get(event.actor_id), "element": event.element_id, "at": event.at.isoformat()}
    if event.kind == "task_completed":
        happening["answers"] = data.get("answers", {})
    if event.kind == "challenge_closed":
        happening["what"] = outcome_label(data.get("outcome"))
    if event.kind == "stage_entered":
        happening["what"] = f"stage {data.get('stage')}"
    if event.kind == "challenge_withdrawn":
        happening["what"] = data.get("reason", "")
    return happening


def steps(session: Session, challenge: Challenge) -> list[Step]:
    history = list(session.scalars(select(Event).where(Event.challenge_id == challenge.id).order_by(Event.id)))
    rows = {t.id: t for t in session.scalars(select(Task).where(Task.challenge_id == challenge.id))}
    people = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({e.actor_id for e in history if e.actor_id}))).all())
    version = challenge.procedure_version
    spec, subprocess_specs = specs_of(version)
    specs = {**spec.task_specs, **{n: s for sub in subprocess_specs.values() for n, s in sub.task_specs.items()}}
    flows = _flows(version.bpmn_xml)

    # The steps: events written together at one moment of the case.
    grouped: list[list[Event]] = []
    for event in history:
        if grouped and (grouped[-1][0].at, grouped[-1][0].recorded_at) == (event.at, event.recorded_at):
            grouped[-1].append(event)
        else:
            grouped.append([event])

    # When each instance the events name was reached: user tasks by their row's uuid, timers in order.
    reached_task: dict[str, int] = {}  # task uuid -> step
    timers_fired: dict[str, list[int]] = defaultdict(list)  # timer element -> the steps it fired at
    for number, group in enumerate(grouped):
        for event in group:
            if event.kind == "task_opened" and event.task_id in rows:
                reached_task.setdefault(rows[event.task_id].task_uuid, number)
            elif event.kind == "timer_fired" and event.element_id:
                timers_fired[event.element_id].append(number)

    tasks, root = _tree(challenge)
    element_of = {tid: getattr(specs.get(t["task_spec"]), "bpmn_id", None) for tid, t in tasks.items()}
    reached: dict[str, int] = {}
    timer_seen: dict[str, int] = defaultdict(int)

    # Both walks keep their own stack: a long case's tree is deeper than Python's recursion allows.
    def own_step(task_id: str) -> int | None:
        """The step at which this instance itself ran: a user task's opening, a timer's firing (timers are
        matched to their firings in the tree's order)."""
        if task_id in reached_task:
            return reached_task[task_id]
        element = element_of.get(task_id)
        if element in timers_fired and tasks[task_id].get("state") == 64:  # COMPLETED
            fired = timers_fired[element]
            seen = timer_seen[element]
            timer_seen[element] += 1
            return fired[seen] if seen < len(fired) else None
        return None

    # An instance ran at its own step, else at the earliest of its descendants'.
    if root in tasks:
        own: dict[str, int | None] = {}
        stack: list[tuple[str, bool]] = [(root, False)]
        while stack:
            task_id, children_done = stack.pop()
            if not children_done:
                own[task_id] = own_step(task_id)
                stack.append((task_id, True))
                stack.extend((child, False) for child in reversed(tasks[task_id].get("children", [])))
                continue
            step = own[task_id]
            if step is None:
                found = [reached[c] for c in tasks[task_id].get("children", []) if c in reached]
                step = min(found) if found else None
            if step is None and tasks[task_id].get("state") == 64 and element_of.get(task_id):
                step = len(grouped) - 1  # ran after the last person's step (the procedure's own ending)
            if step is not None:
                reached[task_id] = step

    # Taken flows: between consecutive diagram elements along the tree.
    taken: list[tuple[int, str]] = []
    walk: list[tuple[str, str | None]] = [(root, None)] if root in tasks else []
    while walk:
        task_id, last_element = walk.pop()
        element = element_of.get(task_id)
        if element and last_element and task_id in reached and (last_element, element) in flows:
            taken.append((reached[task_id], flows[(last_element, element)]))
        walk.extend((child, element or last_element) for child in reversed(tasks[task_id].get("children", [])))

    out: list[Step] = []
    status: dict[int, str] = {}
    for number, group in enumerate(grouped):
        for event in group:
            if event.task_id in rows:
                if event.kind == "task_opened":
                    status[event.task_id] = "active"
                elif event.kind == "task_completed":
                    status[event.task_id] = "completed"
                elif event.kind in _CLOSED:
                    status[event.task_id] = _CLOSED[event.kind]
        elements: dict[str, dict[str, Any]] = {}
        counts: dict[str, int] = defaultdict(int)
        for task_id, step in reached.items():
            element = element_of[task_id]
            if element and step <= number:
                counts[element] += 1
                elements.setdefault(element, {"state": "completed"})
        for task_id, state in status.items():  # in the order the instances were opened
            entry = elements.setdefault(rows[task_id].bpmn_id, {"state": state})
            if entry["state"] != "active":  # waiting while any instance waits, else its latest instance's end
                entry["state"] = state
        for element, count in counts.items():
            elements.setdefault(element, {"state": "completed"})["count"] = count
        first = group[0]
        open_now = [{"title": rows[t].title, "stage": rows[t].stage, "element": rows[t].bpmn_id,
                     "due": rows[t].due_at.isoformat() if rows[t].due_at else None}
                    for t, s in status.items() if s == "active"]
        out.append(Step(number + 1, first.at, first.recorded_at, [_label(e, people) for e in group], elements,
                        sorted({flow for at, flow in taken if at <= number}), open_now))
    return out


def as_json(challenge: Challenge, found: list[Step]) -> dict[str, Any]:
    return {
        "challenge": {"id": challenge.id, "reference": challenge.reference},
        "version": {"number": challenge.procedure_version.number,
                    "content_hash": challenge.procedure_version.content_hash},
        "steps": [{"number": s.number, "at": s.at.isoformat(), "recorded_at": s.recorded_at.isoformat(),
                   "happenings": s.happenings, "elements": s.elements, "flows": s.flows, "open_tasks": s.open_tasks}
                  for s in found],
    }

