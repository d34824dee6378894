"""Two versions of a procedure side by side: the diagram elements added, removed and changed (an element is
changed when its name, its attributes or anything inside it differs; where it is drawn does not count), and the
forms and lanes that differ."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ..bpmn.parser import parse_xml
from .files import ProcedureFiles

_NOT_COMPARED = {"BPMNDiagram", "definitions", "incoming", "outgoing"}


@dataclass
class Comparison:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # element id -> its name (or kind), for the lists
    forms: dict[str, str] = field(default_factory=dict)  # form -> added, removed or changed
    lanes: dict[str, str] = field(default_factory=dict)  # lane -> added, removed or what changed


def _elements(bpmn_xml: str) -> tuple[dict[str, bytes], dict[str, str]]:
    """Each semantic element with an id -> its canonical content, minus its children that have ids of their own
    (they are compared as themselves) and the drawing."""
    root = parse_xml(bpmn_xml)
    content: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        local = etree.QName(element).localname
        if local in _NOT_COMPARED or local.endswith("EventDefinition") or element.tag.startswith("{http://www.omg.org/spec/BPMN/20100524/DI}"):
            continue
        if any(ancestor.tag.endswith("BPMNDiagram") for ancestor in element.iterancestors()):
            continue
        copy = etree.fromstring(etree.tostring(element))
        for child in list(copy):
            if not isinstance(child.tag, str):
                continue
            kind = etree.QName(child).localname
            # A timer's definition is part of its event; other children with ids are elements of their own.
            if child.get("id") and not kind.endswith("EventDefinition") or kind in _NOT_COMPARED:
                copy.remove(child)
        content[element.get("id")] = etree.tostring(copy, method="c14n")
        names[element.get("id")] = element.get("name") or local
    return content, names


def _keyed(before: dict, after: dict) -> dict[str, str]:
    out = {key: "removed" for key in before.keys() - after.keys()}
    out |= {key: "added" for key in after.keys() - before.keys()}
    out |= {key: "changed" for key in before.keys() & after.keys() if before[key] != after[key]}
    return dict(sorted(out.items()))


def compare(before: ProcedureFiles, after: ProcedureFiles) -> Comparison:
    old, old_names = _elements(before.bpmn_xml)
    new, new_names = _elements(after.bpmn_xml)
    result = Comparison(names={**old_names, **new_names})
    for key, what in _keyed(old, new).items():
        getattr(result, what).append(key)
    result.forms = _keyed(before.forms, after.forms)
    result.lanes = {}
    for lane, what in _keyed(before.lanes, after.lanes).items():
        if what == "changed":
            a, b = before.lanes[lane], after.lanes[lane]
            what = "; ".join(f"{k} {a.get(k)!r} → {b.get(k)!r}" for k in ("role", "side") if a.get(k) != b.get(k))
        result.lanes[lane] = what
    return result
