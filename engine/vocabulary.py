"""What a procedure may use, declared once: the functions its scripts and expressions call, the properties of
its tasks, whom `notify` can tell, the sides a lane can be on, the `x-` keys of its forms, the keys of its
procedure.json, its outcomes and the statuses of its tasks. docs/procedure-vocabulary.md is generated from this
module (`python -m engine.vocabulary > docs/procedure-vocabulary.md`) and a test keeps the two the same, so
nothing a process owner may write goes undocumented. The checks of a procedure and the engine read their
names from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    name: str
    meaning: str
    signature: str = ""  # for functions: how a diagram calls it


FUNCTIONS = (
    Entry("now", "The moment the case is living, as an ISO 8601 text (a timer's due moment while overdue timers "
                 "are caught up, else the step's now).", "now()"),
    Entry("working_days_after", "The end of the working day (17:00 London time unless the partnership says "
                                "otherwise) that is `days` working days after the day of `moment`; weekends and the "
                                "bank holidays of the partnership's nation do not count.",
          "working_days_after(moment, days)"),
    Entry("working_days_before", "The same time of day `days` working days before `moment` (a reminder before a "
                                 "deadline).", "working_days_before(moment, days)"),
    Entry("day_n", "The end of day `n` of a procedure that counts the day the concern was raised as day 1 (the first "
                   "working day on or after `start`).", "day_n(start, n)"),
    Entry("hours_before", "The moment `hours` hours before `moment`.", "hours_before(moment, hours)"),
    Entry("hours_after", "The moment `hours` hours after `moment` (clock hours, weekends and holidays included).",
          "hours_after(moment, hours)"),
    Entry("local_time", "How a person reads a moment: \"Monday 21 December 2026, 17:00\" in London time.",
          "local_time(moment)"),
    Entry("notify", "Tell people: `to` is one recipient or a list of them (see Notify targets); the subject and "
                    "message go to their notifications and email.", "notify(to, subject, message)"),
)
FUNCTION_NAMES = frozenset(entry.name for entry in FUNCTIONS)

TASK_PROPERTIES = (
    Entry("stage", "On a user task: the whole number of the stage the task belongs to. The case is at the highest "
                   "stage of its open tasks."),
    Entry("due", "On a user task: an expression giving the task's deadline (an ISO 8601 text, usually a variable a "
                 "script set, such as `stage_due`). A boundary timer at the same moment is the task's deadline; others "
                 "are reminders."),
    Entry("formJsonSchemaFilename", "On a user task: the file in forms/ with its form. Written where the SpiffWorkflow "
                                    "modeler writes it (a property of that name) or as its own "
                                    "`spiffworkflow:formJsonSchemaFilename` element."),
)

NOTIFY_TARGETS = (
    Entry("referrer", "Whoever raised the challenge."),
    Entry("involved", "The referrer, everyone who claimed or completed a task of the case, whoever its open tasks wait "
                      "on, and whoever a task that closed at that moment waited on."),
    Entry("current", "Whoever the tasks open when the script ran wait on: the claimer of a claimed task, everyone "
                     "holding the lane of an unclaimed one."),
    Entry("lane:<name>", "Everyone holding the role of the named lane, in the agency on its side."),
)

CHOSEN_PREFIX = "agency_from:"
SIDES = (
    Entry("raising", "The agency that raised the challenge."),
    Entry("receiving", "The agency challenged."),
    Entry("partnership", "The partnership's own body (its business unit, executive or scrutineer)."),
    Entry(f"{CHOSEN_PREFIX}<field>", "An agency chosen while the case runs (an independent chair from an agency not "
                                     "involved), read from the case's data field of that name."),
)

FORM_KEYS = (
    Entry("x-labels", "On a choice: the words shown for each value (value -> label)."),
    Entry("x-widget", "On a text field: `textarea` for a long answer."),
    Entry("x-not-future", "On a date field: the date may not be after today (in the partnership's time)."),
    Entry("x-pattern-message", "On a text field with a `pattern`: the message shown when an answer does not match it."),
    Entry("x-agency-choice", "On an integer field: `uninvolved` offers the partnership's agencies that neither raised "
                             "nor received the challenge (its answer names an agency for an agency_from lane)."),
    Entry("x-prefill", "On a field: start its answer from what the stages recorded, for the person answering to check "
                       "and change; the value is one of the Prefill sources."),
)
PREFILL_KEY = "x-prefill"

PREFILL_SOURCES = (
    Entry("challenge", "The disagreement as raised: its summary, its area and the raise form's other answers."),
    Entry("what_was_done", "Each task completed (who, which agency, when) and each closed by its deadline."),
    Entry("outcome", "Where the challenge stands, with each stage's decision and reason."),
    Entry("how_resolved", "What each stage discussed and agreed."),
    Entry("satisfied", "The last answer to whether those involved are satisfied (yes, partly or no)."),
    Entry("referred_to_partnership", "Whether the challenge reached the partnership (yes or no)."),
)
PREFILL_SOURCE_NAMES = frozenset(entry.name for entry in PREFILL_SOURCES)

PROCEDURE_KEYS = (
    Entry("procedure", "The procedure's short name (its folder name)."),
    Entry("title", "Its title, as people read it."),
    Entry("process_id", "The id of the BPMN process in procedure.bpmn that is run."),
    Entry("stage_word", "What the procedure calls its stages: stage (the default), step or level."),
    Entry("source", "The document the procedure is taken from."),
    Entry("records", "Records a person can print: key -> {title, tasks: [user task ids]}."),
    Entry("raise_guidance", "Guidance shown to whoever raises a challenge: a list of {title, text}."),
    Entry("outcome_labels", "How this procedure words its outcomes: outcome -> label (the deciding body's name)."),
    Entry("partnership_stage", "The stage at which the challenge is the partnership's to decide: a challenge that "
                               "reaches it counts as referred to the partnership in the reports."),
    Entry("as_soon_as_possible",
          "Tasks the procedure wants done \"as soon as possible\": "
          "`{\"tasks\": [user task ids], \"remind_every_working_days\": N}` (N from 1 to 20). While such a task "
          "is open, every N working days (at the end of the working day, counted from when it opened) its holder "
          "(whoever claimed it, else everyone holding its lane) and their manager (in its agency, the holders of the "
          "next role up of practitioner, line_manager, senior_manager, head_of_service, director) are reminded, "
          "until it is completed or closes; after downtime, one reminder, not one per interval missed."),
    Entry("deadlines_from", "What the deadlines count from: `raised` (the default), the day the challenge is "
                            "raised, or `concern_first_raised`, the day the raise form says the concern was first "
                            "raised (for a procedure that numbers its days from the concern, such as Dudley's day "
                            "1), or the day it is raised when that answer is not given. The diagram reads it as "
                            "`deadlines_from`, the moment the days count from (an ISO 8601 text); its timers counted "
                            "from it may already be due when the challenge is raised, and then fire at once, in "
                            "order."),
    Entry("covers", "Whom the procedure is for: `[\"child\"]` (the default) or `[\"child\", \"adult\"]`; the reports "
                    "count children and adults apart where it covers both."),
)
DEADLINES_FROM = ("raised", "concern_first_raised")
PROCEDURE_KEY_NAMES = frozenset(entry.name for entry in PROCEDURE_KEYS)

# Who a holder's manager is, for the reminders of tasks wanted "as soon as possible": within the task's agency, the
# holders of the first role above the lane's on this ladder that someone there holds (a line manager's manager is
# the senior manager, else the head of service). A lane off the ladder, or at its top, has no manager to tell.
MANAGER_LADDER = ("practitioner", "line_manager", "senior_manager", "head_of_service", "director")
REMIND_EVERY_LIMIT = 20  # working days

OUTCOMES = (
    Entry("resolved", "Resolved"),
    Entry("decided_by_partnership", "Decided by the partnership"),
    Entry("closed", "Closed"),
    Entry("withdrawn", "Withdrawn by the referrer"),
)
OUTCOME_NAMES = frozenset(entry.name for entry in OUTCOMES)

REPORTED_ANSWERS = (
    Entry("satisfied", "A form's answer (yes, partly or no) to whether those involved are satisfied with the outcome: "
                       "asked wherever a challenge can close, the reports count the last one given."),
    Entry("referred_to_partnership", "A form's yes/no answer to whether the challenge was referred to the "
                                     "partnership; the reports count it as referred."),
)
REPORTED_ANSWER_NAMES = frozenset(entry.name for entry in REPORTED_ANSWERS)
SATISFIED_ANSWERS = ("yes", "partly", "no")

TASK_STATUSES = (
    Entry("open", "Waiting for the holders of its lane."),
    Entry("completed", "Completed with answers."),
    Entry("lapsed", "Closed by its deadline: the case moved on without it."),
    Entry("withdrawn", "Closed because the case took another path, or because the challenge was withdrawn."),
    Entry("cancelled", "Closed by the procedure, in history recorded before lapsed and withdrawn were told apart."),
)

SECTIONS = (
    ("Diagram functions", "What scripts and expressions may call.", FUNCTIONS),
    ("Task properties", "`spiffworkflow:property` values on a diagram's tasks.", TASK_PROPERTIES),
    ("Notify targets", "Whom `notify(to, ...)` can tell.", NOTIFY_TARGETS),
    ("Lane sides", "The `side` of a lane in lanes.json: which agency's people hold it.", SIDES),
    ("Form keys", "`x-` keys a form's JSON Schema may use.", FORM_KEYS),
    ("Prefill sources", "What a form field's `x-prefill` may start its answer from.", PREFILL_SOURCES),
    ("procedure.json keys", "What a procedure's procedure.json may say.", PROCEDURE_KEYS),
    ("Reported answers", "Form fields the partnership's reports read from the answers of a case's tasks.",
     REPORTED_ANSWERS),
    ("Outcomes", "What a script may set `outcome` to (the challenge's outcome when its procedure ends); "
     "`withdrawn` is also what a challenge its referrer withdrew ends with.", OUTCOMES),
    ("Task statuses", "What a task row's status can be.", TASK_STATUSES),
)


def valid_side(side: object) -> bool:
    if not isinstance(side, str):
        return False
    if side.startswith(CHOSEN_PREFIX):
        return side.removeprefix(CHOSEN_PREFIX).isidentifier()
    return side in ("raising", "receiving", "partnership")


def outcome_label(outcome: str | None, labels: dict[str, str] | None = None) -> str:
    """How an outcome is worded, in the procedure's own words where it has them."""
    if not outcome:
        return ""
    if labels and outcome in labels:
        return labels[outcome]
    return next((entry.meaning for entry in OUTCOMES if entry.name == outcome), outcome)


def reserved_fields() -> frozenset[str]:
    """Names a form field may not have: a diagram function's (the field would hide it), the sandbox's guards, and
    the builtins a diagram may not name."""
    from .bpmn.scripting import FORBIDDEN_NAMES, GUARD_NAMES, SAFE_BUILTINS

    return FUNCTION_NAMES | GUARD_NAMES | SAFE_BUILTINS | FORBIDDEN_NAMES


def markdown() -> str:
    lines = ["# Procedure vocabulary", "",
             "Everything a procedure may use. Generated from `engine/vocabulary.py` "
             "(`python -m engine.vocabulary > docs/procedure-vocabulary.md`); a test keeps this file the same.", ""]
    for title, intro, entries in SECTIONS:
        lines += [f"## {title}", "", intro, "", "| name | meaning |", "|---|---|"]
        for entry in entries:
            name = f"`{entry.signature or entry.name}`"
            lines.append(f"| {name} | {entry.meaning} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
