"""Notifications: written to the outbox in the transaction that caused them; sent by SMTP afterwards."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from .access import eligible_users, task_holders
from .clock import Clock
from .models import Challenge, Membership, Notification, Task, User

MAX_ATTEMPTS = 8


def queue(session: Session, clock: Clock, challenge: Challenge | None, users: list[User], subject: str,
          body: str) -> int:
    """One outbox row per distinct active recipient, in one multi-row insert. Returns how many were queued."""
    now = clock.now()
    recipients = {user.id: user for user in users if user is not None and user.active}
    if recipients:
        session.execute(insert(Notification), [
            {"challenge_id": challenge.id if challenge else None, "user_id": user.id, "email": user.email,
             "subject": subject, "body": body, "created_at": now, "email_status": "pending", "attempts": 0,
             "next_attempt_at": now}
            for user in recipients.values()
        ])
    return len(recipients)


def involved(session: Session, challenge: Challenge, now: datetime) -> list[User]:
    """The referrer, everyone who claimed or completed a task, whoever the open tasks wait on, and whoever a
    task that lapsed just now waited on (the claimer of a claimed task; everyone holding the lane of an
    unclaimed one). One query."""
    touched = select(Task.claimed_by_id).where(Task.challenge_id == challenge.id, Task.claimed_by_id.is_not(None)) \
        .union(select(Task.completed_by_id).where(Task.challenge_id == challenge.id,
                                                  Task.completed_by_id.is_not(None)))
    holding = (
        select(Membership.user_id)
        .join(Task, (Task.role == Membership.role) & (Task.agency_id == Membership.agency_id))
        .where(Task.challenge_id == challenge.id, Task.claimed_by_id.is_(None),
               or_(Task.status == "open", (Task.status == "cancelled") & (Task.closed_at == now)))
    )
    users = session.scalars(
        select(User).where(or_(User.id == challenge.referrer_id, User.id.in_(touched), User.id.in_(holding)))
        .order_by(User.id)
    ).all()
    return list(users)


def waiting_on(session: Session, challenge: Challenge, task_uuids: list[str]) -> list[User]:
    if not task_uuids:
        return []
    rows = session.scalars(
        select(Task).where(Task.challenge_id == challenge.id, Task.task_uuid.in_(task_uuids))
    ).all()
    return [user for row in rows for user in task_holders(session, row)]


def resolve(session: Session, challenge: Challenge, lanes: dict, lane_agency, to: list[str],
            waiting: list[str], now: datetime) -> list[User]:
    """Turn a diagram's recipients into users: "referrer", "involved", "current" (whoever the tasks open when
    the script ran wait on), or "lane:<name>" (everyone holding that lane's role on its side)."""
    users: list[User] = []
    for target in to:
        if target == "referrer":
            users.append(challenge.referrer)
        elif target == "involved":
            users.extend(involved(session, challenge, now))
        elif target == "current":
            users.extend(waiting_on(session, challenge, waiting))
        elif target.startswith("lane:"):
            lane = target.removeprefix("lane:")
            if lane not in lanes:
                raise ValueError(f"notify names lane {lane!r}, which the lane map does not have")
            users.extend(eligible_users(session, lanes[lane]["role"], lane_agency(lanes[lane]["side"])))
        else:
            raise ValueError(f"notify cannot send to {target!r}: use referrer, involved, current or lane:<name>")
    return users


@dataclass
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 8025
    sender: str = "professional-challenge@localhost"
    timeout: float = 10.0


def deliver_pending(session: Session, clock: Clock, smtp: SmtpSettings, limit: int = 100) -> tuple[int, int]:
    """Send what is due. Each row is marked sent in its own commit right after the server accepts it, so a
    crash can at worst resend one message, never lose one. Failures back off exponentially. Returns
    (sent, failed)."""
    now = clock.now()
    due = session.scalars(
        select(Notification)
        .where(Notification.email_status == "pending",
               or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    if not due:
        return 0, 0
    try:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    except OSError as exc:
        for row in due:
            _failed(row, now, f"cannot connect: {exc}")
        session.commit()
        return 0, len(due)
    with server:
        for row in due:
            message = EmailMessage()
            message["From"] = smtp.sender
            message["To"] = row.email
            message["Subject"] = row.subject
            message["Message-ID"] = f"<notification-{row.id}@professional-challenge>"
            message.set_content(row.body)
            try:
                server.send_message(message)
            except (smtplib.SMTPException, OSError) as exc:
                _failed(row, now, str(exc))
                failed += 1
            else:
                row.email_status = "sent"
                row.sent_at = now
                row.attempts += 1
                sent += 1
            session.commit()
    return sent, failed


def _failed(row: Notification, now, error: str) -> None:
    row.attempts += 1
    row.last_error = error[:1000]
    if row.attempts >= MAX_ATTEMPTS:
        row.email_status = "failed"
        row.next_attempt_at = None
    else:
        row.next_attempt_at = now + timedelta(seconds=30 * 2 ** (row.attempts - 1))


def for_user(session: Session, user: User, limit: int = 200) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(limit)
        )
    )


def unread_count(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def mark_read(session: Session, clock: Clock, user: User) -> None:
    session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    )
    session.commit()
