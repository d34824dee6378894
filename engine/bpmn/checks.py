"""The scripts and expressions of a diagram, checked before it is published: each compiled under the sandbox's
policy, then run as far as it can go without a case (on a fixed clock, its notices discarded), so a way out of
the sandbox, or a bomb written with constants, is refused with the element it is on. Run in a step process
(`engine.cases.runner.check_scripts`), like any script."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from ..calendar import WorkingCalendar
from ..errors import InvalidProcedure
from .context import StepContext
from .parser import parse_xml
from .script_engine import StepScriptEngine
from .scripting import UnsafeScript, check

# Where SpiffWorkflow reads an expression or a script from.
EXPRESSION_TAGS = ("conditionExpression", "timeDate", "timeDuration", "timeCycle", "loopCardinality",
                   "completionCondition", "loopCondition", "loopMaximum")
SCRIPT_TAGS = ("script", "preScript", "postScript")
EXPRESSION_PROPERTIES = ("due",)
_PUBLISH_MOMENT = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)


def element_id(element: etree._Element) -> str:
    """The id of the diagram element a script or expression belongs to (the nearest ancestor with one)."""
    for ancestor in element.iterancestors():
        if ancestor.get("id"):
            return ancestor.get("id")
    return "?"


def scripts_of(root: etree._Element):
    """Each script and expression of the diagram: (tag, element id, source, mode)."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        text = (element.text or "").strip()
        if local in EXPRESSION_TAGS and text:
            yield local, element_id(element), text, "eval"
        elif local in SCRIPT_TAGS and text:
            yield local, element_id(element), text, "exec"
        elif local == "property" and element.get("name") in EXPRESSION_PROPERTIES:
            yield local, element_id(element), element.get("value", ""), "eval"


def check_scripts(bpmn_xml: str) -> None:
    """Refuse a diagram if any script or expression leaves the sandbox or runs past a limit before it needs a
    case's data."""
    root = parse_xml(bpmn_xml)
    functions = StepScriptEngine(StepContext(now=_PUBLISH_MOMENT, calendar=WorkingCalendar())).environment.globals
    for tag, where, source, mode in scripts_of(root):
        try:
            check(source, mode, functions)
        except UnsafeScript as exc:
            raise InvalidProcedure(f"{tag} of {where}: {exc}") from None
