"""What a person may narrow a list of tasks or cases to (My tasks, my agency's cases), read once from a request
by `TaskFilters.parse` into plain values, and turned into SQL conditions over the task and challenge rows. A value
that is not one of the choices is ignored: a list never fails on a stale link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import and_, case, or_
from sqlalchemy.sql.elements import ColumnElement

from ..models import Challenge, ProcedureVersion, Task

RISK_CHOICES = {"any": "Any risk stated", "significant": "Significant risk of harm now",
                "cp_or_lac": "On a Child Protection Plan or Looked After"}
CLAIMED_CHOICES = {"mine": "Claimed by me", "unclaimed": "Not claimed yet"}
SIDE_CHOICES = {"raising": "Our agency raised it", "receiving": "Our agency received it"}
SORT_CHOICES = {"due": "Soonest deadline first", "risk": "Highest risk first"}


@dataclass(frozen=True)
class TaskFilters:
    procedure: str | None = None  # a procedure's name (its folder: darlington, tees...)
    stage: int | None = None
    overdue: bool = False
    risk: str | None = None  # a key of RISK_CHOICES
    claimed: str | None = None  # a key of CLAIMED_CHOICES
    side: str | None = None  # a key of SIDE_CHOICES
    sort: str = "due"  # a key of SORT_CHOICES

    @classmethod
    def parse(cls, values: Mapping[str, str]) -> TaskFilters:
        def choice(name: str, choices: Mapping[str, str]) -> str | None:
            value = values.get(name) or None
            return value if value in choices else None

        stage = values.get("stage") or ""
        procedure = (values.get("procedure") or "").strip()
        return cls(procedure=procedure[:60] or None, stage=int(stage) if stage.isdigit() and len(stage) < 4 else None,
                   overdue=values.get("overdue") in ("1", "yes", "on", "true"), risk=choice("risk", RISK_CHOICES),
                   claimed=choice("claimed", CLAIMED_CHOICES), side=choice("side", SIDE_CHOICES),
                   sort=choice("sort", SORT_CHOICES) or "due")

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for the next page's link), leaving out those not set."""
        args = {}
        for name, value in asdict(self).items():
            if value in (None, False) or (name == "sort" and value == "due"):
                continue
            args[name] = "1" if value is True else str(value)
        return args

    @property
    def any_set(self) -> bool:
        return bool(self.query_args())

    def conditions(self, user_id: int, now: datetime | None) -> list[ColumnElement[bool]]:
        """Conditions on Task and Challenge (and ProcedureVersion, when `needs_version`); overdue needs `now`."""
        found: list[ColumnElement[bool]] = []
        if self.procedure:
            found.append(ProcedureVersion.procedure == self.procedure)
        if self.stage is not None:
            found.append(Task.stage == self.stage)
        if self.overdue and now is not None:
            found.append(and_(Task.due_at.is_not(None), Task.due_at < now))
        if self.risk:
            found.append(self.risk_condition())
        if self.claimed == "mine":
            found.append(Task.claimed_by_id == user_id)
        elif self.claimed == "unclaimed":
            found.append(Task.claimed_by_id.is_(None))
        if self.side:
            found.append(Task.side == self.side)
        return found

    def risk_condition(self) -> ColumnElement[bool]:
        """The condition on Challenge of the risk chosen (one is)."""
        significant, cp_or_lac = Challenge.significant_risk.is_(True), Challenge.cp_or_lac != "neither"
        return {"significant": significant, "cp_or_lac": cp_or_lac, "any": or_(significant, cp_or_lac)}[self.risk]

    @property
    def needs_challenge(self) -> bool:
        return bool(self.procedure or self.risk or self.sort == "risk")

    @property
    def needs_version(self) -> bool:
        return bool(self.procedure)


def risk_rank() -> ColumnElement[int]:
    """0 for a child or adult at significant risk of harm now, 1 on a Child Protection Plan or Looked After,
    2 otherwise: what "highest risk first" sorts on."""
    return case((Challenge.significant_risk.is_(True), 0), (Challenge.cp_or_lac != "neither", 1), else_=2)
