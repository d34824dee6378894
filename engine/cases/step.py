"""Taking one step of a case: the request made from its rows and its procedure version, taken in a step process,
and its refusals turned into ours (`Conflict` when the case has moved on, `StepFailed` when the procedure
failed)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from ..clock import Clock
from ..errors import Conflict, StepFailed
from ..models import Challenge, ProcedureVersion
from .run import StepRefused, StepRequest, StepResult
from .runner import take_step
from .writer import chosen_fields


def take(clock: Clock, challenge: Challenge, version: ProcedureVersion, action: str, *,
         data: dict[str, Any] | None = None, start_at: datetime | None = None, task: str | None = None,
         answers: dict[str, Any] | None = None, migrate_to: ProcedureVersion | None = None,
         rearm: bool = False, mapping: dict[str, str] | None = None) -> StepResult:
    partnership = challenge.partnership
    request = StepRequest(
        action=action, now=clock.now().isoformat(),
        version={"content_hash": version.content_hash, "bpmn_xml": version.bpmn_xml,
                 "process_id": version.process_id},
        calendar={"nation": partnership.nation, "end_of_day": partnership.end_of_working_day},
        chosen_fields=chosen_fields(version),
        state=base64.b64encode(challenge.state).decode() if action != "start" else None,
        data=data, start_at=start_at.isoformat() if start_at else None, task=task, answers=answers,
        migrate_to={"content_hash": migrate_to.content_hash, "bpmn_xml": migrate_to.bpmn_xml,
                    "process_id": migrate_to.process_id} if migrate_to is not None else None, rearm=rearm,
        mapping=mapping)
    try:
        return take_step(request)
    except StepRefused as exc:
        if exc.kind == "conflict":
            raise Conflict(str(exc)) from None
        raise StepFailed(str(exc)) from None
