"""A case saved without its spec: the spec is stored once per procedure version and given back on load (the
script engine too, which SpiffWorkflow does not serialize). The serializer is SpiffWorkflow's, configured with
a workflow converter that skips its parent's spec (pinned by the contract tests) and with our clocked timers."""

from __future__ import annotations

import copy
import json
import zlib
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .script_engine import StepScriptEngine
from .timers import CLOCKED_TIMERS


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


_CONFIG = copy.copy(SPIFF_CONFIG)
_CONFIG[BpmnWorkflow] = SpecFreeWorkflowConverter
for _timer in CLOCKED_TIMERS:
    _CONFIG[_timer] = TimerConditionalEventDefinitionConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))


def dump_workflow(workflow: BpmnWorkflow) -> bytes:
    return zlib.compress(SERIALIZER.serialize_json(workflow).encode(), 1)


def state_json(state: bytes) -> dict[str, Any]:
    """A stored case state as the plain JSON SpiffWorkflow wrote (for auditors and tests)."""
    return json.loads(zlib.decompress(state))


def load_workflow(state: bytes, spec, subprocess_specs, script_engine: StepScriptEngine) -> BpmnWorkflow:
    dct = state_json(state)
    SERIALIZER.migrate(dct)
    dct["spec"] = spec
    dct["subprocess_specs"] = dict(subprocess_specs)
    workflow = SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine
    return workflow


def new_workflow(spec, subprocess_specs, script_engine: StepScriptEngine) -> BpmnWorkflow:
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
