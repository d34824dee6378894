"""The business unit's list of its partnership's challenges: filtered (period raised, stage, status, agency,
area, outcome, overdue, significant risk), searched by challenge or case reference, paged, and downloadable."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..errors import Invalid
from ..models import Agency, Challenge, ChallengeFacts, Task
from ..vocabulary import OUTCOME_NAMES
from .figures import area_labels
from .periods import Period

PAGE_SIZE = 50
STATUSES = ("open", "closed")
CASE_COLUMNS = ["Challenge", "Case reference", "Raised", "Raising agency", "Receiving agency", "Area", "Stage",
                "Status", "Outcome", "Significant risk", "Overdue", "Satisfied", "Closed"]


@dataclass(frozen=True)
class CaseFilter:
    stage: int | None = None
    status: str | None = None
    agency: int | None = None  # raising or receiving
    area: str | None = None
    outcome: str | None = None
    overdue: bool = False
    risk: bool = False
    search: str = ""

    def words(self, agencies: dict[int, str]) -> list[str]:
        """The filters as words for a file name: `stage-2`, `open`, `overdue`..."""
        out = []
        if self.stage is not None:
            out.append(f"stage-{self.stage}")
        for value in (self.status, self.area, self.outcome):
            if value:
                out.append(value.replace("_", "-"))
        if self.agency is not None:
            out.append("agency-" + "".join(c if c.isalnum() else "-" for c in agencies.get(self.agency, "")
                                           .lower()).strip("-"))
        if self.overdue:
            out.append("overdue")
        if self.risk:
            out.append("significant-risk")
        if self.search:
            out.append("search-" + "".join(c for c in self.search.lower() if c.isalnum())[:20])
        return out

    def query(self) -> dict[str, Any]:
        """The filter as request arguments (for links to the next page and the downloads)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, False, "")}


def _whole(value: str | None, field: str, errors: dict[str, str]) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        errors[field] = "Choose one of the listed values."
        return None
    return int(value)


def parse_filter(args: dict[str, str], agency_ids: set[int]) -> CaseFilter:
    """A filter from request arguments; anything not on offer is refused with a message per field."""
    errors: dict[str, str] = {}
    stage = _whole(args.get("stage"), "stage", errors)
    agency = _whole(args.get("agency"), "agency", errors)
    if agency is not None and agency not in agency_ids:
        errors["agency"] = "Choose one of the partnership's agencies."
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        errors["status"] = "Choose open or closed."
    area = args.get("area") or None
    if area is not None and area not in area_labels():
        errors["area"] = "Choose one of the areas of challenge."
    outcome = args.get("outcome") or None
    if outcome is not None and outcome not in OUTCOME_NAMES:
        errors["outcome"] = "Choose one of the outcomes."
    search = (args.get("search") or "").strip()
    if len(search) > 80:
        errors["search"] = "Search for at most 80 characters."
    if errors:
        raise Invalid(errors)
    return CaseFilter(stage, status, agency, area, outcome, args.get("overdue") in ("1", "on", "true"),
                      args.get("risk") in ("1", "on", "true"), search)


def _overdue(now: datetime):
    return exists().where(Task.challenge_id == Challenge.id, Task.status == "open", Task.due_at < now)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _select(partnership_id: int, period: Period, case_filter: CaseFilter, now: datetime) -> Select:
    F = ChallengeFacts
    raising, receiving = aliased(Agency), aliased(Agency)
    conditions = [F.partnership_id == partnership_id, F.raised_at >= period.starts, F.raised_at < period.ends]
    if case_filter.stage is not None:
        conditions.append(Challenge.current_stage == case_filter.stage)
    if case_filter.status:
        conditions.append(F.status == case_filter.status)
    if case_filter.agency is not None:
        conditions.append(or_(F.raising_agency_id == case_filter.agency, F.receiving_agency_id == case_filter.agency))
    if case_filter.area:
        conditions.append(F.area == case_filter.area)
    if case_filter.outcome:
        conditions.append(F.outcome == case_filter.outcome)
    if case_filter.risk:
        conditions.append(F.significant_risk.is_(True))
    if case_filter.overdue:
        conditions.append(_overdue(now))
    if case_filter.search:
        pattern = _like(case_filter.search)
        conditions.append(or_(Challenge.reference.ilike(pattern, escape="\\"),
                              Challenge.subject_reference.ilike(pattern, escape="\\")))
    return (
        select(Challenge.id, Challenge.reference, Challenge.subject_reference, F.raised_at,
               raising.name.label("raising_agency"), receiving.name.label("receiving_agency"), F.area,
               Challenge.current_stage.label("stage"), F.status, F.outcome, F.significant_risk,
               _overdue(now).label("overdue"), F.satisfied, F.closed_at)
        .select_from(F)
        .join(Challenge, Challenge.id == F.challenge_id)
        .join(raising, raising.id == F.raising_agency_id)
        .join(receiving, receiving.id == F.receiving_agency_id)
        .where(and_(*conditions))
    )


@dataclass
class CasePage:
    rows: list[Any]
    total: int
    page: int
    pages: int


def page_of(session: Session, partnership_id: int, period: Period, case_filter: CaseFilter, now: datetime,
            page: int = 1) -> CasePage:
    """One page of the list, the newest challenges first, with how many there are in all."""
    query = _select(partnership_id, period, case_filter, now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.execute(query.order_by(ChallengeFacts.raised_at.desc(), Challenge.id.desc())
                           .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return CasePage(list(rows), total, page, pages)


def all_rows(session: Session, partnership_id: int, period: Period, case_filter: CaseFilter,
             now: datetime) -> list[Any]:
    return list(session.execute(_select(partnership_id, period, case_filter, now)
                                .order_by(ChallengeFacts.raised_at.desc(), Challenge.id.desc())).all())


def case_cells(row: Any, outcome_words: dict[str, str], stage_word: str) -> list[Any]:
    """A row of the list as the downloads write it (CASE_COLUMNS)."""
    areas = area_labels()
    return [row.reference, row.subject_reference, row.raised_at, row.raising_agency, row.receiving_agency,
            areas.get(row.area, row.area), f"{stage_word.capitalize()} {row.stage}", row.status,
            outcome_words.get(row.outcome, row.outcome or ""), "Yes" if row.significant_risk else "No",
            "Yes" if row.overdue else "No", {"yes": "Yes", "partly": "Partly", "no": "No"}.get(row.satisfied, ""),
            row.closed_at]
