"""A procedure's truth is its published version. The commands validate, publish, export and roll back; loading
the demo again never replaces a version published since; a partnership's roles are its own, so a lane can name a
role no other partnership has; a diagram saved by the SpiffWorkflow modeler (its form reference among the
task's properties) publishes and runs."""

from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import select

from engine.accounts import create_user
from engine.cases.raising import raise_challenge
from engine.demo import add_roles, load_demo
from engine.errors import InvalidProcedure
from engine.models import Agency, Partnership, ProcedureChange, Task, User
from engine.procedures.files import WORKFLOWS, read_folder, write_folder
from engine.procedures.versions import current_version, publish
from engine.queries.access import my_tasks
from tests.conftest import raise_answers


def cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def changed_deadline(folder, tmp_path, days: int = 2):
    """The Darlington folder with its stage 1 deadline moved from 1 to `days` working days."""
    files = read_folder(folder)
    xml = files.bpmn_xml.replace("stage_due = working_days_after(stage_started, 1)",
                                 f"stage_due = working_days_after(stage_started, {days})")
    assert xml != files.bpmn_xml
    return write_folder(dataclasses.replace(files, bpmn_xml=xml), tmp_path / f"darlington-{days}")


def test_publish_through_the_command_makes_v2_current_and_open_cases_keep_v1(app, session, clock, user, agency,
                                                                            tmp_path):
    before = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    code, output = cli(app, "procedure", "publish", str(changed_deadline(WORKFLOWS / "darlington", tmp_path)),
                       "--partnership", "darlington", "--reason", "stage 1 takes two days")
    assert code == 0, output
    assert "version 2 of darlington is current" in output
    session.expire_all()
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    assert current_version(session, darlington.id).number == 2
    after = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    due = {c.id: session.scalar(select(Task.due_at).where(Task.challenge_id == c.id)) for c in (before, after)}
    assert (due[before.id].day, due[after.id].day) == (21, 22)  # Monday 17:00, and now Tuesday 17:00
    change = session.scalars(select(ProcedureChange).order_by(ProcedureChange.id.desc())).first()
    assert (change.action, change.by, change.reason) == ("published", "procedure publish command",
                                                         "stage 1 takes two days")


def test_loading_the_demo_again_keeps_a_version_published_since(app, session, clock, tmp_path):
    cli(app, "procedure", "publish", str(changed_deadline(WORKFLOWS / "darlington", tmp_path)),
        "--partnership", "darlington")
    session.expire_all()  # the command published in a session of its own
    load_demo(session, clock)  # what `serve` does at every start
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    assert current_version(session, darlington.id).number == 2


def test_current_rolls_back_to_an_earlier_version_and_says_who_and_why(app, session, clock, tmp_path):
    cli(app, "procedure", "publish", str(changed_deadline(WORKFLOWS / "darlington", tmp_path)),
        "--partnership", "darlington")
    code, output = cli(app, "procedure", "current", "--partnership", "darlington", "1", "--reason", "back to 1 day")
    assert code == 0 and "version 1 of darlington is current" in output
    session.expire_all()
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    assert current_version(session, darlington.id).number == 1
    change = session.scalars(select(ProcedureChange).order_by(ProcedureChange.id.desc())).first()
    assert (change.action, change.reason) == ("made_current", "back to 1 day")
    code, output = cli(app, "procedure", "versions", "--partnership", "darlington")
    assert "* darlington v1" in output and "  darlington v2" in output
    code, output = cli(app, "procedure", "current", "--partnership", "darlington", "7")
    assert code == 1 and "no version 7" in output


def test_export_writes_the_version_as_a_folder_that_reads_back_with_the_same_content(app, session, tmp_path):
    code, output = cli(app, "procedure", "export", "--partnership", "darlington", str(tmp_path / "out"))
    assert code == 0, output
    exported = read_folder(tmp_path / "out")
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    assert exported.content_hash() == current_version(session, darlington.id).content_hash
    code, output = cli(app, "procedure", "export", "--partnership", "darlington", "--version", "9",
                       str(tmp_path / "none"))
    assert code == 1 and "no version 9" in output


def test_validate_says_what_is_wrong_and_publishes_nothing(app, session, tmp_path):
    files = read_folder(WORKFLOWS / "darlington")
    broken = write_folder(dataclasses.replace(files, lanes={**files.lanes, "Raising practitioner": {
        "role": "named_nurse", "side": "raising"}}), tmp_path / "broken")
    assert cli(app, "procedure", "validate", str(WORKFLOWS / "darlington"))[0] == 0
    code, output = cli(app, "procedure", "validate", str(broken), "--partnership", "darlington")
    assert code == 1 and "names role 'named_nurse', which the partnership does not have" in output
    code, output = cli(app, "procedure", "publish", str(broken), "--partnership", "darlington")
    assert code == 1 and "not published" in output
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    assert current_version(session, darlington.id).number == 1


def test_a_role_of_one_partnership_alone_is_usable_in_its_diagram(session, clock, demo, tmp_path):
    """Tees gets a "Named nurse" no other partnership has; its stage 1 receiving lane is given to it, with no
    change of code; Darlington cannot use the role."""
    tees = session.scalar(select(Partnership).where(Partnership.slug == "tees"))
    add_roles(session, tees, {"named_nurse": "Named nurse"})
    health = session.scalar(select(Agency).where(Agency.name.startswith("North Tees")))
    nurse = create_user(session, "tees-named-nurse", "Named nurse", "nurse@test.invalid", "x",
                        [(health.id, "named_nurse")])
    files = read_folder(WORKFLOWS / "tees")
    lane = next(name for name, entry in files.lanes.items()
                if entry == {"role": "practitioner", "side": "receiving"})
    with_nurse = dataclasses.replace(files, lanes={**files.lanes, lane: {"role": "named_nurse", "side": "receiving"}})
    publish(session, clock, tees, with_nurse)
    session.commit()
    referrer = session.scalar(select(User).where(User.username == "tees-csc-practitioner"))
    challenge = raise_challenge(session, clock, referrer, raise_answers(health.id))
    [task] = session.scalars(select(Task).where(Task.challenge_id == challenge.id)).all()
    assert (task.role, task.agency_id) == ("named_nurse", health.id)
    assert [line.id for line in my_tasks(session, nurse)] == [task.id]

    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    darlington_files = read_folder(WORKFLOWS / "darlington")
    some_lane = next(iter(darlington_files.lanes))
    with pytest.raises(InvalidProcedure, match="names role 'named_nurse'"):
        publish(session, clock, darlington, dataclasses.replace(darlington_files, lanes={
            **darlington_files.lanes, some_lane: {**darlington_files.lanes[some_lane], "role": "named_nurse"}}))


def test_a_diagram_saved_by_the_spiffworkflow_modeler_publishes_and_runs(session, clock, demo, user, agency):
    # The modeler writes a user task's form as a property, not as its own element.
    files = read_folder(WORKFLOWS / "darlington")
    modeler = re.sub(r"<spiffworkflow:formJsonSchemaFilename>([^<]+)</spiffworkflow:formJsonSchemaFilename>"
                     r"(\s*)<spiffworkflow:properties>",
                     r'\2<spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" '
                     r'value="\1" />', files.bpmn_xml)
    assert "<spiffworkflow:formJsonSchemaFilename>" not in modeler
    darlington = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
    publish(session, clock, darlington, dataclasses.replace(files, bpmn_xml=modeler))
    session.commit()
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    [task] = session.scalars(select(Task).where(Task.challenge_id == challenge.id)).all()
    assert (task.bpmn_id, task.form) == ("s1_respond", "respond.json")
