"""Reading a diagram: its XML parsed with no DTD, entities or network, then SpiffWorkflow's parser with our
clocked timers in its parser table."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from ..errors import InvalidProcedure
from .timers import STOCK_TO_CLOCKED


class ClockedTimerParsing:
    """Mixin for the event parsers: the same XML, our clocked event definitions."""

    def parse_timer_event(self, event):
        stock = super().parse_timer_event(event)
        for stock_class, ours in STOCK_TO_CLOCKED:
            if type(stock) is stock_class:
                return ours(stock.name, stock.expression, description=stock.description)
        return stock


class StartEventParser(ClockedTimerParsing, SpiffStartEventParser):
    pass


class BoundaryEventParser(ClockedTimerParsing, SpiffBoundaryEventParser):
    pass


class IntermediateCatchEventParser(ClockedTimerParsing, SpiffIntermediateCatchEventParser):
    pass


class ProcedureParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, BoundaryEvent),
        full_tag("intermediateCatchEvent"): (IntermediateCatchEventParser, IntermediateCatchEvent),
    }


SAFE_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


def parse_xml(bpmn_xml: str | bytes) -> etree._Element:
    data = bpmn_xml.encode() if isinstance(bpmn_xml, str) else bpmn_xml
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InvalidProcedure("the diagram may not contain a DOCTYPE or entity declarations")
    try:
        root = etree.fromstring(data, SAFE_XML)
    except etree.XMLSyntaxError as exc:
        raise InvalidProcedure(f"the diagram is not well-formed XML: {exc}") from None
    # The byte check above misses other encodings (UTF-16...); the parsed document does not.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise InvalidProcedure("the diagram may not contain a DOCTYPE or entity declarations")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise InvalidProcedure("the diagram may not contain entity references")
    return root


def parse_procedure(bpmn_xml: str, process_id: str) -> tuple[Any, dict[str, Any]]:
    """The process's spec and its subprocesses' specs, or `InvalidProcedure` saying why not."""
    root = parse_xml(bpmn_xml)
    parser = ProcedureParser()
    try:
        parser.add_bpmn_xml(etree.ElementTree(root), filename=f"{process_id}.bpmn")
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise InvalidProcedure(f"the diagram is not valid BPMN: {exc}") from None
    return spec, subprocess_specs


@lru_cache(maxsize=64)
def cached_procedure(content_hash: str, bpmn_xml: str, process_id: str) -> tuple[Any, dict[str, Any]]:
    """Specs are immutable once parsed, so every case of a version shares one."""
    return parse_procedure(bpmn_xml, process_id)
