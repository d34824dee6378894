"""Records a person can print and file: the ones a procedure names (a stage's tasks, e.g. Darlington's
Professional Challenge Recording Tool) and the business unit's monitoring return, built from what the stages
recorded. One `Document` feeds both the printable page and the PDF."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases.writer import stage_word
from ..errors import NotFound
from ..models import Challenge, Event, Task
from ..procedures.files import raise_form
from ..vocabulary import PREFILL_KEY, outcome_label
from .records import Answer, StageRecord, answers_of, challenged, raised_answers, stage_records

LONDON = ZoneInfo("Europe/London")

MONITORING_RETURN = "monitoring_return"
CP_OR_LAC = {"neither": "Neither", "child_protection_plan": "On a Child Protection Plan",
             "looked_after": "Looked After"}


@dataclass
class Section:
    heading: str
    answers: list[Answer] = field(default_factory=list)
    note: str | None = None


@dataclass
class Document:
    key: str
    title: str
    partnership: str
    reference: str
    header: list[Answer]
    sections: list[Section]


def available(session: Session, challenge: Challenge) -> dict[str, str]:
    """The records this challenge has, key -> title, the monitoring return last. A record the procedure names
    (Darlington's Recording Tool, a stage 3 record) is offered only once one of its tasks has opened: before its
    stage has started there is nothing to record on it."""
    named_records = challenge.procedure_version.meta.get("records", {})
    wanted = {bpmn_id for spec in named_records.values() for bpmn_id in spec["tasks"]}
    opened = set(session.scalars(select(Task.bpmn_id).where(Task.challenge_id == challenge.id,
                                                            Task.bpmn_id.in_(wanted)))) if wanted else set()
    named = {key: spec["title"] for key, spec in named_records.items() if opened & set(spec["tasks"])}
    named[MONITORING_RETURN] = "Business unit monitoring return"
    return named


def _outcome(challenge: Challenge) -> str:
    return outcome_label(challenge.outcome, challenge.procedure_version.meta.get("outcome_labels"))


def _stage(challenge: Challenge, number: int) -> str:
    """"Stage 3" (or "Step 3": the procedure's own word)."""
    return f"{stage_word(challenge.procedure_version).capitalize()} {number}"


def task_label(challenge: Challenge, task: Task) -> str:
    """A task as a record names it: its title, which names its stage already ("Stage 1: respond ..."), or the
    stage and the title where the diagram's title does not."""
    stage = _stage(challenge, task.stage)
    return task.title if task.title.lower().startswith(stage.lower()) else f"{stage}: {task.title}"


def area_label(area: str) -> str:
    return raise_form()["properties"]["area"].get("x-labels", {}).get(area, area.replace("_", " ").capitalize())


# What the header says already; the rest of the raise form's answers describe the disagreement itself.
_IN_HEADER = ("raising_agency_id", "receiving_agency_id", "subject_reference", "area", "cp_or_lac")


def _disagreement(challenge: Challenge, raised: dict) -> Section:
    """The disagreement as it was raised: the summary, the area, and whatever else the raise form asked (the
    decision challenged, the professional who made it, when the concern was first raised), under its labels."""
    form = raise_form()
    answers = [Answer("The disagreement", challenge.summary), Answer("Area of challenge", area_label(challenge.area))]
    answers += [a for a in answers_of(form, raised) if a.key not in _IN_HEADER and a.key != "summary"]
    return Section("The disagreement", answers, note=f"Raised by {challenge.referrer.display_name} of "
                                                     f"{challenge.raising_agency.name} about "
                                                     f"{challenge.receiving_agency.name}.")


def local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"


def _challenged(raised: dict) -> list[Answer]:
    """Who was challenged, on one line of the header (nothing for a challenge raised before the form asked)."""
    named = {a.key: a.text for a in challenged(raised)}
    if not named:
        return []
    text = ", ".join(named[k] for k in ("challenged_role", "challenged_team") if k in named)
    extra = "; ".join(named[k] for k in ("challenged_name", "challenged_contact") if k in named)
    return [Answer("Professional or decision-maker challenged", f"{text} ({extra})" if extra else text)]


def _header(challenge: Challenge, raised: dict) -> list[Answer]:
    return [
        Answer("Challenge reference", challenge.reference),
        Answer("Case reference", challenge.subject_reference),
        Answer("Raised", f"{local(challenge.raised_at)} by {challenge.referrer.display_name}"),
        Answer("Raising agency", challenge.raising_agency.name),
        Answer("Receiving agency", challenge.receiving_agency.name),
        *_challenged(raised),
        Answer("Area of challenge", area_label(challenge.area)),
        Answer("Child Protection Plan / Looked After", CP_OR_LAC.get(raised.get("cp_or_lac"), "Not recorded")),
        Answer("Status", f"Open at {_stage(challenge, challenge.current_stage).lower()}" if challenge.status == "open"
               else f"{_outcome(challenge)} at {_stage(challenge, challenge.current_stage).lower()}"),
    ]


def build(session: Session, challenge: Challenge, key: str) -> Document:
    titles = available(session, challenge)
    if key not in titles:
        if key in challenge.procedure_version.meta.get("records", {}):
            raise NotFound("This record is not offered yet: the stage it belongs to has not started.")
        raise NotFound("This procedure has no such record.")
    raised = raised_answers(session, challenge)
    header = _header(challenge, raised)
    stages = stage_records(session, challenge)
    if key == MONITORING_RETURN:
        withdrawal = session.scalar(select(Event.data).where(Event.challenge_id == challenge.id,
                                                             Event.kind == "challenge_withdrawn"))
        sections = _monitoring_return(challenge, stages, (withdrawal or {}).get("reason"))
    else:
        wanted = challenge.procedure_version.meta["records"][key]["tasks"]
        sections = [_disagreement(challenge, raised)]
        for stage in stages:
            for rec in stage.tasks:
                if rec.task.bpmn_id in wanted:
                    who = (f"{rec.task.completed_by.display_name}, {local(rec.task.completed_at)}"
                           if rec.task.status == "completed" else "not completed")
                    sections.append(Section(f"{rec.task.title} ({rec.task.agency.name})", rec.answers, who))
    return Document(key, titles[key], challenge.partnership.name, challenge.reference, header, sections)


# Answers that say how a stage settled, in the order a reader wants them.
SETTLING_ANSWERS = ("discussion", "agreed_outcomes", "reason", "recommendation", "how_resolved", "decision",
                    "next_course_of_action")


@dataclass
class Recorded:
    """What the stages recorded, as the monitoring questions ask it."""

    done: list[Answer]
    settled: list[Answer]
    outcome: str
    satisfied: str | None  # the last answer given (yes, partly, no)
    satisfied_text: str | None
    referred: bool | None
    referred_text: str | None


def recorded(challenge: Challenge, stages: list[StageRecord], withdrawn: str | None = None) -> Recorded:
    done: list[Answer] = []
    settled: list[Answer] = []
    satisfied = satisfied_text = referred = referred_text = None
    for stage in stages:
        for rec in stage.tasks:
            task = rec.task
            if task.status == "completed":
                done.append(Answer(task_label(challenge, task),
                                   f"{task.completed_by.display_name} ({task.agency.name}), "
                                   f"{local(task.completed_at)}"))
                by_key = {a.key: a for a in rec.answers}
                settled += [Answer(f"{_stage(challenge, task.stage)}: {by_key[k].label}", by_key[k].text, k)
                            for k in SETTLING_ANSWERS if k in by_key]
                if "satisfied" in by_key:
                    satisfied, satisfied_text = (task.data or {}).get("satisfied"), by_key["satisfied"].text
                if "referred_to_partnership" in by_key:
                    referred = (task.data or {}).get("referred_to_partnership")
                    referred_text = by_key["referred_to_partnership"].text
            elif task.status in ("cancelled", "lapsed"):
                done.append(Answer(task_label(challenge, task),
                                   f"not completed by its deadline ({local(task.due_at)}); the case moved on"))
    if withdrawn:
        settled.append(Answer("Withdrawn by the referrer", withdrawn))
    if challenge.status == "open":
        outcome = f"Still open at {_stage(challenge, challenge.current_stage).lower()}"
    else:
        outcome = f"{_outcome(challenge)} at {_stage(challenge, challenge.current_stage).lower()}"
    partnership_stage = challenge.procedure_version.meta.get("partnership_stage")
    reached = any(r.task.side == "partnership" for s in stages for r in s.tasks) or bool(
        partnership_stage and challenge.current_stage >= partnership_stage)
    if referred is None:
        referred, referred_text = reached, ("Yes" if reached else "No")
    return Recorded(done, settled, outcome, satisfied, satisfied_text, referred, referred_text)


def _monitoring_return(challenge: Challenge, stages: list[StageRecord], withdrawn: str | None = None) -> list[Section]:
    found = recorded(challenge, stages, withdrawn)
    return [
        Section("What was the challenge?", [Answer("The disagreement", challenge.summary)]),
        Section("What was done to address the challenge?", found.done or [Answer("Nothing recorded yet", "")]),
        Section("What was the outcome of these actions?", [Answer("Outcome", found.outcome)]),
        Section("How was the issue resolved?", found.settled or [Answer("Not recorded yet", "")]),
        Section("Are the professionals involved satisfied with the outcome?",
                [Answer("Satisfied", found.satisfied_text or "Not recorded")]),
        Section("If resolution could not be achieved, was the issue referred to the partnership?",
                [Answer("Referred to the partnership", found.referred_text)]),
    ]


def _lines(answers: list[Answer]) -> str:
    return "\n".join(f"{a.label}: {a.text}" for a in answers)


def prefilled_answers(session: Session, task: Task) -> dict[str, Any]:
    """A task's form started from what the stages recorded: each field whose schema names a source in
    `x-prefill` (see the vocabulary's PREFILL_SOURCES) gets it, for the person answering to check and change.
    Darlington's stage 5 monitoring questions are asked this way of the raising agency's designated lead."""
    challenge = task.challenge
    schema = challenge.procedure_version.forms.get(task.form, {})
    sources = {name: prop[PREFILL_KEY] for name, prop in schema.get("properties", {}).items() if PREFILL_KEY in prop}
    if not sources:
        return {}
    found = recorded(challenge, stage_records(session, challenge))
    raised = raised_answers(session, challenge)
    decisions = [a for a in found.settled if a.key in ("decision", "reason")]
    how = [a for a in found.settled if a.key not in ("decision", "reason")]
    values: dict[str, Any] = {
        "challenge": "\n".join([challenge.summary, *(f"{a.label}: {a.text}"
                                                    for a in _disagreement(challenge, raised).answers[1:])]),
        "what_was_done": _lines(found.done),
        "outcome": "\n".join([f"{found.outcome}.", _lines(decisions)]).strip(),
        "how_resolved": _lines(how),
        "satisfied": found.satisfied,
        "referred_to_partnership": found.referred,
    }
    return {name: values[source] for name, source in sources.items() if values.get(source) not in (None, "")}
