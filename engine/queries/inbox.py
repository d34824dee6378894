"""A person's notifications as they read them: grouped by challenge, the group with the newest notice first,
a page of groups at a time, narrowed to the unread or to the cases at risk. A group shows its newest notices and
says how many earlier ones it has (the challenge's page has the whole history)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from ..models import Challenge, Notification, User

SHOWN_PER_GROUP = 5


@dataclass
class NoticeGroup:
    challenge: Challenge | None  # None: notices about no one challenge
    unread: int
    total: int
    latest_at: datetime
    notices: list[Notification] = field(default_factory=list)

    @property
    def earlier(self) -> int:
        return self.total - len(self.notices)


def notice_groups(session: Session, user: User, unread_only: bool = False, at_risk_only: bool = False,
                  limit: int = 20, offset: int = 0, email_pending: bool = False,
                  shown_per_group: int | None = SHOWN_PER_GROUP) -> list[NoticeGroup]:
    """The user's notifications grouped by challenge, newest group first; `offset` groups skipped, at most
    `limit` (ask for one more to know whether there is a next page). `email_pending`: only those not emailed yet
    (a daily digest's); `shown_per_group` None: every notice of each group."""
    mine = [Notification.user_id == user.id]
    if unread_only:
        mine.append(Notification.read_at.is_(None))
    if email_pending:
        mine.append(Notification.email_status == "pending")
    groups = (
        select(Notification.challenge_id, func.max(Notification.id).label("last_id"),
               func.count(Notification.id).label("total"),
               func.sum(case((Notification.read_at.is_(None), 1), else_=0)).label("unread"),
               func.max(Notification.created_at).label("latest_at"))
        .where(*mine).group_by(Notification.challenge_id)
    )
    if at_risk_only:
        groups = groups.join(Challenge, Challenge.id == Notification.challenge_id).where(
            or_(Challenge.significant_risk.is_(True), Challenge.cp_or_lac != "neither"))
    rows = session.execute(groups.order_by(func.max(Notification.id).desc()).offset(offset).limit(limit)).all()
    if not rows:
        return []
    ids = [row.challenge_id for row in rows if row.challenge_id is not None]
    challenges = {c.id: c for c in session.scalars(select(Challenge).where(Challenge.id.in_(ids)))} if ids else {}
    found = {row.challenge_id: NoticeGroup(challenges.get(row.challenge_id), int(row.unread or 0), row.total,
                                           row.latest_at) for row in rows}
    # The newest few of each group, in one statement: numbered within their group, newest first.
    keyed = func.coalesce(Notification.challenge_id, 0)
    numbered = (
        select(Notification.id, func.row_number().over(partition_by=keyed, order_by=Notification.id.desc())
               .label("n"))
        .where(*mine, or_(Notification.challenge_id.in_(ids), Notification.challenge_id.is_(None))
               if None in found else Notification.challenge_id.in_(ids))
        .subquery()
    )
    shown = session.scalars(select(Notification).join(numbered, numbered.c.id == Notification.id)
                            .where(numbered.c.n <= (shown_per_group or 2**31 - 1)).order_by(Notification.id.desc()))
    for notice in shown:
        found[notice.challenge_id].notices.append(notice)
    return [found[row.challenge_id] for row in rows]
