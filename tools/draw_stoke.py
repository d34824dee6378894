"""Writes workflows/stoke/procedure.bpmn. Run: python tools/draw_stoke.py"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bpmn_drawing import Diagram, Node  # noqa: E402
from escalation_parts import end, reminder, respond_decide, script, target, user_task  # noqa: E402

RAISING_PRACTITIONER = "Raising practitioner"
RECEIVING_PRACTITIONER = "Receiving practitioner"
RAISING_MANAGER = "Raising line manager / safeguarding lead"
RECEIVING_MANAGER = "Receiving line manager / safeguarding lead"
RAISING_REP = "Raising Safeguarding Partnership representative"
RECEIVING_REP = "Receiving Safeguarding Partnership representative"
SOTSCP = "SOTSCP"
BUSINESS_UNIT = "SOTSCP Business Unit"

LANES = [
    RAISING_PRACTITIONER, RECEIVING_PRACTITIONER, RAISING_MANAGER, RECEIVING_MANAGER, RAISING_REP, RECEIVING_REP,
    SOTSCP, BUSINESS_UNIT,
]

DOC = """Stoke-on-Trent Safeguarding Children Partnership (SOTSCP): professional challenge, stepped escalation.

The SOTSCP guidance describes a stepped process "from initial professional discussions through to SOTSCP
involvement": step 1 practitioners, step 2 line managers / safeguarding leads, step 3 the agencies' Safeguarding
Partnership representatives (as listed on the SOTSCP website), step 4 SOTSCP. It asks for differences to be
"resolved as effectively and swiftly as possible" and "in a constructive and timely manner", and sets no days,
so these are ours, growing with the seniority of the people involved and the time they need to meet:

Deadlines are in working days: Monday to Friday less the bank holidays of England and Wales. "N working days"
after a moment ends at the end of the Nth working day after the day of that moment (17:00 London time unless
the partnership sets another end to its working day).
Step 1, practitioners: two working days from when the challenge is raised (a conversation, best the same day;
the second day allows for one of them being out). Reminder at the end of the first working day.
Step 2, line managers / safeguarding leads: three working days from reaching step 2. Reminder one working day
before.
Step 3, Safeguarding Partnership representatives: five working days from reaching step 3 (representatives are
senior and need to arrange to meet). Reminder two working days before.
At the step 1, 2 and 3 deadlines an unresolved challenge moves to the next step by itself and everyone involved
is told: disagreements must not be left to affect outcomes for the child, and a missed step is itself a sign it
is not being resolved at that level.
Step 4, SOTSCP involvement: a target of ten working days (the partnership considers it and makes a
recommendation), with a reminder three working days before. It is the last step, so the target moves nothing:
when it passes everyone involved and the SOTSCP Business Unit are told and the task shows as overdue.
Why the reminders sit where they do: each comes when there is still time to act on it, in proportion to the
people involved: a practitioner can call back the same day (step 1: one working day left), two managers can talk
within a day (step 2: one working day before), representatives need two days to find a slot (step 3: two working
days before), and the partnership needs most of a week to consider it (step 4: three working days before).
The raise page shows the SOTSCP guidance on respectful (assertive) challenge and the barriers to challenge.
A task that opens after its stage's reminder moment (the other side took most of the time) is reminded at once:
it has less time left than the reminder was meant to give."""

TITLES = {
    2: "line managers / safeguarding leads",
    3: "the agencies' Safeguarding Partnership representatives",
    4: "SOTSCP",
}


def missed(n: int):
    """Everyone involved, and whoever held the task that lapsed, are told why it moved on."""
    return lambda lane: (
        f"missed_deadlines = missed_deadlines + [{n}]\n"
        f'notify(["involved", "lane:{lane}"], f"{{reference}}: step {n} deadline passed, now at step {n + 1}", '
        f'f"The step {n} deadline ({{local_time(stage_due)}}) passed without the challenge being resolved, '
        f'so it has been escalated to step {n + 1}: {TITLES[n + 1]}.")')


def resolved(n: int) -> str:
    return (f'outcome = "resolved"\nresolved_at_stage = {n}\n'
            f'notify("involved", f"{{reference}}: resolved at step {n}", f"The challenge about case '
            f'{{subject_reference}} was recorded as resolved at step {n}: {{reason}}")')


def remind(n: int) -> str:
    return (f'notify("current", f"{{reference}}: step {n} deadline approaching", f"Step {n} is due by '
            f'{{local_time(stage_due)}}. If it is not resolved by then it is escalated to step {n + 1} '
            f'({TITLES[n + 1]}) automatically.")')


def enter(n: int, anchor: str, days: int, reminder_days: int) -> str:
    return "\n".join([
        f"stage = {n}",
        f"stage_started = {anchor}",
        f"stage_due = working_days_after(stage_started, {days})",
        f"stage_reminder = working_days_before(stage_due, {reminder_days})",
    ])


def main() -> None:
    d = Diagram("stoke_professional_challenge", "Stoke-on-Trent professional challenge (stepped escalation)", LANES,
                DOC)
    d.add(Node("start", "startEvent", "Challenge raised", RAISING_PRACTITIONER, 0))
    opened = script(d, "raised", "Open the case", RAISING_PRACTITIONER, 1, "missed_deadlines = []\noutcome = None")
    d.flow("start", opened.id)

    steps = [
        # n, respond lane, decide lane, titles, days, reminder days
        (1, RECEIVING_PRACTITIONER, RAISING_PRACTITIONER, "Step 1: respond to the challenge",
         "Step 1: record the discussion and decide", 2, 1),
        (2, RECEIVING_MANAGER, RAISING_MANAGER, "Step 2: line manager / safeguarding lead responds",
         "Step 2: line managers / safeguarding leads record the outcome", 3, 1),
        (3, RECEIVING_REP, RAISING_REP, "Step 3: Safeguarding Partnership representative responds",
         "Step 3: Safeguarding Partnership representatives record the outcome", 5, 2),
    ]
    previous, col = opened.id, 2.0
    for n, respond_lane, decide_lane, respond_name, decide_name, days, reminder_days in steps:
        entry = script(d, f"enter_{n}", f"Enter step {n}", decide_lane, col,
                       enter(n, "raised_at" if n == 1 else "now()", days, reminder_days))
        d.flow(previous, entry.id)
        d.flow(entry.id, f"s{n}_respond")
        merge = d.add(Node(f"to_{n + 1}", "exclusiveGateway", f"To step {n + 1}",
                           RAISING_MANAGER if n == 1 else RAISING_REP if n == 2 else SOTSCP, col + 5))
        col = respond_decide(d, n, col + 1, respond_lane, decide_lane, respond_name, decide_name, then=merge.id,
                             resolved_source=resolved(n), deadline_source=missed(n), reminder_source=remind(n),
                             word="Step")
        previous = merge.id
        col += 1.5

    entry = script(d, "enter_4", "Enter step 4: SOTSCP involvement", SOTSCP, col, "\n".join([
        enter(4, "now()", 10, 3),
        'notify(["lane:SOTSCP", "lane:SOTSCP Business Unit"], f"{reference}: dispute escalated to SOTSCP (step 4)", '
        'f"The Safeguarding Partnership representatives of {raising_agency} and {receiving_agency} could not '
        'resolve the challenge about case {subject_reference}. SOTSCP is asked to consider it by '
        '{local_time(stage_due)}.")',
    ]))
    d.flow(previous, entry.id)
    review = user_task(d, "s4_review", "Step 4: SOTSCP considers the dispute and recommends", SOTSCP, col + 1,
                       "sotscp_review.json", 4, "stage_due")
    d.flow(entry.id, review.id)
    done = script(d, "s4_recorded", "Share the outcome", SOTSCP, col + 2, "\n".join([
        'outcome = "resolved" if agencies_accept else "decided_by_partnership"',
        "resolved_at_stage = 4",
        'notify(["involved", "lane:SOTSCP Business Unit"], f"{reference}: SOTSCP recommendation (step 4)", '
        'f"SOTSCP considered the challenge about case {subject_reference} between {raising_agency} and '
        '{receiving_agency}. Recommendation: {recommendation}")',
    ]))
    d.flow(review.id, done.id)
    d.flow(done.id, end(d, "s4_end", "Recommendation made", SOTSCP, col + 2.7).id)
    target(d, review, "stage_due",
           'notify(["involved", "lane:SOTSCP Business Unit"], f"{reference}: step 4 is overdue", '
           'f"SOTSCP\'s recommendation was expected by {local_time(stage_due)}.")', "Step 4 target")
    reminder(d, review, "stage_reminder",
             'notify("current", f"{reference}: step 4 is waiting for SOTSCP", '
             'f"SOTSCP\'s recommendation is expected by {local_time(stage_due)}.")', "Step 4 reminder")

    out = Path(__file__).resolve().parent.parent / "workflows" / "stoke" / "procedure.bpmn"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(d.to_xml())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
