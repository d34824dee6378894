"""The process owners' figures: `python bench/procedures.py [--db sqlite|postgres] [--cases N] [--stages N]`.

- validating and publishing a large diagram (a chain of stages, each a script task, a user task with a deadline
  and a reminder, their handlers and a gateway: about 300 elements and flows at the default 25 stages), cold:
  its content never parsed in this process before (target: under 1 s for each);
- migrating N open Darlington cases (copies of a real one waiting at stage 1) onto a version that changed a
  later stage, one transaction per case through the step process (`--workers` threads), in cases per second and ms a
  case (target: 10,000 in under 60 s).
PostgreSQL: `POSTGRES_TEST_URL` (default postgresql+psycopg://postgres@127.0.0.1:5432/test), emptied first.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench.seed import clone, template  # noqa: E402
from engine.clock import MovableClock  # noqa: E402
from engine.db import make_engine, make_sessions  # noqa: E402
from engine.demo import load_demo  # noqa: E402
from engine.models import Base, Partnership  # noqa: E402
from engine.procedures import drafts, migration  # noqa: E402
from engine.procedures.files import WORKFLOWS, ProcedureFiles, read_folder  # noqa: E402
from engine.procedures.versions import publish  # noqa: E402

POSTGRES = os.environ.get("POSTGRES_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)


def database(kind: str, folder: str):
    engine = make_engine(f"sqlite:///{folder}/procedures.sqlite3" if kind == "sqlite" else POSTGRES)
    if kind != "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    Base.metadata.create_all(engine)
    return engine


def large_procedure(stages: int, salt: str) -> tuple[ProcedureFiles, int]:
    """A procedure of `stages` stages in a chain, and how many elements and flows its diagram has."""
    nodes, flows = ['<bpmn:startEvent id="start" />'], []
    refs: dict[str, list[str]] = {"Receiving practitioner": [], "Raising practitioner": ["start"]}
    previous = "start"

    def flow(source: str, target: str) -> None:
        flows.append(f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" targetRef="{target}" />')

    for n in range(1, stages + 1):
        enter, task, gate = f"enter_{n}", f"respond_{n}", f"gate_{n}"
        deadline, missed, reminder, remind, remind_end = (f"deadline_{n}", f"missed_{n}", f"reminder_{n}",
                                                          f"remind_{n}", f"remind_end_{n}")
        flow(previous, enter)
        nodes.append(f'<bpmn:scriptTask id="{enter}" name="Enter stage {n}"><bpmn:script>stage = {n}\n'
                     f'stage_started = now()\nstage_due = working_days_after(stage_started, {1 + n % 3})\n'
                     f'# {salt}</bpmn:script></bpmn:scriptTask>')
        flow(enter, task)
        nodes.append(f'<bpmn:userTask id="{task}" name="Stage {n}: respond"><bpmn:extensionElements>'
                     '<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
                     f'value="respond.json" /><spiffworkflow:property name="stage" value="{n}" />'
                     '<spiffworkflow:property name="due" value="stage_due" /></spiffworkflow:properties>'
                     '</bpmn:extensionElements></bpmn:userTask>')
        nodes.append(f'<bpmn:boundaryEvent id="{deadline}" attachedToRef="{task}" cancelActivity="true">'
                     '<bpmn:timerEventDefinition><bpmn:timeDate>stage_due</bpmn:timeDate>'
                     '</bpmn:timerEventDefinition></bpmn:boundaryEvent>')
        nodes.append(f'<bpmn:scriptTask id="{missed}" name="Stage {n} missed"><bpmn:script>'
                     f'notify("involved", f"{{reference}}: stage {n} deadline missed", "Moved on.")'
                     '</bpmn:script></bpmn:scriptTask>')
        nodes.append(f'<bpmn:boundaryEvent id="{reminder}" attachedToRef="{task}" cancelActivity="false">'
                     '<bpmn:timerEventDefinition><bpmn:timeDate>hours_before(stage_due, 4)</bpmn:timeDate>'
                     '</bpmn:timerEventDefinition></bpmn:boundaryEvent>')
        nodes.append(f'<bpmn:scriptTask id="{remind}" name="Remind stage {n}"><bpmn:script>'
                     f'notify("current", "Stage {n} deadline approaching", "Soon.")</bpmn:script></bpmn:scriptTask>')
        nodes.append(f'<bpmn:endEvent id="{remind_end}" />')
        nodes.append(f'<bpmn:exclusiveGateway id="{gate}" name="Stage {n} done" />')
        flow(deadline, missed)
        flow(missed, gate)
        flow(task, gate)
        flow(reminder, remind)
        flow(remind, remind_end)
        refs["Receiving practitioner"] += [task, deadline, reminder]
        refs["Raising practitioner"] += [enter, missed, remind, remind_end, gate]
        previous = gate
    flow(previous, "end")
    nodes.append('<bpmn:endEvent id="end" />')
    refs["Raising practitioner"].append("end")
    written = nodes  # SpiffWorkflow follows the sequence flows; a modeler would also list them on each node
    lanes = "".join(f'<bpmn:lane id="lane_{i}" name="{name}">'
                    + "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in members) + "</bpmn:lane>"
                    for i, (name, members) in enumerate(refs.items()))
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
           'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
           'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="large" isExecutable="true">'
           f'<bpmn:laneSet id="lanes">{lanes}</bpmn:laneSet>{"".join(written)}{"".join(flows)}'
           '</bpmn:process></bpmn:definitions>')
    darlington = read_folder(WORKFLOWS / "darlington")
    files = ProcedureFiles(procedure="large", title="A large procedure", process_id="large", bpmn_xml=xml,
                           forms={"respond.json": darlington.forms["respond.json"]},
                           lanes={"Receiving practitioner": {"role": "practitioner", "side": "receiving"},
                                  "Raising practitioner": {"role": "practitioner", "side": "raising"}})
    return files, len(nodes) + len(flows)


def validate_and_publish(sessions, stages: int) -> None:
    files, elements = large_procedure(stages, salt=str(time.time_ns()))  # new content: parsed cold
    with sessions() as session:
        partnership = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
        started = time.perf_counter()
        problems = drafts.validate(session, partnership, files)
        validated = time.perf_counter() - started
        assert problems == [], problems
        other, _ = large_procedure(stages, salt=str(time.time_ns()))
        started = time.perf_counter()
        publish(session, MovableClock(NOW), partnership, other, by="bench")
        session.commit()
        published = time.perf_counter() - started
    print(f"  a diagram of {elements} elements and flows ({stages} stages): validated in {validated * 1000:.0f} ms, "
          f"published (its own check included) in {published * 1000:.0f} ms, each cold")


def migrations(sessions, count: int, workers: int) -> None:
    clock = MovableClock(NOW)
    with sessions() as session:
        source = template(session, NOW)
        ids = [source.id, *clone(session, source, count - 1)]
        partnership = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
        files = read_folder(WORKFLOWS / "darlington")
        changed = files.bpmn_xml.replace("stage_due = working_days_after(stage_started, 5)",
                                         "stage_due = working_days_after(stage_started, 6)", 1)
        publish(session, clock, partnership, dataclasses.replace(files, bpmn_xml=changed), by="bench")
        session.commit()
        partnership_id = partnership.id
    started = time.perf_counter()
    moves = migration.migrate_many(sessions, clock, partnership_id, ids, by="bench", workers=workers)
    took = time.perf_counter() - started
    moved = sum(m.moved for m in moves)
    assert moved == count, [m.reason for m in moves if not m.moved][:3]
    print(f"  migrating {count} open cases ({workers} threads): {took:.1f} s, {count / took:.0f} cases/s, "
          f"{took / count * 1000:.2f} ms a case (target: 10,000 in under 60 s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--stages", type=int, default=25)
    parser.add_argument("--workers", type=int, default=1, help="threads migrating (on 2 CPUs, more were slower)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = database(args.db, folder)
        sessions = make_sessions(engine)
        with sessions() as session:
            load_demo(session, MovableClock(NOW))
        print(f"{args.db}:")
        # First: the large procedure, once published, is the current one.
        migrations(sessions, args.cases, args.workers)
        validate_and_publish(sessions, args.stages)
        engine.dispose()


if __name__ == "__main__":
    main()
