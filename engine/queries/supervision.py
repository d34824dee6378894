"""My agency's cases: what a manager (line manager or designated safeguarding lead, senior manager, head of
service) supervises. Every open challenge their agency raised or received, with its stage, its soonest deadline
and who holds each open task, narrowed by the same filters as My tasks; the listing is access-logged with the
ids it showed, like every list of cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from .. import access_log
from ..access_log import Caller
from ..clock import Clock
from ..models import Agency, Challenge, Membership, ProcedureVersion, Task, User
from ..unit_of_work import unit_of_work
from .access import SUPERVISING_ROLES
from .filters import TaskFilters, risk_rank


@dataclass
class OpenTask:
    id: int
    title: str
    lane: str
    agency_name: str
    due_at: datetime | None
    claimed_by: str | None  # who holds it, if claimed (else everyone holding the lane's role does)


@dataclass
class AgencyCase:
    id: int
    reference: str
    subject_reference: str
    procedure_title: str
    stage: int
    significant_risk: bool
    cp_or_lac: str
    raising_agency_name: str
    receiving_agency_name: str
    our_side: str  # raising or receiving: which side the manager's agency is on
    due_at: datetime | None  # the soonest deadline of its open tasks
    tasks: list[OpenTask] = field(default_factory=list)


def supervised_agencies(session: Session, user: User) -> list[int]:
    """The agencies where the user holds a supervising role."""
    return list(session.scalars(select(Membership.agency_id).where(
        Membership.user_id == user.id, Membership.role.in_(SUPERVISING_ROLES)).distinct()))


def is_supervisor(session: Session, user: User) -> bool:
    return bool(supervised_agencies(session, user))


def agency_cases(session: Session, user: User, filters: TaskFilters | None = None, now: datetime | None = None,
                 limit: int = 25, offset: int = 0) -> list[AgencyCase]:
    """The open challenges the user's supervised agencies raised or received, soonest deadline first (or highest
    risk first), `offset` skipped, at most `limit`."""
    filters = filters or TaskFilters()
    agencies = supervised_agencies(session, user)
    if not agencies:
        return []
    soonest = (select(Task.challenge_id, func.min(Task.due_at).label("due_at"))
               .where(Task.status == "open").group_by(Task.challenge_id).subquery())
    raising, receiving = aliased(Agency), aliased(Agency)
    conditions = [Challenge.status == "open",
                  or_(Challenge.raising_agency_id.in_(agencies), Challenge.receiving_agency_id.in_(agencies))]
    if filters.procedure:
        conditions.append(ProcedureVersion.procedure == filters.procedure)
    if filters.stage is not None:
        conditions.append(Challenge.current_stage == filters.stage)
    if filters.overdue and now is not None:
        conditions.append(and_(soonest.c.due_at.is_not(None), soonest.c.due_at < now))
    if filters.risk:
        conditions.append(filters.risk_condition())
    if filters.side == "raising":
        conditions.append(Challenge.raising_agency_id.in_(agencies))
    elif filters.side == "receiving":
        conditions.append(Challenge.receiving_agency_id.in_(agencies))
    if filters.claimed == "unclaimed":
        conditions.append(exists().where(Task.challenge_id == Challenge.id, Task.status == "open",
                                         Task.claimed_by_id.is_(None)))
    elif filters.claimed == "mine":
        conditions.append(exists().where(Task.challenge_id == Challenge.id, Task.status == "open",
                                         Task.claimed_by_id == user.id))
    ranked = [risk_rank()] if filters.sort == "risk" else []
    query = (
        select(Challenge.id, Challenge.reference, Challenge.subject_reference, ProcedureVersion.title,
               Challenge.current_stage, Challenge.significant_risk, Challenge.cp_or_lac, Challenge.raising_agency_id,
               raising.name.label("raising_name"), receiving.name.label("receiving_name"), soonest.c.due_at)
        .join(ProcedureVersion, ProcedureVersion.id == Challenge.procedure_version_id)
        .join(raising, raising.id == Challenge.raising_agency_id)
        .join(receiving, receiving.id == Challenge.receiving_agency_id)
        .outerjoin(soonest, soonest.c.challenge_id == Challenge.id)
        .where(*conditions)
        .order_by(*ranked, soonest.c.due_at.is_(None), soonest.c.due_at, Challenge.id)
        .offset(offset).limit(limit)
    )
    cases = [AgencyCase(row.id, row.reference, row.subject_reference, row.title, row.current_stage,
                        row.significant_risk, row.cp_or_lac, row.raising_name, row.receiving_name,
                        "raising" if row.raising_agency_id in agencies else "receiving", row.due_at)
             for row in session.execute(query)]
    if cases:
        by_id = {case.id: case for case in cases}
        holder = aliased(User)
        open_tasks = session.execute(
            select(Task.id, Task.challenge_id, Task.title, Task.lane, Agency.name, Task.due_at,
                   holder.display_name)
            .join(Agency, Agency.id == Task.agency_id)
            .outerjoin(holder, holder.id == Task.claimed_by_id)
            .where(Task.challenge_id.in_(by_id), Task.status == "open").order_by(Task.id))
        for row in open_tasks:
            by_id[row.challenge_id].tasks.append(OpenTask(row.id, row.title, row.lane, row.name, row.due_at,
                                                          row.display_name))
    return cases


def list_agency_cases(session: Session, clock: Clock, caller: Caller, filters: TaskFilters, limit: int,
                      offset: int) -> list[AgencyCase]:
    """`agency_cases` for the caller, the listing logged with the ids it showed."""
    with unit_of_work(session) as work:
        shown = agency_cases(session, caller.user, filters, clock.now(), limit, offset)
        access_log.log(session, clock, "cases_listed", caller, what="agency cases",
                       detail={"challenges": [c.id for c in shown]})
        work.commit()
        return shown
