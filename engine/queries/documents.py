"""Records a person can print and file: the ones a procedure names (a stage's tasks, e.g. Darlington's
Professional Challenge Recording Tool) and the business unit's monitoring return, built from what the stages
recorded. One `Document` feeds both the printable page and the PDF."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import Challenge
from ..vocabulary import outcome_label
from .records import Answer, StageRecord, challenged, raised_answers, stage_records

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


def available(challenge: Challenge) -> dict[str, str]:
    """The records this challenge's procedure offers, key -> title, the monitoring return last."""
    named = {key: spec["title"] for key, spec in challenge.procedure_version.meta.get("records", {}).items()}
    named[MONITORING_RETURN] = "Business unit monitoring return"
    return named


def _outcome(challenge: Challenge) -> str:
    return outcome_label(challenge.outcome, challenge.procedure_version.meta.get("outcome_labels"))


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
        Answer("Area of challenge", challenge.area.replace("_", " ").capitalize()),
        Answer("Child Protection Plan / Looked After", CP_OR_LAC.get(raised.get("cp_or_lac"), "Not recorded")),
        Answer("Status", f"Open at stage {challenge.current_stage}" if challenge.status == "open"
               else f"{_outcome(challenge)} at stage {challenge.current_stage}"),
    ]


def build(session: Session, challenge: Challenge, key: str) -> Document:
    titles = available(challenge)
    if key not in titles:
        raise NotFound("This procedure has no such record.")
    raised = raised_answers(session, challenge)
    header = _header(challenge, raised)
    stages = stage_records(session, challenge)
    if key == MONITORING_RETURN:
        sections = _monitoring_return(challenge, stages)
    else:
        wanted = challenge.procedure_version.meta["records"][key]["tasks"]
        sections = []
        for stage in stages:
            for rec in stage.tasks:
                if rec.task.bpmn_id in wanted:
                    who = (f"{rec.task.completed_by.display_name}, {local(rec.task.completed_at)}"
                           if rec.task.status == "completed" else "not completed")
                    sections.append(Section(f"{rec.task.title} ({rec.task.agency.name})", rec.answers, who))
        if not sections:
            sections.append(Section("Not yet recorded", note="The stage this record belongs to has not been reached."))
    return Document(key, titles[key], challenge.partnership.name, challenge.reference, header, sections)


# Answers that say how a stage settled, in the order a reader wants them.
SETTLING_ANSWERS = ("discussion", "agreed_outcomes", "reason", "recommendation", "how_resolved", "decision",
                    "next_course_of_action")


def _monitoring_return(challenge: Challenge, stages: list[StageRecord]) -> list[Section]:
    done: list[Answer] = []
    settled: list[Answer] = []
    satisfied = referred = None
    for stage in stages:
        for rec in stage.tasks:
            task = rec.task
            if task.status == "completed":
                done.append(Answer(f"Stage {task.stage}: {task.title}",
                                   f"{task.completed_by.display_name} ({task.agency.name}), "
                                   f"{local(task.completed_at)}"))
                by_key = {a.key: a for a in rec.answers}
                settled += [Answer(f"Stage {task.stage}: {by_key[k].label}", by_key[k].text)
                            for k in SETTLING_ANSWERS if k in by_key]
                satisfied = by_key["satisfied"].text if "satisfied" in by_key else satisfied
                referred = by_key["referred_to_partnership"].text if "referred_to_partnership" in by_key else referred
            elif task.status == "cancelled":
                done.append(Answer(f"Stage {task.stage}: {task.title}",
                                   f"not completed by its deadline ({local(task.due_at)}); the case moved on"))
    reached_partnership = any(r.task.side == "partnership" for s in stages for r in s.tasks)
    if challenge.status == "open":
        outcome = f"Still open at stage {challenge.current_stage}"
    else:
        outcome = f"{_outcome(challenge)} at stage {challenge.current_stage}"
    return [
        Section("What was the challenge?", [Answer("The disagreement", challenge.summary)]),
        Section("What was done to address the challenge?", done or [Answer("Nothing recorded yet", "")]),
        Section("What was the outcome of these actions?", [Answer("Outcome", outcome)]),
        Section("How was the issue resolved?", settled or [Answer("Not recorded yet", "")]),
        Section("Are the professionals involved satisfied with the outcome?",
                [Answer("Satisfied", satisfied or "Not recorded")]),
        Section("If resolution could not be achieved, was the issue referred to the partnership?",
                [Answer("Referred to the partnership", referred or ("Yes" if reached_partnership else "No"))]),
    ]
