"""Who may see and act on what. A task belongs to the users holding its lane's role in its agency; the referrer
sees their whole challenge; everyone else sees nothing of it. All of it plain SQL over the task rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, exists, or_, select, union
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql.elements import ColumnElement

from ..models import Agency, Challenge, Membership, Notification, Partnership, ProcedureVersion, Task, User
from .filters import TaskFilters, risk_rank

# The soonest tasks a person is shown at once; a practitioner with more has more urgent problems than paging.
MY_TASKS_PAGE = 100


def holds_lane(user_id: int) -> ColumnElement[bool]:
    """True for task rows whose lane's role the user holds in the task's agency."""
    return exists().where(
        Membership.user_id == user_id,
        Membership.role == Task.role,
        Membership.agency_id == Task.agency_id,
    )


def can_act_on(session: Session, user: User, task: Task) -> bool:
    return bool(
        session.scalar(
            select(Membership.id).where(
                Membership.user_id == user.id, Membership.role == task.role, Membership.agency_id == task.agency_id
            )
        )
    )


# The partnership body's roles that see every challenge of their partnership: the business unit keeps the record
# and the statistics; auditors read everything and change nothing.
SEE_EVERY_CASE = ("business_unit", "auditor")


# The managers who supervise their agency's challenges (line managers, who are also the designated safeguarding
# leads, senior managers and heads of service): they see every challenge their agency raised or received, and
# may reassign its open tasks.
SUPERVISING_ROLES = ("line_manager", "senior_manager", "head_of_service", "director")


def supervises(user_id: int) -> ColumnElement[bool]:
    """True for challenges raised or received by an agency where the user holds a supervising role."""
    return exists().where(
        Membership.user_id == user_id,
        Membership.role.in_(SUPERVISING_ROLES),
        Membership.agency_id.in_((Challenge.raising_agency_id, Challenge.receiving_agency_id)),
    )


def sees_challenge(user_id: int) -> ColumnElement[bool]:
    """True for challenges the user raised, or in which they hold, held, claimed or completed a task, or about
    which the procedure notified them; for a manager of the raising or receiving agency; and, for the
    partnership's business unit and auditors, every challenge of its partnership."""
    touched = exists().where(
        Task.challenge_id == Challenge.id,
        or_(holds_lane(user_id), Task.claimed_by_id == user_id, Task.completed_by_id == user_id),
    )
    business_unit = exists().where(
        Membership.user_id == user_id,
        Membership.role.in_(SEE_EVERY_CASE),
        Membership.agency_id == Agency.id,
        Agency.partnership_id == Challenge.partnership_id,
        Agency.is_partnership_body.is_(True),
    )
    # Whoever the procedure told about the case (an Independent Reviewing Officer, say) may open it.
    told = exists().where(Notification.challenge_id == Challenge.id, Notification.user_id == user_id)
    return or_(Challenge.referrer_id == user_id, touched, business_unit, told, supervises(user_id))


def can_view(session: Session, user: User, challenge_id: int) -> bool:
    return bool(session.scalar(select(Challenge.id).where(Challenge.id == challenge_id, sees_challenge(user.id))))


# What a line of My tasks shows, read as plain rows: building a hundred ORM tasks with their challenges cost
# several times the queries themselves.
_RAISING, _RECEIVING = aliased(Agency), aliased(Agency)
_TASK_LINE = (
    select(Task.id, Task.challenge_id, Task.bpmn_id, Task.title, Task.stage, Task.due_at, Task.claimed_by_id,
           Task.side, Task.role, Task.lane, Challenge.reference.label("challenge_reference"),
           Challenge.subject_reference, Challenge.significant_risk, Challenge.cp_or_lac,
           Agency.name.label("agency_name"),
           _RAISING.name.label("raising_agency_name"), _RECEIVING.name.label("receiving_agency_name"))
    .select_from(Task)
    .join(Challenge, Challenge.id == Task.challenge_id)
    .join(Agency, Agency.id == Task.agency_id)
    .join(_RAISING, _RAISING.id == Challenge.raising_agency_id)
    .join(_RECEIVING, _RECEIVING.id == Challenge.receiving_agency_id)
)


def my_tasks(session: Session, user: User, limit: int = MY_TASKS_PAGE, filters: TaskFilters | None = None,
             offset: int = 0, now: datetime | None = None) -> list[Row]:
    """Open tasks the user may take: unclaimed ones of their lanes and the ones they claimed, narrowed by
    `filters` (`now` says what is overdue). Soonest first, tasks without a deadline last (or, sorted by risk,
    significant risk first, then a Child Protection Plan or Looked After, each soonest first); `offset` rows
    skipped, then at most `limit`. One statement after the user's lanes: an index range scan per lane (role,
    agency), read in order and cut at offset + limit, so the cost follows the page, not the number of open
    tasks. Each is a row: id, challenge_id, bpmn_id, title, stage, due_at, claimed_by_id, side, role, lane,
    challenge_reference, subject_reference, significant_risk, cp_or_lac, agency_name, raising_agency_name and
    receiving_agency_name."""
    filters = filters or TaskFilters()
    pairs = session.execute(select(Membership.role, Membership.agency_id).where(Membership.user_id == user.id)).all()
    if not pairs:
        return []
    mine = or_(Task.claimed_by_id.is_(None), Task.claimed_by_id == user.id)
    narrowed = filters.conditions(user.id, now)
    ranked = [risk_rank()] if filters.sort == "risk" else []
    base = select(Task.id)
    if filters.needs_challenge:
        base = base.join(Challenge, Challenge.id == Task.challenge_id)
    if filters.needs_version:
        base = base.join(ProcedureVersion, ProcedureVersion.id == Challenge.procedure_version_id)
    reach = offset + limit
    scans = []
    for role, agency_id in pairs:
        lane = (Task.status == "open", Task.role == role, Task.agency_id == agency_id, mine, *narrowed)
        scans.append(base.where(*lane, Task.due_at.is_not(None))
                     .order_by(*ranked, Task.due_at, Task.id).limit(reach).subquery())
        scans.append(base.where(*lane, Task.due_at.is_(None)).order_by(*ranked, Task.id).limit(reach).subquery())
    candidates = union(*(select(scan.c.id) for scan in scans)).subquery()
    page = (
        _TASK_LINE.join(candidates, candidates.c.id == Task.id)
        .order_by(*ranked, Task.due_at.is_(None), Task.due_at, Task.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.execute(page).all())


def procedures_of(session: Session, user: User) -> list[tuple[str, str]]:
    """The procedures (name, title) current in the partnerships where the user holds a role: what a list may be
    narrowed to."""
    rows = session.execute(
        select(ProcedureVersion.procedure, ProcedureVersion.title)
        .join(Partnership, Partnership.current_version_id == ProcedureVersion.id)
        .join(Agency, Agency.partnership_id == Partnership.id)
        .join(Membership, Membership.agency_id == Agency.id)
        .where(Membership.user_id == user.id).distinct().order_by(ProcedureVersion.title)).all()
    return [(row.procedure, row.title) for row in rows]


def tasks_by_id(session: Session, ids: list[int]) -> list[Task]:
    """The tasks with these ids, in this order, with what a full description of each needs loaded."""
    if not ids:
        return []
    tasks = session.scalars(
        select(Task).where(Task.id.in_(ids))
        .options(selectinload(Task.challenge), selectinload(Task.agency), selectinload(Task.claimed_by),
                 selectinload(Task.completed_by))
    ).all()
    order = {task_id: n for n, task_id in enumerate(ids)}
    return sorted(tasks, key=lambda task: order[task.id])


def visible_challenges(session: Session, user: User, limit: int = 200) -> list[Challenge]:
    query = select(Challenge).where(sees_challenge(user.id)).order_by(Challenge.raised_at.desc()).limit(limit)
    return list(session.scalars(query))


# The partnership body's roles that read its reports: the business unit writes them, the executive and the
# scrutineer (Lead Safeguarding Partners) receive them, auditors check them.
REPORT_ROLES = ("business_unit", "partnership_executive", "lead_safeguarding_partner", "auditor")


def reporting_partnerships(session: Session, user: User) -> list[Partnership]:
    """The partnerships whose reports the user may read, by name."""
    return list(session.scalars(
        select(Partnership).where(Partnership.id.in_(
            select(Agency.partnership_id).join(Membership, Membership.agency_id == Agency.id)
            .where(Membership.user_id == user.id, Membership.role.in_(REPORT_ROLES),
                   Agency.is_partnership_body.is_(True)))).order_by(Partnership.name)))


def is_auditor(session: Session, user: User) -> bool:
    return bool(session.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                           Membership.role == "auditor").limit(1)))


def audited_partnerships(session: Session, user: User) -> list[int]:
    """The partnerships whose auditor the user is."""
    return list(session.scalars(select(Agency.partnership_id).join(Membership, Membership.agency_id == Agency.id)
                                .where(Membership.user_id == user.id, Membership.role == "auditor").distinct()))
