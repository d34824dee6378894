"""Every step runs in a step process of its own: none of our secrets in its environment, its memory capped, and
killed past its time, so a diagram that loops for ever or fills memory fails its step cleanly and the next step
runs as if nothing happened."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.cases import runner
from engine.cases.run import StepRefused, StepRequest

NOW = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)


def diagram(script: str, loop: bool = False) -> str:
    """Start, a script task, a user task, end; with `loop`, the script task runs again for ever."""
    back = ('<bpmn:exclusiveGateway id="again" default="f2c" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="again" />'
            '<bpmn:sequenceFlow id="f2b" sourceRef="again" targetRef="work"><bpmn:conditionExpression>True'
            '</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="f2c" sourceRef="again" targetRef="answer" />') if loop else \
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="answer" />'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Receiver"><bpmn:flowNodeRef>answer</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:scriptTask id="work"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="answer" name="Answer"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="a.json" />
      <spiffworkflow:property name="stage" value="1" /></spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />{back}
    <bpmn:sequenceFlow id="f3" sourceRef="answer" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def start(xml: str) -> StepRequest:
    import hashlib

    return StepRequest(action="start", now=NOW.isoformat(),
                       version={"content_hash": hashlib.sha256(xml.encode()).hexdigest(), "bpmn_xml": xml,
                                "process_id": "p"},
                       calendar={"nation": "england-wales", "end_of_day": "17:00"}, chosen_fields=[], data={})


def test_a_step_runs_in_a_process_with_none_of_our_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "never-in-a-step-process")
    process = runner.StepProcess()
    try:
        environment = Path(f"/proc/{process.process.pid}/environ").read_bytes().decode().split("\0")
        assert not [v for v in environment if v.startswith(("SECRET_KEY", "DATABASE_URL", "SMTP_", "PC_"))]
        result = process.take(start(diagram("x = 1")), 10)
        assert [task.bpmn_id for m in result.moments for task in m.opened] == ["answer"]
    finally:
        process.kill()


def test_a_diagram_that_loops_for_ever_is_stopped_at_the_steps_time_and_the_next_step_runs():
    started = time.monotonic()
    with pytest.raises(StepRefused, match="took longer than 1.5 s and was stopped"):
        runner.take_step(start(diagram("x = sum(range(999999))", loop=True)), seconds=1.5)
    assert time.monotonic() - started < 10
    result = runner.take_step(start(diagram("x = 2")))
    assert result.moments[-1].opened[0].bpmn_id == "answer"


def test_a_step_that_fills_its_memory_fails_cleanly_and_its_process_is_replaced(monkeypatch):
    monkeypatch.setattr(runner, "STEP_MEMORY_MB", 150)
    process = runner.StepProcess()
    try:
        # Each list is within the sandbox's limits; together they pass what this process may hold.
        filling = "\n".join(f"l{n} = list(range(999999))" for n in range(5))
        with pytest.raises(StepRefused, match="out of memory|ran out of its 150 MB"):
            process.take(start(diagram(filling)), 20)
        assert not process.alive()
    finally:
        process.kill()
    assert runner.take_step(start(diagram("x = 3"))).moments


def test_the_processes_are_reused():
    runner.take_step(start(diagram("x = 4")))
    idle = list(runner.PROCESSES.idle)
    runner.take_step(start(diagram("x = 5")))
    assert set(map(id, runner.PROCESSES.idle)) <= set(map(id, idle)) | set(map(id, runner.PROCESSES.idle))
    assert len(runner.PROCESSES.idle) <= max(len(idle), 1)
    assert all(p.process.pid != os.getpid() for p in runner.PROCESSES.idle)
