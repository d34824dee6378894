"""The procedure vocabulary is declared once and documented: docs/procedure-vocabulary.md is what
engine/vocabulary.py generates, every diagram function the script engine gives is declared (and no other), and
every x- key and procedure.json key the procedures in workflows/ use is declared."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from engine import events
from engine.bpmn.context import StepContext
from engine.bpmn.script_engine import StepScriptEngine
from engine.bpmn.scripting import GUARD_NAMES
from engine.calendar import WorkingCalendar
from engine.procedures.files import WORKFLOWS
from engine.vocabulary import FORM_KEYS, FUNCTION_NAMES, PROCEDURE_KEY_NAMES, markdown, reserved_fields

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_vocabulary_document_is_the_one_the_module_generates():
    assert (ROOT / "docs" / "procedure-vocabulary.md").read_text() == markdown(), \
        "run: python -m engine.vocabulary > docs/procedure-vocabulary.md"


def test_every_diagram_function_is_declared_and_only_those_are_given():
    engine = StepScriptEngine(StepContext(now=datetime(2026, 12, 18, 15, tzinfo=UTC), calendar=WorkingCalendar()))
    assert set(engine.functions()) == FUNCTION_NAMES


def _form_keys(value) -> set[str]:
    if isinstance(value, dict):
        return {k for k in value if k.startswith("x-")} | {k for v in value.values() for k in _form_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _form_keys(v)}
    return set()


def test_every_x_key_the_forms_use_is_declared():
    used = set()
    for path in [WORKFLOWS / "raise.json", *WORKFLOWS.glob("*/forms/*.json")]:
        used |= _form_keys(json.loads(path.read_text()))
    assert used <= {entry.name for entry in FORM_KEYS}


def test_every_procedure_json_key_the_procedures_use_is_declared():
    for path in WORKFLOWS.glob("*/procedure.json"):
        assert set(json.loads(path.read_text())) <= PROCEDURE_KEY_NAMES, path


def test_reserved_field_names_come_from_the_vocabulary_and_the_sandbox():
    reserved = reserved_fields()
    assert FUNCTION_NAMES <= reserved and GUARD_NAMES <= reserved and {"open", "len", "str"} <= reserved


def test_every_event_kind_is_declared_with_a_name_a_label_and_a_docstring():
    names = [kind.name for kind in events.KINDS.values()]
    assert len(names) == len(set(names))
    for kind in events.KINDS.values():
        assert kind.name and kind.label and kind.__doc__ and kind.keys, kind
    assert events.label("task_lapsed") == "Task closed by its deadline"
    assert events.label("no_such_kind") == "no_such_kind"
