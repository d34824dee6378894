"""Writes workflows/dudley/procedure.bpmn. Run: python tools/draw_dudley.py"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bpmn_drawing import Diagram, Node  # noqa: E402
from escalation_parts import deadline, end, reminder, respond_decide, script, target, user_task  # noqa: E402

RAISING_PRACTITIONER = "Raising practitioner"
RECEIVING_PRACTITIONER = "Receiving practitioner"
RAISING_MANAGER = "Raising line manager / safeguarding lead"
RECEIVING_MANAGER = "Receiving line manager / safeguarding lead"
RAISING_SENIOR = "Raising senior manager or head teacher"
RECEIVING_SENIOR = "Receiving senior manager or head teacher"
RAISING_GOVERNORS = "Raising school's chair of governors"
RECEIVING_GOVERNORS = "Receiving school's chair of governors"
RAISING_REP = "Raising DSAB / DSCPG representative"
RECEIVING_REP = "Receiving DSAB / DSCPG representative"
EXECUTIVE = "DSPP Executive"
BUSINESS_UNIT = "DSPP Business Unit"

LANES = [
    RAISING_PRACTITIONER, RECEIVING_PRACTITIONER, RAISING_MANAGER, RECEIVING_MANAGER, RAISING_SENIOR,
    RECEIVING_SENIOR, RAISING_GOVERNORS, RECEIVING_GOVERNORS, RAISING_REP, RECEIVING_REP, EXECUTIVE,
    BUSINESS_UNIT,
]

DOC = """Dudley Safeguarding People Partnership: Procedure for Multi-Agency Professional Challenge and Resolution
(children, young people and adults; four stages).

How days are counted. The procedure numbers days from the concern: day 1 is the day the concern is raised (or, if
it is raised on a weekend or bank holiday, the first working day after). Days are working days: Monday to Friday
less the bank holidays of England and Wales. "By day N" means by the end of the Nth working day (17:00 London time
unless the partnership sets another end to its working day), written day_n(raised_at, N). So a concern raised on
Friday 18 December 2026 has day 2 on Monday 21 December, day 9 on Monday 4 January 2027 (25 and 28 December and 1
January are bank holidays) and day 21 on Wednesday 20 January 2027. The deadlines are counted from the day the
concern was raised, not from the day a stage began, exactly as the procedure's timetable does (stage 2 days 3 to 9,
stage 3 days 9 to 14, stage 4 days 16 to 21).

Stage 1, practitioners: the worker must raise the issue with the other agency "within one working day", so stage 1
runs to the end of the next working day after the challenge is raised, working_days_after(raised_at, 1) (day 2 when
it is raised on a working day): a concern raised late on day 1 still gets a whole working day, and stage 2 can
start by day 3 as the timetable says. Reminder: four hours before the deadline, on the deadline's own working day,
while there is still time to talk.
Stage 2, line managers / designated or named safeguarding leads: concluded no later than day 9. Reminder two
working days before, time enough for two managers to meet. The outcome is fed back to the practitioner who raised
the concern.
Stage 3, escalated by a senior manager of each agency (for a school, the head teacher, with the chair of governors
alongside: a chair of governors' task is added for each side that is a school) to their DSAB (adults) / DSCPG
(children) representative, who seek resolution with their equivalent: concluded no later than day 14. Reminder two
working days before (senior managers and representatives need notice to meet). The outcome is fed back to the
practitioner who raised the concern.
At the stage 1, 2 and 3 deadlines an unresolved challenge moves to the next stage by itself and everyone involved
is told why: the procedure says challenges "must be resolved in a timely manner" and gives each stage an end day.
The senior managers' and chairs' tasks run side by side; the stage goes on to the representatives when all of them
are done, or to stage 4 when the day 14 deadline passes first.
Stage 4, the DSPP Executive: written representations are requested from both agencies' representatives by day 16
(the timetable's start of stage 4; reminder the working day before, enough to finish a short written statement; a
representation not in by then is not waited for and the Executive is told). The Executive considers them, may call
a meeting with the involved parties, and records its recommendation on the Professional Challenge and Resolution
Template by day 21 (reminder two working days before, time to write the template up after any meeting). Stage 4 is
the last stage, so day 21 moves nothing: when it passes everyone involved and the DSPP Business Unit are told and
the tasks show as overdue. Every stage 4 resolution is sent to the DSPP Business Unit, which keeps the record of
all stage 4 resolutions and outcomes.
Third sector: the designated safeguarding lead may be the same worker who raised the concern at stage 1; the
procedure is followed all the same (the raising line manager's task goes to whoever holds that role).
A task that opens after its stage's reminder moment (the other side took most of the time) is reminded at once: it
has less time left than the reminder was meant to give."""


def stage_feedback(n: int, next_stage: str) -> str:
    return (f'notify("referrer", f"{{reference}}: stage {n} not resolved, escalated", '
            f'f"Stage {n} recorded that the challenge about case {{subject_reference}} is not resolved: '
            f'{{reason}} It has been escalated to {next_stage}.")')


def missed(n: int, next_stage: str, next_due: str, lanes: tuple[str, ...]) -> str:
    """Everyone involved, and whoever held the tasks that lapsed (`lanes`), are told why it moved on."""
    to = ", ".join(['"involved"'] + [f'"lane:{lane}"' for lane in lanes])
    return (f"missed_deadlines = missed_deadlines + [{n}]\n"
            f'notify([{to}], f"{{reference}}: stage {n} deadline missed, now at stage {n + 1}", '
            f'f"The stage {n} deadline ({{local_time(stage_due)}}) passed without the challenge being '
            f'resolved, so under the procedure it has moved to stage {n + 1}: {next_stage}, to be concluded by '
            f'{{local_time({next_due})}}.")')


def remind_text(n: int, then: str) -> str:
    return (f'notify("current", f"{{reference}}: stage {n} deadline approaching", '
            f'f"Stage {n} must be concluded by {{local_time(stage_due)}}. {then}")')


def resolved(n: int) -> str:
    return (f'outcome = "resolved"\nresolved_at_stage = {n}\n'
            f'notify("involved", f"{{reference}}: resolved at stage {n}", '
            f'f"The challenge about case {{subject_reference}} was recorded as resolved at stage {n}: {{reason}}")')


def pair_stage(d: Diagram, n: int, col: float, respond_lane: str, decide_lane: str, respond_name: str,
               decide_name: str, then: str, next_stage: str, next_due: str, feedback: bool) -> float:
    """The respond-then-decide pair of stages 1 to 3, with the deadline moving the case to stage n + 1."""
    return respond_decide(
        d, n, col, respond_lane, decide_lane, respond_name, decide_name, then=then, resolved_source=resolved(n),
        escalate_source=stage_feedback(n, next_stage) if feedback else None,
        deadline_source=lambda lane: missed(n, next_stage, next_due, (lane,)),
        reminder_source=remind_text(n, f"If it is not resolved by then it moves to stage {n + 1} automatically."))


def main() -> None:
    d = Diagram("dudley_professional_challenge", "Dudley professional challenge and resolution", LANES, DOC)
    d.add(Node("start", "startEvent", "Concern raised", RAISING_PRACTITIONER, 0))
    opened = script(d, "raised", "Open the case", RAISING_PRACTITIONER, 1, "\n".join([
        "missed_deadlines = []",
        "outcome = None",
        'board = "DSCPG" if subject_kind == "child" else "DSAB"',
    ]))
    d.flow("start", opened.id)

    # Stage 1 -----------------------------------------------------------------------------------------
    enter1 = script(d, "enter_1", "Enter stage 1", RAISING_PRACTITIONER, 2, "\n".join([
        "stage = 1",
        "stage_started = raised_at",
        "stage_due = working_days_after(raised_at, 1)",
        "stage_reminder = hours_before(stage_due, 4)",
    ]))
    d.flow(opened.id, enter1.id)
    to2 = d.add(Node("to_2", "exclusiveGateway", "To stage 2", RAISING_MANAGER, 7))
    d.flow(enter1.id, "s1_respond")
    col = pair_stage(d, 1, 3, RECEIVING_PRACTITIONER, RAISING_PRACTITIONER, "Stage 1: respond to the challenge",
                     "Stage 1: record the discussion and decide", to2.id,
                     "line managers / designated or named safeguarding leads", "day_n(raised_at, 9)", False)

    # Stage 2 -----------------------------------------------------------------------------------------
    enter2 = script(d, "enter_2", "Enter stage 2", RAISING_MANAGER, col + 0.5, "\n".join([
        "stage = 2",
        "stage_started = now()",
        "stage_due = day_n(raised_at, 9)",
        "stage_reminder = working_days_before(stage_due, 2)",
    ]))
    d.flow(to2.id, enter2.id)
    d.flow(enter2.id, "s2_respond")
    to3 = d.add(Node("to_3", "exclusiveGateway", "To stage 3", RAISING_SENIOR, col + 5.5))
    col = pair_stage(d, 2, col + 1.5, RECEIVING_MANAGER, RAISING_MANAGER,
                     "Stage 2: line manager / safeguarding lead responds",
                     "Stage 2: record the resolution and decide", to3.id,
                     "the senior managers and the DSAB / DSCPG representatives", "day_n(raised_at, 14)", True)

    # Stage 3 -----------------------------------------------------------------------------------------
    enter3 = script(d, "enter_3", "Enter stage 3", RAISING_SENIOR, col + 0.5, "\n".join([
        "stage = 3",
        "stage_started = now()",
        "stage_due = day_n(raised_at, 14)",
        "stage_reminder = working_days_before(stage_due, 2)",
        "stage3_late = False",
    ]))
    d.flow(to3.id, enter3.id)
    split = d.add(Node("s3_split", "inclusiveGateway", "Who escalates (schools: chair of governors too)",
                       RAISING_SENIOR, col + 1.2))
    d.flow(enter3.id, split.id)
    join = d.add(Node("s3_join", "inclusiveGateway", "All escalated", RAISING_REP, col + 3.5))
    escalations = [
        ("s3_escalate_raising", RAISING_SENIOR, "escalate.json",
         "Stage 3: senior manager escalates to the DSAB / DSCPG representative", "True"),
        ("s3_escalate_receiving", RECEIVING_SENIOR, "escalate.json",
         "Stage 3: senior manager escalates to the DSAB / DSCPG representative", "True"),
        ("s3_governors_raising", RAISING_GOVERNORS, "governors.json",
         "Stage 3: chair of governors, alongside the head teacher", 'raising_agency_kind == "school"'),
        ("s3_governors_receiving", RECEIVING_GOVERNORS, "governors.json",
         "Stage 3: chair of governors, alongside the head teacher", 'receiving_agency_kind == "school"'),
    ]
    for bpmn_id, lane, form, name, condition in escalations:
        task = user_task(d, bpmn_id, name, lane, col + 2.2, form, 3, "stage_due")
        d.flow(split.id, task.id, None, condition)
        d.flow(task.id, join.id)
        # All of these share the day 14 deadline, so when one is late every open one is: each marks the stage
        # late and the join goes on once, to stage 4.
        deadline(d, task, "stage_due", "stage3_late = True", join.id, "Stage 3 deadline")
        reminder(d, task, "stage_reminder",
                 remind_text(3, "If it is not resolved by then it moves to the DSPP Executive (stage 4) "
                                "automatically."), "Stage 3 reminder")
    in_time = d.add(Node("s3_in_time", "exclusiveGateway", "Escalated by day 14?", RAISING_REP, col + 4.2))
    d.flow(join.id, in_time.id)
    to4 = d.add(Node("to_4", "exclusiveGateway", "To stage 4", EXECUTIVE, col + 9))
    late = script(d, "s3_late", "Stage 3 deadline passed", RAISING_REP, col + 4.2,
                  missed(3, "the DSPP Executive", "day_n(raised_at, 21)",
                         tuple(lane for _, lane, _, _, _ in escalations)), row=0.85)
    d.flow(in_time.id, late.id, "day 14 passed", "stage3_late")
    d.flow(late.id, to4.id)
    respond = user_task(d, "s3_respond", "Stage 3: DSAB / DSCPG representative responds", RECEIVING_REP,
                        col + 5, "respond.json", 3, "stage_due")
    in_time.default = d.flow(in_time.id, respond.id, "escalated").id
    decide = user_task(d, "s3_decide", "Stage 3: DSAB / DSCPG representatives record the resolution", RAISING_REP,
                       col + 6, "decide.json", 3, "stage_due")
    d.flow(respond.id, decide.id)
    gate = d.add(Node("s3_gate", "exclusiveGateway", "Resolved?", RAISING_REP, col + 7))
    d.flow(decide.id, gate.id)
    done = script(d, "s3_resolved", "Resolved at stage 3", RAISING_REP, col + 7, resolved(3), row=0.15)
    d.flow(gate.id, done.id, "resolved", 'decision == "resolved"')
    d.flow(done.id, end(d, "s3_end", "Resolved", RAISING_REP, col + 7.7, row=0.15).id)
    tell = script(d, "s3_feedback", "Feed the outcome back to the referrer", RAISING_REP, col + 8,
                  stage_feedback(3, "the DSPP Executive (stage 4)"))
    gate.default = d.flow(gate.id, tell.id, "escalate").id
    d.flow(tell.id, to4.id)
    for task in (respond, decide):
        deadline(d, task, "stage_due", missed(3, "the DSPP Executive", "day_n(raised_at, 21)", (task.lane,)),
                 to4.id, "Stage 3 deadline")
        reminder(d, task, "stage_reminder",
                 remind_text(3, "If it is not resolved by then it moves to the DSPP Executive (stage 4) "
                                "automatically."), "Stage 3 reminder")
    col += 10

    # Stage 4 -----------------------------------------------------------------------------------------
    enter4 = script(d, "enter_4", "Enter stage 4: ask for written representations", EXECUTIVE, col, "\n".join([
        "stage = 4",
        "stage_started = now()",
        "representations_due = day_n(raised_at, 16)",
        "representations_reminder = working_days_before(representations_due, 1)",
        "stage_due = day_n(raised_at, 21)",
        "stage_reminder = working_days_before(stage_due, 2)",
        'notify(["lane:DSPP Executive", "lane:DSPP Business Unit"], '
        'f"{reference}: challenge escalated to the DSPP Executive (stage 4)", '
        'f"The {board} representatives could not resolve the challenge about case {subject_reference} between '
        '{raising_agency} and {receiving_agency}. Written representations are requested from both agencies by '
        'day 16 ({local_time(representations_due)}); the recommendation is due by day 21 '
        '({local_time(stage_due)}).")',
    ]))
    d.flow(to4.id, enter4.id)
    split4 = d.add(Node("s4_split", "inclusiveGateway", "Ask both agencies", EXECUTIVE, col + 0.7))
    d.flow(enter4.id, split4.id)
    join4 = d.add(Node("s4_join", "inclusiveGateway", "Representations in", EXECUTIVE, col + 2.5))
    for side, lane in (("raising", RAISING_REP), ("receiving", RECEIVING_REP)):
        task = user_task(d, f"s4_representation_{side}", "Stage 4: written representation to the DSPP Executive",
                         lane, col + 1.5, "representation.json", 4, "representations_due")
        d.flow(split4.id, task.id, None, "True")
        d.flow(task.id, join4.id)
        agency = "raising_agency" if side == "raising" else "receiving_agency"
        deadline(d, task, "representations_due",
                 f'notify("lane:DSPP Executive", f"{{reference}}: no written representation from {{{agency}}}", '
                 f'f"{{{agency}}} sent no written representation by day 16 ({{local_time(representations_due)}}); '
                 f'the Executive goes on without it.")',
                 join4.id, "Day 16: representations due")
        reminder(d, task, "representations_reminder",
                 'notify("current", f"{reference}: written representation due", '
                 'f"The DSPP Executive needs your written representation by day 16 '
                 '({local_time(representations_due)}).")', "Representation reminder")
    consider = user_task(d, "s4_consider", "Stage 4: consider the written representations", EXECUTIVE, col + 3.3,
                         "consider.json", 4, "stage_due")
    d.flow(join4.id, consider.id)
    meeting_gate = d.add(Node("s4_meeting_gate", "exclusiveGateway", "Meeting called?", EXECUTIVE, col + 4.1))
    d.flow(consider.id, meeting_gate.id)
    meeting = user_task(d, "s4_meeting", "Stage 4: record the meeting with the involved parties", EXECUTIVE,
                        col + 4.9, "meeting.json", 4, "stage_due", row=0.2)
    d.flow(meeting_gate.id, meeting.id, "meeting called", "call_meeting")
    merge = d.add(Node("s4_merge", "exclusiveGateway", "Recommend", EXECUTIVE, col + 5.7))
    meeting_gate.default = d.flow(meeting_gate.id, merge.id, "no meeting").id
    d.flow(meeting.id, merge.id)
    template = user_task(d, "s4_template", "Stage 4: Professional Challenge and Resolution Template", EXECUTIVE,
                         col + 6.5, "resolution_template.json", 4, "stage_due")
    d.flow(merge.id, template.id)
    recorded = script(d, "s4_recorded", "Send the resolution to the DSPP Business Unit", BUSINESS_UNIT, col + 7.3,
                      "\n".join([
                          'outcome = "resolved" if agencies_accept else "decided_by_partnership"',
                          "resolved_at_stage = 4",
                          'accepted = "Yes" if agencies_accept else "No"',
                          'notify("lane:DSPP Business Unit", f"{reference}: stage 4 resolution - Professional '
                          'Challenge and Resolution Template", f"The DSPP Executive recorded the Professional '
                          'Challenge and Resolution Template for case {subject_reference} ({raising_agency} and '
                          '{receiving_agency}).\\nNature of the challenge: {nature_of_challenge}\\n'
                          'Recommendation: {recommendation}\\nAction and resolution: {actions}\\n'
                          'Both agencies accept the recommendation: {accepted}")',
                          'notify("involved", f"{reference}: recommendation of the DSPP Executive", '
                          'f"The DSPP Executive has made its recommendation on the challenge about case '
                          '{subject_reference}: {recommendation}")',
                      ]))
    d.flow(template.id, recorded.id)
    d.flow(recorded.id, end(d, "s4_end", "Recommendation made", BUSINESS_UNIT, col + 8).id)
    for task in (consider, meeting, template):
        target(d, task, "stage_due",
               'notify(["involved", "lane:DSPP Business Unit"], f"{reference}: stage 4 is past day 21", '
               'f"Stage 4 should have been concluded by day 21 ({local_time(stage_due)}); the DSPP Executive\'s '
               'recommendation is still awaited.")', "Day 21 target")
        reminder(d, task, "stage_reminder",
                 'notify("current", f"{reference}: stage 4 due by day 21", '
                 'f"The DSPP Executive\'s recommendation is due by day 21 ({local_time(stage_due)}).")',
                 "Stage 4 reminder")

    out = Path(__file__).resolve().parent.parent / "workflows" / "dudley" / "procedure.bpmn"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(d.to_xml())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
