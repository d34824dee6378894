"""Reading a diagram's tasks: the ready ones of a case, the human ones of a spec, and the extension properties
of a task, wherever the SpiffWorkflow modeler or our own files put them."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

FORM_PROPERTY = "formJsonSchemaFilename"


def ready_tasks(workflow: BpmnWorkflow, manual: bool) -> list:
    """The READY tasks, people's (`manual`) or the engine's, read from each workflow's own table of its tasks
    rather than by walking the task tree; in no particular order."""
    return [task for wf in (workflow, *workflow.subprocesses.values()) for task in wf.tasks.values()
            if task.state == TaskState.READY and task.task_spec.manual == manual]


def human_task_specs(spec, subprocess_specs) -> list:
    specs = list(spec.task_specs.values())
    for sub in subprocess_specs.values():
        specs.extend(sub.task_specs.values())
    return [ts for ts in specs if getattr(ts, "manual", False)]


def properties_of(task_spec) -> dict[str, str]:
    """The task's `spiffworkflow:properties` (name -> value)."""
    return task_spec.extensions.get("properties", {}) if hasattr(task_spec, "extensions") else {}


def form_of(task_spec) -> str | None:
    """The file name of a user task's form: where the SpiffWorkflow modeler writes it (a property named
    formJsonSchemaFilename) or as its own element (`spiffworkflow:formJsonSchemaFilename`)."""
    extensions: dict[str, Any] = getattr(task_spec, "extensions", {})
    return properties_of(task_spec).get(FORM_PROPERTY) or extensions.get(FORM_PROPERTY)


def stage_of(task_spec) -> int:
    return int(properties_of(task_spec).get("stage", 0))
