"""Who may see and act on what. A task belongs to the users holding its lane's role in its agency; the referrer
sees their whole challenge; everyone else sees nothing of it. All of it plain SQL over the task rows."""

from __future__ import annotations

from sqlalchemy import Row, exists, or_, select, union
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from ..models import Agency, Challenge, Membership, Notification, Partnership, Task, User

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


def sees_challenge(user_id: int) -> ColumnElement[bool]:
    """True for challenges the user raised, or in which they hold, held, claimed or completed a task, or about
    which the procedure notified them; and, for the partnership's business unit and auditors, every challenge
    of its partnership."""
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
    return or_(Challenge.referrer_id == user_id, touched, business_unit, told)


def can_view(session: Session, user: User, challenge_id: int) -> bool:
    return bool(session.scalar(select(Challenge.id).where(Challenge.id == challenge_id, sees_challenge(user.id))))


# What a line of My tasks shows, read as plain rows: building a hundred ORM tasks with their challenges cost
# several times the queries themselves.
_TASK_LINE = (
    select(Task.id, Task.challenge_id, Task.bpmn_id, Task.title, Task.stage, Task.due_at, Task.claimed_by_id,
           Challenge.reference.label("challenge_reference"), Challenge.subject_reference,
           Agency.name.label("agency_name"))
    .select_from(Task)
    .join(Challenge, Challenge.id == Task.challenge_id)
    .join(Agency, Agency.id == Task.agency_id)
)


def my_tasks(session: Session, user: User, limit: int = MY_TASKS_PAGE) -> list[Row]:
    """Open tasks the user may take: unclaimed ones of their lanes and the ones they claimed. Soonest first,
    tasks without a deadline last. One statement after the user's lanes: an index range scan per lane (role,
    agency), read in due order and cut at the page size, so the cost follows the page size, not the number of
    open tasks. Each is a row: id, challenge_id, bpmn_id, title, stage, due_at, claimed_by_id,
    challenge_reference, subject_reference and agency_name."""
    pairs = session.execute(select(Membership.role, Membership.agency_id).where(Membership.user_id == user.id)).all()
    if not pairs:
        return []
    mine = or_(Task.claimed_by_id.is_(None), Task.claimed_by_id == user.id)
    scans = []
    for role, agency_id in pairs:
        lane = (Task.status == "open", Task.role == role, Task.agency_id == agency_id, mine)
        scans.append(select(Task.id).where(*lane, Task.due_at.is_not(None))
                     .order_by(Task.due_at, Task.id).limit(limit).subquery())
        scans.append(select(Task.id).where(*lane, Task.due_at.is_(None)).order_by(Task.id).limit(limit).subquery())
    candidates = union(*(select(scan.c.id) for scan in scans)).subquery()
    page = (
        _TASK_LINE.join(candidates, candidates.c.id == Task.id)
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        .limit(limit)
    )
    return list(session.execute(page).all())


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
