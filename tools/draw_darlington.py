"""Writes workflows/darlington/procedure.bpmn. Run: python tools/draw_darlington.py"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bpmn_drawing import Diagram, Node  # noqa: E402

LANES = [
    "Raising practitioner",
    "Receiving practitioner",
    "Raising line manager",
    "Receiving line manager",
    "Raising head of service",
    "Receiving head of service",
    "DSP Business Unit",
    "Lead Safeguarding Partners",
]

DOC = """Darlington Safeguarding Partnership: How to make a Professional Challenge (five stages).

Deadlines are in working days: Monday to Friday less the partnership's bank holidays. "N working days" after a
moment ends at 17:00 London time on the Nth working day after the day of that moment.
Stage 1 (practitioners): one working day from when the challenge was raised; a reminder four hours before.
Stage 2 (line managers / named practitioner / DSL): three working days from reaching stage 2; a reminder one
working day before. At either deadline the challenge moves to the next stage and everyone involved is told why.
Stages 3 to 5 are "as soon as possible" in the procedure: it sets no deadline, and escalating by the clock would
take the decision from the managers the procedure gives it to. So each has a target of five working days: a
reminder to whoever holds the task after two working days (so it cannot stall unseen), and when the target
passes, everyone involved and the DSP Business Unit are told, and the task shows as overdue.
Stage 3 records the inter-agency meeting on the Professional Challenge Recording Tool and copies it to the DSP
Business Unit. Stage 5 asks the Business Unit the monitoring questions and the Lead Safeguarding Partners /
Independent Scrutineer make the ultimate decision."""


def stage_entry(n: int, deadline_days: int | None) -> str:
    anchor = "raised_at" if n == 1 else "now()"
    lines = [f"stage = {n}", f"stage_started = {anchor}"]
    if deadline_days is not None:
        lines.append(f"stage_due = working_days_after(stage_started, {deadline_days})")
        lines.append(
            "stage_reminder = hours_before(stage_due, 4)"
            if n == 1
            else "stage_reminder = working_days_before(stage_due, 1)"
        )
    else:
        lines.append("stage_due = working_days_after(stage_started, 5)")
        lines.append("stage_reminder = working_days_after(stage_started, 2)")
    return "\n".join(lines)


def main() -> None:
    d = Diagram("darlington_professional_challenge", "Darlington professional challenge", LANES, DOC)
    d.add(Node("start", "startEvent", "Challenge raised", LANES[0], 0))
    d.add(Node("raised", "scriptTask", "Open the case", LANES[0], 1,
               script="missed_deadlines = []\noutcome = None"))
    d.flow("start", "raised")

    stages = [
        # n, respond lane, decide lane, respond form, decide form, hard deadline in working days
        (1, "Receiving practitioner", "Raising practitioner", "respond.json", "decide.json", 1),
        (2, "Receiving line manager", "Raising line manager", "respond.json", "decide.json", 3),
        (3, "Receiving line manager", "Raising line manager", "respond.json", "recording_tool.json", None),
        (4, "Receiving head of service", "Raising head of service", "respond.json", "decide.json", None),
    ]
    titles = {
        1: "Stage 1: practitioners",
        2: "Stage 2: line managers / named practitioner / DSL",
        3: "Stage 3: inter-agency meeting",
        4: "Stage 4: heads of service",
        5: "Stage 5: Lead Safeguarding Partners / Independent Scrutineer",
    }
    previous = "raised"
    col = 2
    for n, respond_lane, decide_lane, respond_form, decide_form, days in stages:
        enter = d.add(Node(f"enter_{n}", "scriptTask", f"Enter {titles[n].split(':')[0].lower()}",
                           decide_lane, col, script=stage_entry(n, days)))
        d.flow(previous, enter.id)
        respond = d.add(Node(f"s{n}_respond", "userTask", f"Stage {n}: respond to the challenge", respond_lane,
                             col + 1, form=respond_form, properties={"stage": str(n), "due": "stage_due"}))
        decide_name = (f"Stage {n}: Professional Challenge Recording Tool" if n == 3
                       else f"Stage {n}: record the discussion and decide")
        decide = d.add(Node(f"s{n}_decide", "userTask", decide_name, decide_lane, col + 2,
                            form=decide_form, properties={"stage": str(n), "due": "stage_due"}))
        d.flow(enter.id, respond.id)
        d.flow(respond.id, decide.id)
        after_decide = decide.id
        if n == 3:
            copy = d.add(Node("s3_copy_bu", "scriptTask", "Copy the recording tool to the DSP Business Unit",
                              "DSP Business Unit", col + 2.6,
                              script=('notify("lane:DSP Business Unit", f"{reference}: Professional Challenge '
                                      'Recording Tool (stage 3)", "The stage 3 record of this challenge is ready: '
                                      'open the challenge to read the Professional Challenge Recording Tool.")')))
            d.flow(decide.id, copy.id)
            after_decide = copy.id
        gate = d.add(Node(f"s{n}_gate", "exclusiveGateway", "Resolved?", decide_lane, col + 3))
        d.flow(after_decide, gate.id)
        resolved = d.add(Node(f"s{n}_resolved", "scriptTask", f"Resolved at stage {n}", decide_lane, col + 3,
                              row=0.15 if decide_lane != LANES[0] else 0.85,
                              script=(f'outcome = "resolved"\nresolved_at_stage = {n}\n'
                                      f'notify("involved", f"{{reference}}: resolved at stage {n}", '
                                      f'"The challenge was recorded as resolved at stage {n}.")')))
        d.flow(gate.id, resolved.id, "resolved", 'decision == "resolved"')
        end = d.add(Node(f"s{n}_end", "endEvent", "Resolved", decide_lane, col + 3.7,
                         row=0.15 if decide_lane != LANES[0] else 0.85))
        d.flow(resolved.id, end.id)
        merge = d.add(Node(f"to_{n + 1}", "exclusiveGateway", f"To stage {n + 1}", decide_lane, col + 4))
        escalate = d.flow(gate.id, merge.id, "escalate")
        gate.default = escalate.id

        for task, offset in ((respond, 0), (decide, 0)):
            lane = task.lane
            if days is not None:
                deadline = d.add(Node(f"{task.id}_deadline", "boundaryEvent", f"Stage {n} deadline", lane, 0,
                                      attached_to=task.id, interrupting=True, time_date="stage_due", offset=0))
                missed = d.add(Node(
                    f"{task.id}_missed", "scriptTask", f"Stage {n} deadline missed", lane, task.col + 0.5,
                    row=0.85,
                    script=(f"missed_deadlines = missed_deadlines + [{n}]\n"
                            f'notify("involved", f"{{reference}}: stage {n} deadline missed, now at stage {n + 1}", '
                            f'f"The stage {n} deadline ({{local_time(stage_due)}}) passed without the challenge being resolved, '
                            f'so under the procedure it has moved to stage {n + 1}: {titles[n + 1]}.")')))
                d.flow(deadline.id, missed.id)
                d.flow(missed.id, merge.id)
                reminder_text = (f'notify("current", f"{{reference}}: stage {n} deadline approaching", '
                                 f'f"The stage {n} deadline is {{local_time(stage_due)}}. If the challenge is not resolved by '
                                 f'then it moves to stage {n + 1} automatically.")')
            else:
                overdue = d.add(Node(f"{task.id}_target", "boundaryEvent", f"Stage {n} target passed", lane, 0,
                                     attached_to=task.id, interrupting=False, time_date="stage_due", offset=0))
                tell = d.add(Node(
                    f"{task.id}_overdue", "scriptTask", f"Tell everyone stage {n} is overdue", lane,
                    task.col + 0.5, row=0.85,
                    script=(f'notify(["involved", "lane:DSP Business Unit"], f"{{reference}}: stage {n} is '
                            f'overdue", f"Stage {n} should be settled as soon as possible; its target of five '
                            f'working days ({{local_time(stage_due)}}) has passed.")')))
                done = d.add(Node(f"{task.id}_overdue_end", "endEvent", "Told", lane, task.col + 1, row=0.85))
                d.flow(overdue.id, tell.id)
                d.flow(tell.id, done.id)
                reminder_text = (f'notify("current", f"{{reference}}: stage {n} is waiting for you", '
                                 f'f"Stage {n} should be settled as soon as possible (target {{local_time(stage_due)}}).")')
            reminder = d.add(Node(f"{task.id}_reminder", "boundaryEvent", f"Stage {n} reminder", lane, 0,
                                  attached_to=task.id, interrupting=False, time_date="stage_reminder", offset=1))
            remind = d.add(Node(f"{task.id}_remind", "scriptTask", f"Remind stage {n}", lane, task.col,
                                row=0.15, script=reminder_text))
            remind.row = 0.15
            d.flow(reminder.id, remind.id)
            # reminder ends immediately after notifying
            remind_end = d.add(Node(f"{task.id}_remind_end", "endEvent", "Reminded", lane, task.col + 0.55,
                                    row=0.15))
            d.flow(remind.id, remind_end.id)
            del offset
        previous = merge.id
        col += 5

    enter5 = d.add(Node("enter_5", "scriptTask", "Enter stage 5", "DSP Business Unit", col,
                        script=stage_entry(5, None) + '\nnotify("lane:Lead Safeguarding Partners", '
                        'f"{reference}: professional challenge reached stage 5", "A professional challenge could '
                        'not be resolved at stages 1 to 4 and is being reported to the Lead Safeguarding Partners '
                        '/ Independent Scrutineer.")'))
    d.flow(previous, enter5.id)
    monitoring = d.add(Node("s5_monitoring", "userTask", "Stage 5: monitoring questions", "DSP Business Unit",
                            col + 1, form="monitoring.json", properties={"stage": "5", "due": "stage_due"}))
    decision = d.add(Node("s5_decision", "userTask", "Stage 5: decide the next course of action",
                          "Lead Safeguarding Partners", col + 2, form="partners_decision.json",
                          properties={"stage": "5", "due": "stage_due"}))
    d.flow(enter5.id, monitoring.id)
    d.flow(monitoring.id, decision.id)
    for task in (monitoring, decision):
        reminder = d.add(Node(f"{task.id}_reminder", "boundaryEvent", "Stage 5 reminder", task.lane, 0,
                              attached_to=task.id, interrupting=False, time_date="stage_reminder", offset=1))
        remind = d.add(Node(f"{task.id}_remind", "scriptTask", "Remind stage 5", task.lane, task.col, row=0.15,
                            script='notify("current", f"{reference}: stage 5 is waiting for you", '
                                   'f"Stage 5 should be settled as soon as possible (target {local_time(stage_due)}).")'))
        remind_end = d.add(Node(f"{task.id}_remind_end", "endEvent", "Reminded", task.lane, task.col + 0.55,
                                row=0.15))
        d.flow(reminder.id, remind.id)
        d.flow(remind.id, remind_end.id)
    decided = d.add(Node("decided", "scriptTask", "Ultimate decision made", "Lead Safeguarding Partners",
                         col + 3, script=('outcome = "decided_by_partnership"\nresolved_at_stage = 5\n'
                                          'notify("involved", f"{reference}: decision of the Lead Safeguarding '
                                          'Partners", "The Lead Safeguarding Partners / Independent Scrutineer '
                                          'have made the ultimate decision on this challenge.")')))
    d.flow(decision.id, decided.id)
    end = d.add(Node("decided_end", "endEvent", "Decided", "Lead Safeguarding Partners", col + 4))
    d.flow(decided.id, end.id)

    out = Path(__file__).resolve().parent.parent / "workflows" / "darlington" / "procedure.bpmn"
    out.write_text(d.to_xml())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
