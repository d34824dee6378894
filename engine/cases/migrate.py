"""Moving a running case onto another version of its procedure, in its step process: SpiffWorkflow's diff of the
case against the new spec, its safety rule (a task the new version changed or removed must not have run or be
running), and our own (the case's open tasks stay as their rows say), then its migration. The timers the case
was waiting on keep their due moments unless they are re-armed (evaluated again on the new version). Where the new
version gave an element another id, a mapping (old id -> new id) says they are the same element."""

from __future__ import annotations

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from ..bpmn.serializer import SERIALIZER
from .run import StepRefused, _Case, specs_for

# Each pair of specs is compared once per step process (the comparison serializes every task spec of both; the
# specs of a version are parsed once, so the pair's objects are the same for every case).
_SPEC_DIFFS: dict[tuple, SpecDiff] = {}


def _spec_diff(original, new, mapping: dict[str, str] | None = None) -> SpecDiff:
    key = (id(original), id(new), tuple(sorted((mapping or {}).items())))
    found = _SPEC_DIFFS.get(key)
    if found is None:
        if len(_SPEC_DIFFS) > 64:
            _SPEC_DIFFS.clear()
        found = SpecDiff(SERIALIZER.registry, original, new)
        if mapping:
            _map(found, original, new, mapping)
        _SPEC_DIFFS[key] = found
    return found


def _renamed(value, mapping: dict[str, str]):
    """A serialized spec's value with the mapped ids (and the names derived from them, "id.BoundaryEventSplit")
    given their new ids."""
    if isinstance(value, str):
        head, dot, tail = value.partition(".")
        return mapping.get(value) or (mapping[head] + dot + tail if dot and head in mapping else value)
    if isinstance(value, list):
        return [_renamed(item, mapping) for item in value]
    if isinstance(value, dict):
        return {k: _renamed(v, mapping) for k, v in value.items()}
    return value


def _map(diff: SpecDiff, original, new, mapping: dict[str, str]) -> None:
    """Align each mapped pair, the names derived from them too, then compare every aligned pair again with the
    old ids read as the new ones (so a renamed element, and its neighbours, are not changed by the rename)."""
    for old_id, new_id in mapping.items():
        for old_name, old_spec in original.task_specs.items():
            if old_name == old_id or old_name.startswith(old_id + "."):
                new_spec = new.task_specs.get(new_id + old_name[len(old_id):])
                if new_spec is None:
                    raise StepRefused("conflict", f"the mapping names {new_id!r}, which the new version does not have")
                diff.alignment[old_spec] = new_spec
                if new_spec in diff.added:
                    diff.added.remove(new_spec)
        if old_id not in original.task_specs:
            raise StepRefused("conflict", f"the mapping names {old_id!r}, which the case's version does not have")
    registry = SERIALIZER.registry
    for old_spec, new_spec in diff.alignment.items():
        if new_spec is None:
            continue
        before, after = _renamed(registry.convert(old_spec), mapping), registry.convert(new_spec)
        diff.comparisons[old_spec] = ["typename"] if before.get("typename") != after.get("typename") else [
            key for key, value in before.items() if after.get(key) != value]


def _name(task) -> str:
    spec = task.task_spec
    return f"{spec.bpmn_name or spec.bpmn_id} ({spec.bpmn_id})" if getattr(spec, "bpmn_id", None) else spec.name


def migrate_case(case: _Case, target: dict[str, str], rearm: bool, mapping: dict[str, str] | None = None) -> None:
    """Put the case's workflow on `target`'s spec, or refuse (`StepRefused` "conflict") saying why it cannot
    move. Nothing runs: what the new version makes due, the worker fires."""
    spec, subprocess_specs = specs_for(target)
    workflow = case.workflow
    # diff_workflow, with each spec comparison made once.
    top = WorkflowDiff(workflow, _spec_diff(workflow.spec, spec, mapping))
    subprocesses = {sp_id: WorkflowDiff(sub, _spec_diff(sub.spec, subprocess_specs[sub.spec.name]))
                    if sub.spec.name in subprocess_specs else None for sp_id, sub in workflow.subprocesses.items()}
    reasons: list[str] = []
    if any(diff is None for diff in subprocesses.values()):
        reasons.append("a subprocess it is running is not in the new version")
    for diff in [top, *(d for d in subprocesses.values() if d is not None)]:
        for task in diff.removed + diff.changed:
            what = "removed" if task in diff.removed else "changed"
            if task.has_state(TaskState.COMPLETED | TaskState.STARTED):
                reasons.append(f"the new version {what} {_name(task)}, which this case has already run")
            elif task.has_state(TaskState.READY) and task.task_spec.manual:
                reasons.append(f"the new version {what} {_name(task)}, which is open on this case")
    if reasons:
        raise StepRefused("conflict", "; ".join(sorted(set(reasons))))
    kept = {task.id: task._get_internal_data("event_value") for task in workflow.get_tasks(state=TaskState.WAITING)
            if task._get_internal_data("event_value") is not None}
    for sp_id, diff in subprocesses.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(diff, sub, subprocess_specs[sub.spec.name])
    migrate_workflow(top, workflow, spec)
    workflow.subprocess_specs = subprocess_specs
    # A case raised before the diagrams could count from the concern first raised counts from its raising.
    for task in workflow.get_tasks():
        if "raised_at" in task.data and "deadlines_from" not in task.data:
            task.data["deadlines_from"] = task.data["raised_at"]
    if not rearm:
        for task in workflow.get_tasks(state=TaskState.WAITING):
            if task.id in kept:
                task._set_internal_data(event_value=kept[task.id])
    if case.ready_now() != case.synced:
        raise StepRefused("conflict", "the new version would change which tasks are open on this case")
