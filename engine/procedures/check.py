"""What a procedure must be before anything runs: a diagram SpiffWorkflow parses, scripts and expressions the
sandbox accepts (checked in a step process), forms that are JSON Schema with no reserved field names, lanes
that name a role of the partnership and a side, user tasks in a lane with a form and a stage, timers the engine
can run on its clock, and outcomes among the declared ones. `InvalidProcedure` says what is wrong."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import SchemaError
from lxml import etree

from ..bpmn.checks import scripts_of
from ..bpmn.parser import cached_procedure, parse_xml
from ..bpmn.tasks import form_of, human_task_specs, properties_of
from ..bpmn.timers import CLOCKED_TIMERS
from ..errors import InvalidProcedure
from ..forms import check_schema
from ..vocabulary import (
    DEADLINES_FROM,
    OUTCOME_NAMES,
    PREFILL_KEY,
    PREFILL_SOURCE_NAMES,
    PROCEDURE_KEY_NAMES,
    REMIND_EVERY_LIMIT,
    SIDES,
    reserved_fields,
    valid_side,
)
from .files import ProcedureFiles

FORM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\.json")


def _check_forms(files: ProcedureFiles) -> None:
    reserved = reserved_fields()
    for name, schema in files.forms.items():
        if not FORM_NAME.fullmatch(name):
            raise InvalidProcedure(f"form {name!r} needs a plain file name ending in .json")
        try:
            check_schema(schema)
        except SchemaError as exc:
            raise InvalidProcedure(f"form {name} is not a valid JSON Schema: {exc.message}") from None
        clashes = reserved & set(schema.get("properties", {}))
        if clashes:
            raise InvalidProcedure(f"form {name} uses reserved field names: {', '.join(sorted(clashes))}")
        for field_name, prop in schema.get("properties", {}).items():
            source = prop.get(PREFILL_KEY) if isinstance(prop, dict) else None
            if source is not None and source not in PREFILL_SOURCE_NAMES:
                raise InvalidProcedure(f"form {name}: field {field_name} has {PREFILL_KEY} {source!r}; use one of "
                                       f"{', '.join(sorted(PREFILL_SOURCE_NAMES))}")


def _check_lanes(files: ProcedureFiles, roles: set[str] | None) -> None:
    for lane, entry in files.lanes.items():
        role = entry.get("role") if isinstance(entry, dict) else None
        if not isinstance(role, str) or not role:
            raise InvalidProcedure(f"lane {lane!r} needs a role")
        if roles is not None and role not in roles:
            raise InvalidProcedure(f"lane {lane!r} names role {role!r}, which the partnership does not have; its "
                                   f"roles are {', '.join(sorted(roles))}")
        side = entry.get("side")
        if not valid_side(side) or len(side) > 80 or len(lane) > 100:
            raise InvalidProcedure(f"lane {lane!r} has side {side!r}; use one of "
                                   f"{', '.join(entry.name for entry in SIDES)}")


def _assigned_outcomes(source: str) -> set[str]:
    """The literal texts a script assigns to `outcome` (either branch of an if-expression too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "outcome" for t in node.targets):
            values = [node.value.body, node.value.orelse] if isinstance(node.value, ast.IfExp) else [node.value]
            found |= {v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)}
    return found


@dataclass(frozen=True)
class Problem:
    """One thing that stops a procedure being published: a plain message and, where it has one, the diagram
    element it is on (so the modeler can mark it)."""

    message: str
    element: str | None = None


def _element_ids(root) -> dict[str, str]:
    """Each element's name and id -> its id (lanes are named in the lane map, tasks in messages)."""
    found: dict[str, str] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("id") and etree.QName(element).localname not in _DIAGRAM_TAGS:
            found.setdefault(element.get("id"), element.get("id"))
            if element.get("name"):
                found.setdefault(element.get("name"), element.get("id"))
    return found


def _located(message: str, ids: dict[str, str]) -> Problem:
    """A message of a check that stops at its first finding, on the element it quotes, if it quotes one."""
    for quoted in re.findall(r"'([^']+)'|\bof ([A-Za-z_][\w.-]*)", message):
        for name in quoted:
            if name in ids:
                return Problem(message, ids[name])
    return Problem(message)


_DIAGRAM_TAGS = {"BPMNDiagram", "BPMNPlane", "BPMNShape", "BPMNEdge", "BPMNLabel", "definitions"}
_FLOW_NODE = re.compile(r".*(Task|Event|Gateway|subProcess|callActivity)$|^task$")


def unreachable(root) -> list[Problem]:
    """Flow elements no path from a start event reaches (a boundary event is reached with its activity, a
    subprocess's contents from its own start)."""
    nodes: dict[str, Any] = {}
    following: dict[str, list[str]] = {}
    starts: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        local = etree.QName(element).localname
        if local == "sequenceFlow":
            following.setdefault(element.get("sourceRef"), []).append(element.get("targetRef"))
        elif _FLOW_NODE.fullmatch(local):
            nodes[element.get("id")] = element
            if local == "startEvent":
                starts.append(element.get("id"))
            if local == "boundaryEvent":
                following.setdefault(element.get("attachedToRef"), []).append(element.get("id"))
    seen, todo = set(starts), list(starts)
    while todo:
        for target in following.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return [Problem(f"{etree.QName(element).localname} {element.get('name') or key!r} cannot be reached from a "
                    "start event", key) for key, element in nodes.items() if key not in seen]


def _check_reporting(meta: dict[str, Any]) -> None:
    stage = meta.get("partnership_stage")
    if stage is not None and (type(stage) is not int or stage < 1):
        raise InvalidProcedure("procedure.json's partnership_stage must be a stage number (a whole number from 1)")
    covers = meta.get("covers")
    if covers is not None and (not isinstance(covers, list) or not covers
                               or not set(covers) <= {"child", "adult"} or len(set(covers)) != len(covers)):
        raise InvalidProcedure('procedure.json\'s covers must list "child", "adult" or both')
    if meta.get("deadlines_from", "raised") not in DEADLINES_FROM:
        raise InvalidProcedure('procedure.json\'s deadlines_from must be "raised" or "concern_first_raised"')


def as_soon_as_possible_problems(meta: dict[str, Any], user_tasks: set[str]) -> list[Problem]:
    """procedure.json's as_soon_as_possible: user tasks of the diagram, reminded every 1 to 20 working days."""
    entry = meta.get("as_soon_as_possible")
    if entry is None:
        return []
    every = entry.get("remind_every_working_days") if isinstance(entry, dict) else None
    tasks = entry.get("tasks") if isinstance(entry, dict) else None
    if (not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks)
            or type(every) is not int or not 1 <= every <= REMIND_EVERY_LIMIT
            or set(entry) - {"tasks", "remind_every_working_days"}):
        return [Problem('procedure.json\'s as_soon_as_possible must be {"tasks": [user task ids], '
                        f'"remind_every_working_days": a whole number from 1 to {REMIND_EVERY_LIMIT}}}')]
    return [Problem(f"procedure.json's as_soon_as_possible names {task!r}, which is not a user task of the diagram",
                    task) for task in tasks if task not in user_tasks]


def problems_of(files: ProcedureFiles, roles: set[str] | None = None,
                scripts_checker=None) -> tuple[list[Problem], Any]:
    """Every problem of the procedure that the checks can tell apart, each on its element where it has one, and
    the parsed specs (None when the diagram cannot be parsed). A diagram that is not XML, or whose scripts
    leave the sandbox, stops the checks at that problem."""
    unknown = set(files.meta) - PROCEDURE_KEY_NAMES
    if unknown:
        return [Problem(f"procedure.json has keys the product does not know: {', '.join(sorted(unknown))}")], None
    try:
        _check_reporting(files.meta)
    except InvalidProcedure as exc:
        return [Problem(str(exc))], None
    if files.meta.get("deadlines_from") == "concern_first_raised" and "deadlines_from" not in files.bpmn_xml:
        return [Problem("procedure.json says the deadlines count from the concern first raised, but the diagram "
                        "never reads deadlines_from")], None
    try:
        root = parse_xml(files.bpmn_xml)
    except InvalidProcedure as exc:
        return [Problem(str(exc))], None
    ids = _element_ids(root)
    if scripts_checker is None:
        from ..cases.runner import check_scripts as scripts_checker
    problem = scripts_checker(files.bpmn_xml)
    if problem:
        return [_located(problem, ids)], None
    problems: list[Problem] = []
    for tag, where, source, mode in scripts_of(root):
        if mode == "exec":
            wrong = _assigned_outcomes(source) - OUTCOME_NAMES
            if wrong:
                problems.append(Problem(f"{tag} of {where} sets outcome to {', '.join(sorted(wrong))}; the outcomes "
                                        f"are {', '.join(sorted(OUTCOME_NAMES))}", ids.get(where)))
    try:
        # The content hash of the diagram keys the parse: identical diagrams are parsed once per process.
        specs = cached_procedure(files.content_hash(), files.bpmn_xml, files.process_id)
    except InvalidProcedure as exc:
        return [*problems, _located(str(exc), ids)], None
    for check in (_check_forms, lambda f: _check_lanes(f, roles)):
        try:
            check(files)
        except InvalidProcedure as exc:
            problems.append(_located(str(exc), ids))
    spec, subprocess_specs = specs
    tasks = human_task_specs(spec, subprocess_specs)
    if not tasks:
        problems.append(Problem("the diagram has no user tasks"))
    for ts in tasks:
        label = f"user task {ts.bpmn_name or ts.name!r}"
        form = form_of(ts)
        if not form or form not in files.forms:
            problems.append(Problem(f"{label} needs a form (formJsonSchemaFilename) that exists; got {form!r}",
                                    ts.name))
        if not ts.lane or ts.lane not in files.lanes:
            problems.append(Problem(f"{label} must sit in a lane that the lane map names; got {ts.lane!r}", ts.name))
        stage = properties_of(ts).get("stage", "")
        if not stage.isdigit():
            problems.append(Problem(f"{label} needs a whole-number 'stage' property; got {stage!r}", ts.name))
    for spec_of in (spec, *subprocess_specs.values()):
        for ts in spec_of.task_specs.values():
            definition = getattr(ts, "event_definition", None)
            if definition is not None and type(definition).__name__.endswith("TimerEventDefinition") \
                    and not isinstance(definition, CLOCKED_TIMERS):
                problems.append(Problem(f"timer {ts.bpmn_name!r} is of a kind the engine cannot run on its clock",
                                        ts.name))
    problems.extend(as_soon_as_possible_problems(files.meta, {ts.name for ts in tasks}))
    problems.extend(unreachable(root))
    return problems, specs


def check_procedure(files: ProcedureFiles, roles: set[str] | None = None,
                    scripts_checker=None) -> tuple[Any, dict[str, Any]]:
    """Everything a case will need, checked before anything runs; the parsed specs, or `InvalidProcedure` with
    the first problem. `roles`: the partnership's (None: any role name is accepted, as when a folder is validated
    on its own). `scripts_checker` checks the scripts (default: in a step process)."""
    problems, specs = problems_of(files, roles, scripts_checker)
    if problems:
        raise InvalidProcedure(problems[0].message)
    return specs
