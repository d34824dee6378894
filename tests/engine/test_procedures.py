"""Procedures: a folder of workflows/ (diagram, forms, lane map) is checked before it is published; a published
version is immutable and stored once per content; anything a case would trip over later is refused now."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import func, select

from engine.bpmn.tasks import human_task_specs
from engine.demo import DEMO_ROLES as ROLES
from engine.errors import InvalidProcedure
from engine.forms import check_schema
from engine.models import ProcedureVersion
from engine.procedures.check import check_procedure
from engine.procedures.files import WORKFLOWS, read_folder
from engine.procedures.versions import current_version, publish
from engine.vocabulary import reserved_fields, valid_side

RESERVED_FIELDS = reserved_fields()

FOLDERS = sorted(p for p in WORKFLOWS.iterdir() if p.is_dir())


@pytest.fixture
def darlington():
    return read_folder(WORKFLOWS / "darlington")


def versions(session, partnership=None) -> int:
    """How many procedure versions are stored (for one partnership, or in all)."""
    query = select(func.count(ProcedureVersion.id))
    if partnership is not None:
        query = query.where(ProcedureVersion.partnership_id == partnership.id)
    return session.scalar(query)


def with_form(files, name: str, schema) -> object:
    return dataclasses.replace(files, forms={**files.forms, name: schema})


# --- the procedures in workflows/ -------------------------------------------------------------------------------

def test_there_is_at_least_the_darlington_procedure():
    assert WORKFLOWS / "darlington" in FOLDERS
    # raise.json is the form for raising a challenge, shared by every procedure, not a procedure folder.
    assert (WORKFLOWS / "raise.json").is_file()
    assert WORKFLOWS / "raise.json" not in FOLDERS


def test_the_darlington_folder_passes_check_procedure(darlington):
    spec, subprocess_specs = check_procedure(darlington)
    assert darlington.procedure == "darlington"
    assert darlington.process_id == "darlington_professional_challenge"
    titles = {ts.bpmn_name for ts in human_task_specs(spec, subprocess_specs)}
    assert titles == {
        "Stage 1: respond to the challenge", "Stage 1: record the discussion and decide",
        "Stage 2: review whether the concern is justified", "Stage 2: respond to the challenge",
        "Stage 2: record the discussion and decide",
        "Stage 3: respond to the challenge", "Stage 3: Professional Challenge Recording Tool",
        "Stage 4: respond to the challenge", "Stage 4: record the discussion and decide",
        "Stage 5: monitoring questions", "Stage 5: decide the next course of action",
    }


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_user_task_has_a_form_that_exists_and_a_lane_with_a_known_role_and_side(folder):
    files = read_folder(folder)
    spec, subprocess_specs = check_procedure(files)
    tasks = human_task_specs(spec, subprocess_specs)
    assert tasks, f"{folder.name} has no user tasks"
    for ts in tasks:
        form = ts.extensions.get("formJsonSchemaFilename")
        assert form in files.forms, (folder.name, ts.bpmn_name, form)
        assert (folder / "forms" / form).is_file()
        assert ts.lane in files.lanes, (folder.name, ts.bpmn_name, ts.lane)
        assert files.lanes[ts.lane]["role"] in ROLES, (folder.name, ts.lane)
        assert valid_side(files.lanes[ts.lane]["side"]), (folder.name, ts.lane)
        assert ts.extensions.get("properties", {}).get("stage", "").isdigit(), (folder.name, ts.bpmn_name)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_lane_of_the_lane_map_has_a_known_role_and_side(folder):
    lanes = json.loads((folder / "lanes.json").read_text())
    assert lanes
    for lane, entry in lanes.items():
        assert entry["role"] in ROLES, (folder.name, lane)
        assert valid_side(entry["side"]), (folder.name, lane)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_form_is_a_valid_json_schema_with_no_reserved_field(folder):
    for path in sorted((folder / "forms").glob("*.json")):
        schema = json.loads(path.read_text())
        check_schema(schema)
        assert schema["type"] == "object", path.name
        assert not RESERVED_FIELDS & set(schema.get("properties", {})), path.name


def test_the_darlington_lanes_are_the_ones_the_procedure_names(darlington):
    assert darlington.lanes == {
        "Raising practitioner": {"role": "practitioner", "side": "raising"},
        "Receiving practitioner": {"role": "practitioner", "side": "receiving"},
        "Raising line manager": {"role": "line_manager", "side": "raising"},
        "Receiving line manager": {"role": "line_manager", "side": "receiving"},
        "Raising head of service": {"role": "head_of_service", "side": "raising"},
        "Receiving head of service": {"role": "head_of_service", "side": "receiving"},
        "DSP Business Unit": {"role": "business_unit", "side": "partnership"},
        "Lead Safeguarding Partners": {"role": "lead_safeguarding_partner", "side": "partnership"},
        # Stage 5's monitoring questions: the designated lead / manager of the agency that raised it.
        "Raising designated safeguarding lead": {"role": "line_manager", "side": "raising"},
    }


# --- publishing ---------------------------------------------------------------------------------------------------

def test_publishing_the_same_files_twice_returns_the_same_version(session, clock, demo, darlington):
    # The demo fixture published Darlington once already.
    assert versions(session, demo) == 1
    total = versions(session)
    first = current_version(session, demo.id)
    clock.advance(days=1)
    again = publish(session, clock, demo, read_folder(WORKFLOWS / "darlington"))
    session.commit()
    assert again.id == first.id
    assert again.number == 1
    assert again.content_hash == darlington.content_hash()
    assert versions(session, demo) == 1
    assert versions(session) == total


def test_the_content_hash_is_stable_and_covers_the_forms(darlington):
    assert darlington.content_hash() == read_folder(WORKFLOWS / "darlington").content_hash()
    changed = with_form(darlington, "respond.json", {**darlington.forms["respond.json"], "title": "Respond now"})
    assert changed.content_hash() != darlington.content_hash()


def test_changing_a_form_publishes_version_2(session, clock, demo, darlington):
    first = current_version(session, demo.id)
    clock.advance(days=1)
    respond = {**darlington.forms["respond.json"], "title": "Respond to the challenge (revised)"}
    second = publish(session, clock, demo, with_form(darlington, "respond.json", respond))
    session.commit()
    assert second.id != first.id
    assert second.number == 2
    assert second.forms["respond.json"]["title"] == "Respond to the challenge (revised)"
    assert versions(session, demo) == 2
    assert current_version(session, demo.id).id == second.id
    # The first version is untouched: cases that started on it stay on it.
    session.expire_all()
    assert session.get(ProcedureVersion, first.id).forms["respond.json"]["title"] == "Respond to the challenge"
    # Publishing the changed files again is still version 2.
    assert publish(session, clock, demo, with_form(darlington, "respond.json", respond)).id == second.id
    assert versions(session, demo) == 2


def test_republishing_an_earlier_versions_content_makes_it_current_again(session, clock, demo, darlington):
    """A process owner who reverts a change and publishes expects new cases to run on what they published."""
    first = current_version(session, demo.id)
    clock.advance(days=1)
    respond = {**darlington.forms["respond.json"], "title": "Respond to the challenge (revised)"}
    publish(session, clock, demo, with_form(darlington, "respond.json", respond))
    session.commit()
    clock.advance(days=1)
    reverted = publish(session, clock, demo, darlington)
    session.commit()
    assert reverted.id == first.id
    assert current_version(session, demo.id).id == first.id


# --- refused, and nothing stored ------------------------------------------------------------------------------

def refused(session, clock, demo, files, message: str) -> None:
    before = versions(session)
    assert versions(session, demo) == 1
    with pytest.raises(InvalidProcedure, match=message):
        check_procedure(files, set(ROLES))
    with pytest.raises(InvalidProcedure, match=message):
        publish(session, clock, demo, files)
    session.rollback()
    assert versions(session) == before
    assert versions(session, demo) == 1
    assert current_version(session, demo.id).number == 1


def test_a_user_task_without_a_form_is_refused(session, clock, demo, darlington):
    xml = darlington.bpmn_xml.replace(
        "<spiffworkflow:formJsonSchemaFilename>respond.json</spiffworkflow:formJsonSchemaFilename>", "")
    assert xml != darlington.bpmn_xml
    refused(session, clock, demo, dataclasses.replace(darlington, bpmn_xml=xml),
            r"user task 'Stage \d: respond to the challenge' needs a form \(formJsonSchemaFilename\) that exists; "
            r"got None")


def test_a_user_task_whose_form_file_is_missing_is_refused(session, clock, demo, darlington):
    forms = {k: v for k, v in darlington.forms.items() if k != "monitoring.json"}
    refused(session, clock, demo, dataclasses.replace(darlington, forms=forms),
            "user task 'Stage 5: monitoring questions' needs a form .* got 'monitoring.json'")


def test_a_lane_missing_from_the_lane_map_is_refused(session, clock, demo, darlington):
    lanes = {k: v for k, v in darlington.lanes.items() if k != "Receiving head of service"}
    refused(session, clock, demo, dataclasses.replace(darlington, lanes=lanes),
            "user task 'Stage 4: respond to the challenge' must sit in a lane that the lane map names; "
            "got 'Receiving head of service'")


def test_a_lane_with_an_unknown_role_is_refused(session, clock, demo, darlington):
    lanes = {**darlington.lanes, "Raising practitioner": {"role": "janitor", "side": "raising"}}
    refused(session, clock, demo, dataclasses.replace(darlington, lanes=lanes),
            "lane 'Raising practitioner' names role 'janitor', which the partnership does not have")


def test_a_lane_with_an_unknown_side_is_refused(session, clock, demo, darlington):
    lanes = {**darlington.lanes, "Raising practitioner": {"role": "practitioner", "side": "upstairs"}}
    refused(session, clock, demo, dataclasses.replace(darlington, lanes=lanes),
            "lane 'Raising practitioner' has side 'upstairs'")


@pytest.mark.parametrize("schema", [
    {"type": "objekt"},
    {"type": "object", "properties": {"reason": {"type": "string", "minLength": -1}}},
    {"type": "object", "required": "reason"},
], ids=["bad-type", "negative-minLength", "required-not-a-list"])
def test_a_form_that_is_not_valid_json_schema_is_refused(session, clock, demo, darlington, schema):
    refused(session, clock, demo, with_form(darlington, "decide.json", schema),
            "form decide.json is not a valid JSON Schema")


@pytest.mark.parametrize("name", ["now", "notify", "working_days_after"])
def test_a_form_field_named_like_a_diagram_function_is_refused(session, clock, demo, darlington, name):
    respond = json.loads(json.dumps(darlington.forms["respond.json"]))
    respond["properties"][name] = {"type": "string", "title": "When"}
    refused(session, clock, demo, with_form(darlington, "respond.json", respond),
            f"form respond.json uses reserved field names: {name}")


def test_a_user_task_without_a_whole_number_stage_is_refused(session, clock, demo, darlington):
    xml = darlington.bpmn_xml.replace('name="stage" value="5"', 'name="stage" value="five"')
    assert xml != darlington.bpmn_xml
    refused(session, clock, demo, dataclasses.replace(darlington, bpmn_xml=xml),
            "needs a whole-number 'stage' property; got 'five'")


def test_a_diagram_with_an_unsafe_script_is_refused_and_not_stored(session, clock, demo, darlington):
    xml = darlington.bpmn_xml.replace("missed_deadlines = []", "import os\nmissed_deadlines = []")
    assert xml != darlington.bpmn_xml
    refused(session, clock, demo, dataclasses.replace(darlington, bpmn_xml=xml),
            "script of raised: imports are not allowed in a diagram")
