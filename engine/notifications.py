"""Notifications: written to the outbox in the transaction that caused them; sent by SMTP afterwards."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Select,
    String,
    bindparam,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import Session

from .clock import Clock
from .models import Challenge, Membership, Notification, Task, User, UTCDateTime

MAX_ATTEMPTS = 8


def _outbox(who) -> Insert:
    """An INSERT ... SELECT writing one outbox row per distinct active user that `who` (a condition on users)
    picks: the recipients never travel to Python and back."""
    rows = (
        select(bindparam("challenge_id", type_=Integer), User.id, User.email, bindparam("subject", type_=String),
               bindparam("body", type_=String), bindparam("now", type_=UTCDateTime), literal("pending", String),
               literal(0, Integer), bindparam("now", type_=UTCDateTime))
        .where(User.active.is_(True), who)
        .order_by(User.id)
    )
    columns = ("challenge_id", "user_id", "email", "subject", "body", "created_at", "email_status", "attempts",
               "next_attempt_at")
    # An INSERT's row count is kept only on request (UPDATE and DELETE keep theirs anyway).
    return insert(Notification.__table__).from_select(columns, rows).execution_options(preserve_rowcount=True)


@dataclass(frozen=True)
class Recipients:
    """Who to tell: the outbox INSERT ... SELECT that picks them, and its parameters."""

    statement: Insert
    params: dict[str, Any]


def queue(session: Session, clock: Clock, challenge: Challenge | None, recipients: Recipients, subject: str,
          body: str) -> int:
    """One outbox row per distinct active recipient, in one statement. Returns how many were queued."""
    params = {**recipients.params, "challenge_id": challenge.id if challenge else None, "subject": subject,
              "body": body, "now": clock.now()}
    return session.connection().execute(recipients.statement, params).rowcount


def _involved() -> list[Select]:
    """The referrer, everyone who claimed or completed a task, whoever the open tasks wait on, and whoever a
    task that lapsed just now waited on (the claimer of a claimed task; everyone holding the lane of an
    unclaimed one)."""
    of_case = Task.challenge_id == bindparam("case_id")
    holding = (
        select(Membership.user_id)
        .join(Task, (Task.role == Membership.role) & (Task.agency_id == Membership.agency_id))
        .where(of_case, Task.claimed_by_id.is_(None),
               or_(Task.status == "open",
                   (Task.status == "cancelled") & (Task.closed_at == bindparam("now", type_=UTCDateTime))))
    )
    return [
        select(bindparam("referrer_id", type_=Integer)),
        select(Task.claimed_by_id).where(of_case, Task.claimed_by_id.is_not(None)),
        select(Task.completed_by_id).where(of_case, Task.completed_by_id.is_not(None)),
        holding,
    ]


def _waiting_on() -> list[Select]:
    """Who the given tasks wait on: the claimer of a claimed one, everyone holding the lane of an unclaimed one."""
    tasks = (Task.challenge_id == bindparam("case_id"), Task.task_uuid.in_(bindparam("uuids", expanding=True)))
    return [
        select(Task.claimed_by_id).where(*tasks, Task.claimed_by_id.is_not(None)),
        select(Membership.user_id)
        .join(Task, (Task.role == Membership.role) & (Task.agency_id == Membership.agency_id))
        .where(*tasks, Task.claimed_by_id.is_(None)),
    ]


@lru_cache(maxsize=256)
def _statement(shape: tuple[str, ...]) -> Insert:
    """The outbox statement for recipients of these kinds, in this order, built once per shape (a diagram's
    notify calls have a handful of shapes); the values are parameters, numbered by position."""
    parts: list[Select] = []
    for n, kind in enumerate(shape):
        if kind == "user":
            parts.append(select(bindparam(f"user_{n}", type_=Integer)))
        elif kind == "involved":
            parts.extend(_involved())
        elif kind == "current":
            parts.extend(_waiting_on())
        elif kind == "lane":
            parts.append(select(Membership.user_id).where(
                Membership.role == bindparam(f"role_{n}", type_=String),
                Membership.agency_id == bindparam(f"agency_{n}", type_=Integer)))
    if not parts:
        return _outbox(false())
    return _outbox(User.id.in_(parts[0] if len(parts) == 1 else union(*parts)))


def user(user_id: int) -> Recipients:
    return Recipients(_statement(("user",)), {"user_0": user_id})


def lane_holders(role: str, agency_id: int) -> Recipients:
    """Everyone holding `role` in `agency_id`: who an unclaimed task of that lane waits on."""
    return Recipients(_statement(("lane",)), {"role_0": role, "agency_0": agency_id})


def resolve(challenge: Challenge, lanes: dict, lane_agency, to: list[str], waiting: list[str]) -> Recipients:
    """Turn a diagram's recipients into one outbox statement: "referrer", "involved", "current" (whoever the
    tasks open when the script ran wait on), or "lane:<name>" (everyone holding that lane's role on its side)."""
    shape: list[str] = []
    params: dict[str, Any] = {"case_id": challenge.id, "referrer_id": challenge.referrer_id, "uuids": waiting}
    for target in to:
        n = len(shape)
        if target == "referrer":
            shape.append("user")
            params[f"user_{n}"] = challenge.referrer_id
        elif target == "involved":
            shape.append("involved")
        elif target == "current":
            if waiting:
                shape.append("current")
        elif target.startswith("lane:"):
            lane = target.removeprefix("lane:")
            if lane not in lanes:
                raise ValueError(f"notify names lane {lane!r}, which the lane map does not have")
            shape.append("lane")
            params[f"role_{n}"], params[f"agency_{n}"] = lanes[lane]["role"], lane_agency(lanes[lane]["side"])
        else:
            raise ValueError(f"notify cannot send to {target!r}: use referrer, involved, current or lane:<name>")
    return Recipients(_statement(tuple(shape)), params)  # parameters a shape does not use are ignored


@dataclass
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 8025
    sender: str = "professional-challenge@localhost"
    timeout: float = 10.0
    # auto: upgrade to TLS whenever the server offers STARTTLS; required: send nothing without it; off: never.
    starttls: str = "auto"
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None  # certificate authorities to verify the server with (default: the system's)


STARTTLS_CHOICES = ("auto", "required", "off")


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    """A connection to the mail server, upgraded to TLS (its certificate verified) when it offers STARTTLS,
    logged in where a username is set. Refuses to send in the clear when TLS is required or a password would
    travel."""
    if smtp.starttls not in STARTTLS_CHOICES:
        raise OSError(f"SMTP_STARTTLS must be one of {', '.join(STARTTLS_CHOICES)}, not {smtp.starttls!r}")
    server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        server.ehlo()
        if smtp.starttls != "off" and server.has_extn("starttls"):
            server.starttls(context=ssl.create_default_context(cafile=smtp.ca_file))
            server.ehlo()
        elif smtp.starttls == "required" or smtp.username:
            raise smtplib.SMTPNotSupportedError("the mail server does not offer STARTTLS, and mail is sent "
                                                "only over TLS here")
        if smtp.username:
            server.login(smtp.username, smtp.password or "")
    except BaseException:
        server.close()
        raise
    return server


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
        server = _connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
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
