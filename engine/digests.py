"""A person's choice of how their notices reach them by email: each as it happens (the default), or one email a
day at a time they choose (London time) listing every notice since the last, grouped by challenge, the newest
first, with the cases at risk marked. The in-app notifications are the same either way. The worker sends what is
due (`send_digests`): a digest's notices are marked `digested` once the server accepts it, the next one is due at
the chosen time after now (so after downtime one digest, not one per day missed), and a digest with nothing in it
is not sent."""

from __future__ import annotations

import smtplib
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .bpmn.script_engine import local_time
from .calendar import WorkingCalendar
from .clock import Clock
from .errors import Invalid
from .models import Notification, User
from .notifications import SmtpSettings, connect
from .queries.inbox import NoticeGroup, notice_groups
from .unit_of_work import unit_of_work

LONDON = ZoneInfo("Europe/London")
_READING = WorkingCalendar()  # how a moment is read: in London time
NOTICE_EMAIL_CHOICES = {"each": "An email for each notice, as it happens",
                        "daily": "One email a day listing the day's notices"}
DIGEST_TIMES = tuple(f"{hour:02d}:00" for hour in range(6, 21))
DEFAULT_DIGEST_TIME = "08:00"
RETRY_AFTER_FAILURE = timedelta(minutes=5)
MOST_GROUPS = 500  # challenges in one digest; more are in the notifications page


def next_digest(digest_time: str, after: datetime) -> datetime:
    """The first moment at `digest_time` (HH:MM, London) strictly after `after`."""
    moment = time.fromisoformat(digest_time)
    day = after.astimezone(LONDON).date()
    while True:
        candidate = datetime.combine(day, moment, LONDON)
        if candidate > after:
            return candidate.astimezone(after.tzinfo)
        day += timedelta(days=1)


def set_notice_email(session: Session, clock: Clock, user: User, choice: object, digest_time: object) -> None:
    """Choose each notice by email as it happens, or one digest a day at `digest_time` (one of DIGEST_TIMES)."""
    errors = {}
    if choice not in NOTICE_EMAIL_CHOICES:
        errors["notice_email"] = "Choose how your notices are emailed to you."
    if choice == "daily" and digest_time not in DIGEST_TIMES:
        errors["digest_time"] = f"Choose a time on the hour between {DIGEST_TIMES[0]} and {DIGEST_TIMES[-1]}."
    if errors:
        raise Invalid(errors)
    with unit_of_work(session) as work:
        user.notice_email = choice
        if choice == "daily":
            user.digest_time = digest_time
            user.digest_due_at = next_digest(digest_time, clock.now())
        else:
            user.digest_due_at = None  # what was waiting for the digest now goes as it happens
        work.commit()


def _when(moment: datetime) -> str:
    return local_time(_READING, moment)


def _risk(group: NoticeGroup) -> str:
    challenge = group.challenge
    marks = ["SIGNIFICANT RISK"] if challenge.significant_risk else []
    marks += {"child_protection_plan": ["CHILD PROTECTION PLAN"], "looked_after": ["LOOKED AFTER"]}.get(
        challenge.cp_or_lac, [])
    return f" [{'] ['.join(marks)}]" if marks else ""


def digest_text(user: User, groups: list[NoticeGroup], now: datetime) -> tuple[str, str, int]:
    """The subject and body of a digest of these groups, and how many notices it lists."""
    count = sum(len(group.notices) for group in groups)
    lines = [f"Your professional challenge notices up to {_when(now)}: {count} notice{'s' if count != 1 else ''} "
             f"about {len(groups)} {'challenges' if len(groups) != 1 else 'challenge'}, the newest first. "
             "Cases at risk are marked.", ""]
    for group in groups:
        if group.challenge is None:
            lines.append("About your account")
        else:
            lines.append(f"{group.challenge.reference} - case {group.challenge.subject_reference}{_risk(group)}")
        for notice in group.notices:
            lines += [f"  {_when(notice.created_at)}: {notice.subject}", f"    {notice.body}"]
        lines.append("")
    lines.append("You chose one email a day; change it on your account's Email of notices page.")
    at_risk = sum(1 for g in groups if g.challenge is not None and _risk(g))
    flag = f", {at_risk} at risk" if at_risk else ""
    subject = f"Your daily digest: {count} notice{'s' if count != 1 else ''}{flag}"
    return subject, "\n".join(lines) + "\n", count


def _due(now: datetime, limit: int, locking: bool):
    query = (select(User).where(User.notice_email == "daily", User.digest_due_at.is_not(None),
                                User.digest_due_at <= now).order_by(User.digest_due_at, User.id).limit(limit))
    return query.with_for_update(skip_locked=True) if locking else query


def send_digests(session: Session, clock: Clock, smtp: SmtpSettings, limit: int = 50) -> int:
    """Send the digests due, one person a transaction (their row locked, so two workers never send one twice),
    marked digested once the server accepted it. Returns how many were sent."""
    now = clock.now()
    locking = session.get_bind().dialect.name == "postgresql"
    sent, server = 0, None
    try:
        for _ in range(limit):
            with unit_of_work(session) as work:
                person = session.scalars(_due(now, 1, locking)).first()
                if person is None:
                    break
                groups = notice_groups(session, person, email_pending=True, shown_per_group=None,
                                       limit=MOST_GROUPS)
                if not groups:  # nothing to say today
                    person.digest_due_at = next_digest(person.digest_time, now)
                    work.commit()
                    continue
                if server is None:
                    try:
                        server = connect(smtp)
                    except (OSError, smtplib.SMTPException):
                        session.execute(update(User).where(User.notice_email == "daily",
                                                           User.digest_due_at <= now)
                                        .values(digest_due_at=now + RETRY_AFTER_FAILURE)
                                        .execution_options(synchronize_session=False))
                        work.commit()
                        break
                if _send(server, smtp, person, groups, now, session):
                    sent += 1
                work.commit()
    finally:
        if server is not None:
            server.close()
    return sent


def _send(server: smtplib.SMTP, smtp: SmtpSettings, person: User, groups: list[NoticeGroup], now: datetime,
          session: Session) -> bool:
    subject, body, _ = digest_text(person, groups, now)
    ids = [notice.id for group in groups for notice in group.notices]
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, person.email, subject
    message["Message-ID"] = f"<digest-{person.id}-{max(ids)}@professional-challenge>"
    message.set_content(body)
    try:
        server.send_message(message)
    except (smtplib.SMTPException, OSError):
        person.digest_due_at = now + RETRY_AFTER_FAILURE
        return False
    session.execute(update(Notification).where(Notification.id.in_(ids), Notification.email_status == "pending")
                    .values(email_status="digested", sent_at=now, attempts=Notification.attempts + 1)
                    .execution_options(synchronize_session=False))
    person.digest_due_at = next_digest(person.digest_time, now)
    return True
