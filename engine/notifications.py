"""Notifications: written to the outbox in the transaction that caused them (by the step's store, see
engine.cases.store); sent by SMTP afterwards (each as it happens, or in a person's daily digest: engine.digests),
read on each person's notifications page."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import (
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from .clock import Clock
from .models import Notification, User
from .unit_of_work import unit_of_work

MAX_ATTEMPTS = 8


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


def connect(smtp: SmtpSettings) -> smtplib.SMTP:
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
    with unit_of_work(session) as work:
        due = session.scalars(
            select(Notification)
            .where(Notification.email_status == "pending",
                   or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
                   # Those who chose one email a day have theirs in the digest (engine.digests).
                   ~exists().where(User.id == Notification.user_id, User.notice_email == "daily"))
            .order_by(Notification.id)
            .limit(limit)
        ).all()
        sent = failed = 0
        if not due:
            return 0, 0
        try:
            server = connect(smtp)
        except (OSError, smtplib.SMTPException) as exc:
            for row in due:
                _failed(row, now, f"cannot connect: {exc}")
            work.commit()
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
                work.commit()
    return sent, failed


def _failed(row: Notification, now, error: str) -> None:
    row.attempts += 1
    row.last_error = error[:1000]
    if row.attempts >= MAX_ATTEMPTS:
        row.email_status = "failed"
        row.next_attempt_at = None
    else:
        row.next_attempt_at = now + timedelta(seconds=30 * 2 ** (row.attempts - 1))


def unread_count(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def mark_read(session: Session, clock: Clock, user: User) -> None:
    with unit_of_work(session) as work:
        session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=clock.now())
        )
        work.commit()
