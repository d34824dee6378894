"""Writes workflows/tees/procedure.bpmn. Run: python tools/draw_tees.py"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bpmn_drawing import Diagram, Node  # noqa: E402
from escalation_parts import end, reminder, respond_decide, script, target, user_task  # noqa: E402

RAISING_PROFESSIONAL = "Raising professional"
RECEIVING_PROFESSIONAL = "Receiving professional"
RAISING_MANAGER = "Raising line manager / safeguarding lead"
RECEIVING_MANAGER = "Receiving line manager / safeguarding lead"
IRO = "Independent Reviewing Officer"
RAISING_SENIOR = "Raising senior manager"
RECEIVING_SENIOR = "Receiving senior manager"
PARTNERSHIP = "Safeguarding Children Partnership"
CHAIR = "Independent chair"

LANES = [
    RAISING_PROFESSIONAL, RECEIVING_PROFESSIONAL, RAISING_MANAGER, RECEIVING_MANAGER, IRO, RAISING_SENIOR,
    RECEIVING_SENIOR, PARTNERSHIP, CHAIR,
]

DOC = """Tees (Hartlepool, Stockton-on-Tees, Middlesbrough, Redcar and Cleveland): professional challenge and
resolution of professional disagreement (four stages).

Deadlines are in working days: Monday to Friday less the bank holidays of England and Wales. "N working days"
after a moment ends at the end of the Nth working day after the day of that moment (17:00 London time unless
the partnership sets another end to its working day). The procedure gives
no numbers ("as soon as possible", "immediately"), so these are ours, and why:
Stage 1, professional to professional: two working days from when the challenge is raised. "As soon as
possible", and best face to face, which may take a day to arrange; a second day covers the follow-up email the
procedure asks for. Reminder at the end of the first working day.
Stage 2, line managers / safeguarding leads: the parties "immediately alert" their line managers, who are given
three working days from reaching stage 2 (time to review the concerns and talk to the other agency's manager).
Reminder one working day before. If the child is on a Child Protection Plan or is Looked After, the Independent
Reviewing Officer is told as stage 2 begins (and only then).
At the stage 1 and 2 deadlines an unresolved challenge moves to the next stage by itself and everyone involved is
told: the procedure says an unresolved dispute is escalated immediately.
Stage 3, senior managers, "through all the appropriate tiers of management in each organisation until the matter
is resolved": each tier is one pass through the same pair of tasks (the senior manager of the receiving agency
responds; the raising agency's records the outcome); a tier counter is kept in the case's data. Each tier has a
target of five working days from when it starts (they consult "immediately", but may convene a professional
meeting of other agencies), with a reminder two working days before. The target moves nothing: only the managers
can say whether to go up a tier or to the partnership, so when it passes everyone involved is told and the tasks
show as overdue. The record of each tier names the managers who took part.
Stage 4, the Safeguarding Children Partnership: considers the issues and any wider learning (inconsistent
procedures, guidance, protocols or policies; the Tees Procedures Group for multi-agency procedures) and makes
recommendations; if no specific learning is found and the dispute is unresolved it may convene a resolution
meeting, chaired by someone from an agency not involved in the disagreement (chosen when the meeting is convened,
in the convene form's field `chairing`; the chair's task goes to that agency's senior managers). Target twenty
working days from reaching stage 4 (a chaired, minuted meeting of several agencies must be arranged), reminder
five working days before; it is the last stage, so the target only tells people.
Why the reminders sit where they do: each comes when there is still time to act on it, in proportion to the
work left. Stage 1's at the end of the first of its two days (one day left for a conversation); stage 2's one
working day before (enough for the two managers to speak); each tier's two working days before (senior
managers' diaries); stage 4's five working days before (a week to convene and hold a meeting).
The outcome is shared with the referrer at every stage: each stage's decision (resolved, escalated, next tier,
referred to the partnership, the partnership's recommendations or the meeting's resolution) is sent to them.
A task that opens after its stage's reminder moment (the other side took most of the time) is reminded at once:
it has less time left than the reminder was meant to give."""


def feedback(n: int, where: str) -> str:
    return (f'notify("referrer", f"{{reference}}: outcome of stage {n}", f"Stage {n} did not resolve the '
            f'challenge about case {{subject_reference}}: {{reason}} It has been escalated to {where}.")')


def missed(n: int, where: str):
    """Everyone involved, and whoever held the task that lapsed, are told why it moved on."""
    return lambda lane: (
        f"missed_deadlines = missed_deadlines + [{n}]\n"
        f'notify(["involved", "lane:{lane}"], f"{{reference}}: stage {n} deadline passed, now at stage {n + 1}", '
        f'f"The stage {n} deadline ({{local_time(stage_due)}}) passed without the challenge being resolved, '
        f'so it has been escalated to stage {n + 1}: {where}.")')


def resolved(n: int) -> str:
    return (f'outcome = "resolved"\nresolved_at_stage = {n}\n'
            f'notify("involved", f"{{reference}}: resolved at stage {n}", f"The challenge about case '
            f'{{subject_reference}} was recorded as resolved at stage {n}: {{reason}}")')


def remind(n: int, then: str) -> str:
    return (f'notify("current", f"{{reference}}: stage {n} is waiting for you", '
            f'f"Stage {n} is due by {{local_time(stage_due)}}. {then}")')


def main() -> None:
    d = Diagram("tees_professional_challenge", "Tees professional challenge and resolution", LANES, DOC)
    d.add(Node("start", "startEvent", "Challenge raised", RAISING_PROFESSIONAL, 0))
    opened = script(d, "raised", "Open the case", RAISING_PROFESSIONAL, 1,
                    "missed_deadlines = []\noutcome = None\ntier = 0")
    d.flow("start", opened.id)

    # Stage 1 -----------------------------------------------------------------------------------------
    enter1 = script(d, "enter_1", "Enter stage 1", RAISING_PROFESSIONAL, 2, "\n".join([
        "stage = 1",
        "stage_started = raised_at",
        "stage_due = working_days_after(raised_at, 2)",
        "stage_reminder = working_days_before(stage_due, 1)",
    ]))
    d.flow(opened.id, enter1.id)
    d.flow(enter1.id, "s1_respond")
    to2 = d.add(Node("to_2", "exclusiveGateway", "To stage 2", RAISING_MANAGER, 7))
    col = respond_decide(
        d, 1, 3, RECEIVING_PROFESSIONAL, RAISING_PROFESSIONAL, "Stage 1: respond to the challenge",
        "Stage 1: record the discussion and decide", then=to2.id, resolved_source=resolved(1),
        escalate_source=feedback(1, "the line managers (stage 2)"),
        deadline_source=missed(1, "the line managers / safeguarding leads"),
        reminder_source=remind(1, "If it is not resolved by then it goes to the line managers automatically."))

    # Stage 2, with the Independent Reviewing Officer told when the child is on a plan or looked after ----
    enter2 = script(d, "enter_2", "Enter stage 2", RAISING_MANAGER, col + 0.5, "\n".join([
        "stage = 2",
        "stage_started = now()",
        "stage_due = working_days_after(stage_started, 3)",
        "stage_reminder = working_days_before(stage_due, 1)",
    ]))
    d.flow(to2.id, enter2.id)
    plan_gate = d.add(Node("s2_plan_gate", "exclusiveGateway", "On a Child Protection Plan or Looked After?",
                           RAISING_MANAGER, col + 1.2))
    d.flow(enter2.id, plan_gate.id)
    tell_iro = script(d, "s2_tell_iro", "Notify the Independent Reviewing Officer", IRO, col + 1.9, "\n".join([
        'plan = "on a Child Protection Plan" if cp_or_lac == "child_protection_plan" else "Looked After"',
        'notify("lane:Independent Reviewing Officer", f"{reference}: professional challenge about a child {plan}", '
        'f"A professional challenge about case {subject_reference}, a child {plan}, has been escalated to the '
        'line managers of {raising_agency} and {receiving_agency} (stage 2). {raising_agency} disagrees with '
        '{receiving_agency}: {summary}")',
        "iro_notified = True",
    ]))
    d.flow(plan_gate.id, tell_iro.id, "yes", 'cp_or_lac != "neither"')
    merge = d.add(Node("s2_merge", "exclusiveGateway", "Line managers", RAISING_MANAGER, col + 2.6))
    plan_gate.default = d.flow(plan_gate.id, merge.id, "neither").id
    d.flow(tell_iro.id, merge.id)
    d.flow(merge.id, "s2_respond")
    to3 = d.add(Node("to_3", "exclusiveGateway", "To stage 3", RAISING_SENIOR, col + 7.3))
    col = respond_decide(
        d, 2, col + 3.3, RECEIVING_MANAGER, RAISING_MANAGER, "Stage 2: line manager responds",
        "Stage 2: line managers record the outcome", then=to3.id, resolved_source=resolved(2),
        escalate_source=feedback(2, "the senior managers (stage 3)"),
        deadline_source=missed(2, "the senior managers"),
        reminder_source=remind(2, "If it is not resolved by then it goes to the senior managers automatically."))

    # Stage 3: tier after tier of senior management -------------------------------------------------------
    enter3 = script(d, "enter_3", "Enter stage 3", RAISING_SENIOR, col + 0.5, "stage = 3\nstage_started = now()")
    d.flow(to3.id, enter3.id)
    tier_merge = d.add(Node("s3_tier_merge", "exclusiveGateway", "Next tier", RAISING_SENIOR, col + 1.2))
    d.flow(enter3.id, tier_merge.id)
    next_tier = script(d, "s3_next_tier", "Start a tier of management", RAISING_SENIOR, col + 1.9, "\n".join([
        "tier = tier + 1",
        "tier_started = now()",
        "stage_due = working_days_after(tier_started, 5)",
        "stage_reminder = working_days_before(stage_due, 2)",
    ]))
    d.flow(tier_merge.id, next_tier.id)
    respond = user_task(d, "s3_respond", "Stage 3: senior manager responds at this tier of management",
                        RECEIVING_SENIOR, col + 2.7, "senior_respond.json", 3, "stage_due")
    d.flow(next_tier.id, respond.id)
    decide = user_task(d, "s3_decide", "Stage 3: senior managers record the outcome of this tier", RAISING_SENIOR,
                       col + 3.5, "tier_decide.json", 3, "stage_due")
    d.flow(respond.id, decide.id)
    gate = d.add(Node("s3_gate", "exclusiveGateway", "Resolved at this tier?", RAISING_SENIOR, col + 4.3))
    d.flow(decide.id, gate.id)
    done = script(d, "s3_resolved", "Resolved at stage 3", RAISING_SENIOR, col + 4.3, resolved(3), row=0.15)
    d.flow(gate.id, done.id, "resolved", 'decision == "resolved"')
    d.flow(done.id, end(d, "s3_end", "Resolved", RAISING_SENIOR, col + 5, row=0.15).id)
    up = script(d, "s3_up_a_tier", "Tell the referrer: next tier", RAISING_SENIOR, col + 4.3, "\n".join([
        'notify("referrer", f"{reference}: escalated to the next tier of management", f"Tier {tier} of senior '
        'management did not resolve the challenge about case {subject_reference}: {reason} It goes to the next '
        'tier (tier {tier + 1}).")',
    ]), row=0.85)
    d.flow(gate.id, up.id, "escalate to the next tier", 'decision == "next_tier"')
    d.flow(up.id, tier_merge.id)
    to4 = d.add(Node("to_4", "exclusiveGateway", "To stage 4", PARTNERSHIP, col + 5.7))
    refer = script(d, "s3_feedback", "Tell the referrer: partnership", RAISING_SENIOR, col + 5,
                   feedback(3, "the Safeguarding Children Partnership (stage 4)"))
    gate.default = d.flow(gate.id, refer.id, "refer to the partnership").id
    d.flow(refer.id, to4.id)
    for task in (respond, decide):
        target(d, task, "stage_due",
               'notify("involved", f"{reference}: stage 3 tier {tier} is overdue", f"Tier {tier} of senior '
               'management should have reached a resolution or a decision to escalate by {local_time(stage_due)}. '
               'The senior managers decide whether to go to the next tier or to the Safeguarding Children '
               'Partnership.")', "Tier target")
        reminder(d, task, "stage_reminder", remind(3, "Record whether it is resolved, goes to the next tier of "
                                                      "management, or goes to the Safeguarding Children Partnership."),
                 "Tier reminder")
    col += 6.5

    # Stage 4: the Safeguarding Children Partnership ------------------------------------------------------
    enter4 = script(d, "enter_4", "Enter stage 4", PARTNERSHIP, col, "\n".join([
        "stage = 4",
        "stage_started = now()",
        "stage_due = working_days_after(stage_started, 20)",
        "stage_reminder = working_days_before(stage_due, 5)",
        'notify("lane:Safeguarding Children Partnership", f"{reference}: dispute referred to the Safeguarding '
        'Children Partnership", f"Senior managers of {raising_agency} and {receiving_agency} could not resolve '
        'the challenge about case {subject_reference} after {tier} tier(s) of management. Consider the issues and '
        'any wider learning by {local_time(stage_due)}.")',
    ]))
    d.flow(to4.id, enter4.id)
    consider = user_task(d, "s4_consider", "Stage 4: consider the issues and identify learning", PARTNERSHIP,
                         col + 0.8, "consider.json", 4, "stage_due")
    d.flow(enter4.id, consider.id)
    route = d.add(Node("s4_route", "exclusiveGateway", "Resolution meeting?", PARTNERSHIP, col + 1.6))
    d.flow(consider.id, route.id)
    learned = script(d, "s4_recommendations", "Share the learning and recommendations", PARTNERSHIP, col + 2.4,
                     "\n".join([
                         'outcome = "decided_by_partnership"',
                         "resolved_at_stage = 4",
                         'notify("involved", f"{reference}: the Safeguarding Children Partnership\'s '
                         'recommendations", f"The Safeguarding Children Partnership considered the dispute about case '
                         '{subject_reference}. Recommendations: {recommendations}")',
                     ]), row=0.2)
    d.flow(route.id, learned.id, "learning and recommendations", 'next_step == "recommendations"')
    d.flow(learned.id, end(d, "s4_learning_end", "Recommendations made", PARTNERSHIP, col + 3.2, row=0.2).id)
    convene = user_task(d, "s4_convene", "Stage 4: convene a resolution meeting with an independent chair",
                        PARTNERSHIP, col + 2.4, "convene.json", 4, "stage_due", row=0.7)
    route.default = d.flow(route.id, convene.id, "resolution meeting").id
    invited = script(d, "s4_invite", "Invite the disputing agencies", PARTNERSHIP, col + 3.2, "\n".join([
        'notify(["lane:Raising senior manager", "lane:Receiving senior manager", "referrer"], f"{reference}: '
        'resolution meeting convened", f"The Safeguarding Children Partnership has convened a resolution meeting on '
        'the challenge about case {subject_reference} for {meeting_date}, with an independent chair from an agency '
        'not involved in the disagreement. Representatives of {raising_agency} and {receiving_agency} are invited.")',
    ]), row=0.7)
    d.flow(convene.id, invited.id)
    chair = user_task(d, "s4_chair", "Stage 4: chair the resolution meeting", CHAIR, col + 4, "resolution_meeting.json",
                      4, "stage_due")
    d.flow(invited.id, chair.id)
    agreed = script(d, "s4_resolution", "Share the resolution", CHAIR, col + 4.8, "\n".join([
        'outcome = "resolved"',
        "resolved_at_stage = 4",
        'notify("involved", f"{reference}: resolution meeting outcome", f"The resolution meeting on the challenge '
        'about case {subject_reference} agreed: {resolution} Recommendations to the agencies: '
        '{recommendations_to_agencies}")',
    ]))
    d.flow(chair.id, agreed.id)
    d.flow(agreed.id, end(d, "s4_meeting_end", "Resolution agreed", CHAIR, col + 5.5).id)
    for task in (consider, convene, chair):
        target(d, task, "stage_due",
               'notify(["involved", "lane:Safeguarding Children Partnership"], f"{reference}: stage 4 is overdue", '
               'f"Stage 4 was to be settled by {local_time(stage_due)}; it is still open.")', "Stage 4 target")
        reminder(d, task, "stage_reminder", remind(4, "The dispute is with the Safeguarding Children Partnership."),
                 "Stage 4 reminder")

    out = Path(__file__).resolve().parent.parent / "workflows" / "tees" / "procedure.bpmn"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(d.to_xml())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
