"""A small drawing aid for writing procedure diagrams as code: nodes placed on a (lane, column) grid, flows
between them, timers on a task's edge; it writes BPMN 2.0 XML with diagram interchange (so bpmn-js shows it).

The diagrams in workflows/ are the source of truth once written; this only saves drawing them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

COL_W, LANE_H, LANE_X, LABEL_W = 170, 170, 0, 30
SIZES = {
    "userTask": (120, 80),
    "scriptTask": (120, 80),
    "startEvent": (36, 36),
    "endEvent": (36, 36),
    "exclusiveGateway": (50, 50),
    "inclusiveGateway": (50, 50),
    "parallelGateway": (50, 50),
    "boundaryEvent": (36, 36),
}


@dataclass
class Node:
    id: str
    kind: str
    name: str
    lane: str
    col: float
    row: float = 0.5
    script: str | None = None
    form: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    documentation: str | None = None
    default: str | None = None
    # boundary events
    attached_to: str | None = None
    interrupting: bool = True
    time_date: str | None = None
    offset: int = 0


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None


class Diagram:
    def __init__(self, process_id: str, name: str, lanes: list[str], documentation: str = "") -> None:
        self.process_id, self.name, self.lanes, self.documentation = process_id, name, lanes, documentation
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []

    def add(self, node: Node) -> Node:
        if node.id in self.nodes:
            raise ValueError(f"duplicate id {node.id}")
        self.nodes[node.id] = node
        return node

    def flow(self, source: str, target: str, name: str | None = None, condition: str | None = None) -> Flow:
        f = Flow(f"flow_{source}_{target}", source, target, name, condition)
        self.flows.append(f)
        return f

    # geometry -------------------------------------------------------------------------------------
    def _bounds(self, node: Node) -> tuple[float, float, float, float]:
        w, h = SIZES[node.kind]
        if node.kind == "boundaryEvent":
            host = self._bounds(self.nodes[node.attached_to])
            return host[0] + 20 + node.offset * 45, host[1] + host[3] - h / 2, w, h
        lane_y = self.lanes.index(node.lane) * LANE_H
        cx = LANE_X + LABEL_W + 40 + node.col * COL_W
        cy = lane_y + node.row * LANE_H
        return cx - w / 2, cy - h / 2, w, h

    def _width(self) -> float:
        cols = [n.col for n in self.nodes.values() if n.kind != "boundaryEvent"]
        return LABEL_W + 120 + (max(cols) + 1) * COL_W

    # XML ------------------------------------------------------------------------------------------
    def to_xml(self) -> str:
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
            'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
            f'id="definitions_{self.process_id}" targetNamespace="http://bpmn.io/schema/bpmn">',
            f'  <bpmn:collaboration id="collaboration_{self.process_id}">',
            f'    <bpmn:participant id="participant_{self.process_id}" name={quoteattr(self.name)} '
            f'processRef="{self.process_id}" />',
            "  </bpmn:collaboration>",
            f'  <bpmn:process id="{self.process_id}" name={quoteattr(self.name)} isExecutable="true">',
        ]
        if self.documentation:
            out.append(f"    <bpmn:documentation>{escape(self.documentation)}</bpmn:documentation>")
        out.append(f'    <bpmn:laneSet id="lanes_{self.process_id}">')
        for i, lane in enumerate(self.lanes):
            out.append(f'      <bpmn:lane id="lane_{i}" name={quoteattr(lane)}>')
            for node in self.nodes.values():
                if node.lane == lane:
                    out.append(f"        <bpmn:flowNodeRef>{node.id}</bpmn:flowNodeRef>")
            out.append("      </bpmn:lane>")
        out.append("    </bpmn:laneSet>")
        for node in self.nodes.values():
            out.extend(self._node_xml(node))
        for f in self.flows:
            name = f" name={quoteattr(f.name)}" if f.name else ""
            if f.condition:
                out.append(f'    <bpmn:sequenceFlow id="{f.id}"{name} sourceRef="{f.source}" targetRef="{f.target}">')
                out.append(
                    f"      <bpmn:conditionExpression>{escape(f.condition)}</bpmn:conditionExpression>"
                )
                out.append("    </bpmn:sequenceFlow>")
            else:
                out.append(f'    <bpmn:sequenceFlow id="{f.id}"{name} sourceRef="{f.source}" targetRef="{f.target}" />')
        out.append("  </bpmn:process>")
        out.extend(self._di())
        out.append("</bpmn:definitions>")
        return "\n".join(out) + "\n"

    def _node_xml(self, n: Node) -> list[str]:
        incoming = [f.id for f in self.flows if f.target == n.id]
        outgoing = [f.id for f in self.flows if f.source == n.id]
        attrs = f'id="{n.id}" name={quoteattr(n.name)}'
        if n.kind == "boundaryEvent":
            attrs += f' attachedToRef="{n.attached_to}" cancelActivity="{"true" if n.interrupting else "false"}"'
        if n.default:
            attrs += f' default="{n.default}"'
        lines = [f"    <bpmn:{n.kind} {attrs}>"]
        if n.documentation:
            lines.append(f"      <bpmn:documentation>{escape(n.documentation)}</bpmn:documentation>")
        if n.form or n.properties:
            lines.append("      <bpmn:extensionElements>")
            if n.form:
                lines.append(f"        <spiffworkflow:formJsonSchemaFilename>{n.form}</spiffworkflow:formJsonSchemaFilename>")
            if n.properties:
                lines.append("        <spiffworkflow:properties>")
                for k, v in n.properties.items():
                    lines.append(f"          <spiffworkflow:property name={quoteattr(k)} value={quoteattr(v)} />")
                lines.append("        </spiffworkflow:properties>")
            lines.append("      </bpmn:extensionElements>")
        lines += [f"      <bpmn:incoming>{i}</bpmn:incoming>" for i in incoming]
        lines += [f"      <bpmn:outgoing>{o}</bpmn:outgoing>" for o in outgoing]
        if n.kind == "scriptTask":
            lines.append(f"      <bpmn:script>{escape(n.script or '')}</bpmn:script>")
        if n.time_date:
            lines.append(f'      <bpmn:timerEventDefinition id="{n.id}_timer">')
            lines.append(f"        <bpmn:timeDate>{escape(n.time_date)}</bpmn:timeDate>")
            lines.append("      </bpmn:timerEventDefinition>")
        lines.append(f"    </bpmn:{n.kind}>")
        return lines

    def _di(self) -> list[str]:
        width = self._width()
        out = [
            f'  <bpmndi:BPMNDiagram id="diagram_{self.process_id}">',
            f'    <bpmndi:BPMNPlane id="plane_{self.process_id}" bpmnElement="collaboration_{self.process_id}">',
            f'      <bpmndi:BPMNShape id="participant_{self.process_id}_di" '
            f'bpmnElement="participant_{self.process_id}" isHorizontal="true">',
            f'        <dc:Bounds x="{LANE_X - LABEL_W}" y="0" width="{width + LABEL_W}" '
            f'height="{LANE_H * len(self.lanes)}" />',
            "      </bpmndi:BPMNShape>",
        ]
        for i, _lane in enumerate(self.lanes):
            out.append(f'      <bpmndi:BPMNShape id="lane_{i}_di" bpmnElement="lane_{i}" isHorizontal="true">')
            out.append(f'        <dc:Bounds x="{LANE_X}" y="{i * LANE_H}" width="{width}" height="{LANE_H}" />')
            out.append("      </bpmndi:BPMNShape>")
        for node in self.nodes.values():
            x, y, w, h = self._bounds(node)
            extra = ' isMarkerVisible="true"' if node.kind == "exclusiveGateway" else ""
            out.append(f'      <bpmndi:BPMNShape id="{node.id}_di" bpmnElement="{node.id}"{extra}>')
            out.append(f'        <dc:Bounds x="{x:.0f}" y="{y:.0f}" width="{w}" height="{h}" />')
            out.append("      </bpmndi:BPMNShape>")
        for f in self.flows:
            sx, sy, sw, sh = self._bounds(self.nodes[f.source])
            tx, ty, tw, th = self._bounds(self.nodes[f.target])
            if self.nodes[f.source].kind == "boundaryEvent":
                start = (sx + sw / 2, sy + sh)
            else:
                start = (sx + sw, sy + sh / 2)
            end = (tx, ty + th / 2)
            mid_x = (start[0] + end[0]) / 2 if end[0] > start[0] else start[0]
            points = [start, (mid_x, start[1]), (mid_x, end[1]), end]
            if self.nodes[f.source].kind == "boundaryEvent":
                points = [start, (start[0], end[1]), end]
            out.append(f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">')
            for px, py in points:
                out.append(f'        <di:waypoint x="{px:.0f}" y="{py:.0f}" />')
            out.append("      </bpmndi:BPMNEdge>")
        out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>"]
        return out
