"""The script engine of one step: SpiffWorkflow's, with every script and expression run by `scripting` (the
sandbox) and given the diagram functions (working days, local time, notify), all reading the step's context
(`StepContext`) rather than state of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from . import scripting
from .context import Notice, StepContext
from .tasks import ready_tasks


class SandboxEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, with every script and expression compiled and run by `scripting`.
    Its context cleaning (`_remove_globals_and_functions_from_context`, `check_for_overwrite`) is SpiffWorkflow's,
    pinned by the contract tests."""

    def evaluate(self, expression, context, external_context=None):
        code = scripting.compile_script(expression, "eval")
        scope = dict(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return scripting.run(code, scope, "eval")

    def execute(self, script, context, external_context=None):
        code = scripting.compile_script(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        context.update(self.globals)
        context.update(external_context or {})
        try:
            scripting.run(code, context, "exec")
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        scripting.check_kept(context)
        return True


def as_datetime(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def local_time(calendar, moment: str) -> str:
    """How a person reads a deadline: "Monday 21 December 2026, 17:00" in the partnership's zone."""
    local = as_datetime(moment).astimezone(calendar.zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M}"


class StepScriptEngine(PythonScriptEngine):
    """Made for each step of one case; the diagram functions read its context (see engine.vocabulary for what
    each one means)."""

    def __init__(self, context: StepContext) -> None:
        self.context = context
        super().__init__(environment=SandboxEnvironment(self.functions()))

    def functions(self) -> dict:
        context = self.context
        calendar = context.calendar
        return {
            "now": lambda: context.moment().isoformat(),
            "working_days_after": lambda moment, days: calendar.add_working_days(as_datetime(moment),
                                                                                 int(days)).isoformat(),
            "working_days_before": lambda moment, days: calendar.working_days_before(as_datetime(moment),
                                                                                     int(days)).isoformat(),
            "day_n": lambda start, n: calendar.day_n(as_datetime(start), int(n)).isoformat(),
            "hours_before": lambda moment, hours: (as_datetime(moment) - timedelta(hours=float(hours)))
            .astimezone(UTC).isoformat(),
            "hours_after": lambda moment, hours: (as_datetime(moment) + timedelta(hours=float(hours)))
            .astimezone(UTC).isoformat(),
            "local_time": lambda moment: local_time(calendar, moment),
            "notify": self._notify,
        }

    def execute(self, task, script, external_context=None):
        self.context.running = task
        try:
            return super().execute(task, script, external_context)
        finally:
            self.context.running = None

    def _notify(self, to, subject: str, message: str) -> None:
        recipients = [to] if isinstance(to, str) else list(to)
        running = self.context.running
        waiting, data = [], {}
        if running is not None:
            if "current" in recipients:
                waiting = [str(t.id) for t in ready_tasks(running.workflow.top_workflow, manual=True)]
            data = {name: running.data[name] for name in self.context.chosen_fields if name in running.data}
        self.context.notices.append(Notice([str(r) for r in recipients], str(subject), str(message), waiting, data))
