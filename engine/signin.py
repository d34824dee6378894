"""Signing in and out: logins throttled per account and per address, sessions kept on the server (so logging
out, an idle or absolute timeout, or a password change ends them whatever copy of the cookie remains), and
passwords changed by their user or reset by an administrator. Every login, refusal and logout goes to the
access log in the same transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import access_log
from .access_log import Caller
from .clock import Clock
from .errors import Invalid, NotFound, Refused, Throttled
from .models import AccessLog, Agency, ApiToken, Membership, Partnership, User, UserSession
from .passwords import check_new_password, check_password, hash_password, random_password
from .text import cleaned, storable
from .unit_of_work import unit_of_work

# A failed login counts against its account and its address for this long.
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES = 5  # then that account is refused until the oldest of them is THROTTLE_WINDOW old
ADDRESS_FAILURES = 20  # the same for an address, whatever accounts it tries
# How often a session's last activity is written: timeouts are kept to this precision, at a write a minute.
SEEN_EVERY = timedelta(minutes=1)

_LONDON = ZoneInfo("Europe/London")

REFUSED = "That username and password do not match an active account."


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=10)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _failures_since(session: Session, since: datetime, *, username: str | None = None,
                    address: str | None = None) -> list[datetime]:
    query = select(AccessLog.at).where(AccessLog.kind == "login_failed", AccessLog.at > since)
    if username is not None:
        query = query.where(AccessLog.username == username)
    if address is not None:
        query = query.where(AccessLog.address == address)
    return list(session.scalars(query.order_by(AccessLog.at.desc()).limit(max(ACCOUNT_FAILURES, ADDRESS_FAILURES))))


def _throttled_until(session: Session, clock: Clock, name: str, address: str | None) -> datetime | None:
    now = clock.now()
    window_start = now - THROTTLE_WINDOW
    # A success for the account, or an administrator's reset of its password, starts its count again; an
    # address keeps its count.
    last_success = session.scalar(select(func.max(AccessLog.at)).where(
        AccessLog.kind.in_(("login", "password_reset")), AccessLog.username == name))
    since = max(window_start, last_success) if last_success else window_start
    limits = [(_failures_since(session, since, username=name), ACCOUNT_FAILURES)]
    if address:
        limits.append((_failures_since(session, window_start, address=address), ADDRESS_FAILURES))
    untils = [failures[limit - 1] + THROTTLE_WINDOW for failures, limit in limits if len(failures) >= limit]
    return max(untils) if untils else None


def log_in(session: Session, clock: Clock, username: str, password: str, address: str | None) -> tuple[User, str]:
    """Check a username and password and start a session: returns the user and the session's key (for the
    cookie; only its hash is kept). Refuses with `Throttled` after too many failures, else `Refused`; an
    unknown username costs the same time as a wrong password. Commits."""
    with unit_of_work(session) as work:
        name = cleaned(username.strip(), 80)
        caller = Caller(None, address)
        until = _throttled_until(session, clock, name, address)
        if until is not None:
            access_log.log(session, clock, "login_throttled", caller, username=name)
            work.commit()
            local = until.astimezone(_LONDON)
            raise Throttled(f"Too many failed logins. Try again after {local:%H:%M}, or ask your administrator to "
                            "reset your password.", until)
        user = session.scalar(select(User).where(User.username == name)) if storable(username) else None
        matches = check_password(user.password_hash if user else None, password)
        if user is None or not matches or not user.active or passwords_refused(session, user):
            access_log.log(session, clock, "login_failed", caller, username=name)
            work.commit()
            raise Refused(REFUSED)
        key = secrets.token_urlsafe(32)
        now = clock.now()
        session.add(UserSession(key_hash=_digest(key), user_id=user.id, started_at=now, last_seen_at=now,
                                address=(address or "")[:45] or None))
        access_log.log(session, clock, "login", Caller(user, address))
        work.commit()
        return user, key


def open_session(session: Session, clock: Clock, user: User, address: str | None) -> str:
    """A new server session for the user (a login made some other way, such as single sign-on): returns its key
    for the cookie; only its hash is kept. The caller commits."""
    key = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(UserSession(key_hash=_digest(key), user_id=user.id, started_at=now, last_seen_at=now,
                            address=(address or "")[:45] or None))
    return key


def passwords_refused(session: Session, user: User) -> bool:
    """Whether one of the user's partnerships has turned local passwords off (its identity provider signs its
    people in)."""
    return bool(session.scalar(select(Partnership.id).join(Agency, Agency.partnership_id == Partnership.id)
                               .join(Membership, Membership.agency_id == Agency.id)
                               .where(Membership.user_id == user.id, Partnership.passwords_allowed.is_(False))
                               .limit(1)))


def session_user(session: Session, clock: Clock, key: str | None, limits: SessionLimits) -> User | None:
    """The user a session key belongs to, or None when there is no such session, it has ended or timed out
    (a timed-out session is ended here). Notes activity at most once a minute (only then does it write)."""
    if not key:
        return None
    row = session.scalar(select(UserSession).where(UserSession.key_hash == _digest(key)))
    if row is None or row.ended_at is not None:
        return None
    now = clock.now()
    reason = ("idle" if now - row.last_seen_at > limits.idle else
              "expired" if now - row.started_at > limits.absolute else
              "deactivated" if not row.user.active else None)
    if reason is not None:
        with unit_of_work(session) as work:
            _end(session, clock, row, reason)
            work.commit()
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        with unit_of_work(session) as work:
            row.last_seen_at = now
            work.commit()
    return row.user


def ended_reason(session: Session, key: str | None) -> str | None:
    """Why the session with this key ended (idle, expired, logout, password, deactivated), if it did."""
    if not key:
        return None
    return session.scalar(select(UserSession.end_reason).where(UserSession.key_hash == _digest(key)))


def _end(session: Session, clock: Clock, row: UserSession, reason: str) -> None:
    row.ended_at, row.end_reason = clock.now(), reason
    if reason != "logout":
        access_log.log(session, clock, "session_ended", Caller(row.user, row.address), detail={"reason": reason})


def log_out(session: Session, clock: Clock, key: str | None, caller: Caller) -> None:
    """End the session with this key. Commits."""
    with unit_of_work(session) as work:
        row = session.scalar(select(UserSession).where(UserSession.key_hash == _digest(key))) if key else None
        if row is not None and row.ended_at is None:
            _end(session, clock, row, "logout")
            access_log.log(session, clock, "logout", caller)
            work.commit()


def end_sessions(session: Session, clock: Clock, user: User, reason: str) -> int:
    """End every open session of the user (after a password change or reset, or when they leave)."""
    result = session.execute(
        update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason).execution_options(synchronize_session=False))
    return result.rowcount


def revoke_tokens_of(session: Session, clock: Clock, user: User) -> int:
    """Revoke every API token of the user still in force: after a reset (the password may have been known to
    someone else, who could have made tokens with it) or when they leave (so a reactivation revives none)."""
    result = session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now()).execution_options(synchronize_session=False))
    return result.rowcount


def change_password(session: Session, clock: Clock, user: User, current: str, new: str, confirm: str,
                    address: str | None) -> str:
    """The user's own change: the current password must match, the new one must be acceptable. Ends all the
    user's sessions and returns the key of a new one for the browser that made the change. Commits."""
    with unit_of_work(session) as work:
        if not check_password(user.password_hash, current):
            raise Invalid({"current_password": "That is not your current password."},
                          "That is not your current password.")
        check_new_password(new, confirm, user.username)
        if check_password(user.password_hash, new):
            raise Invalid({"new_password": "Choose a password other than your current one."},
                          "Choose a password other than your current one.")
        user.password_hash = hash_password(new)
        user.must_change_password = False
        end_sessions(session, clock, user, "password")
        key = secrets.token_urlsafe(32)
        now = clock.now()
        session.add(UserSession(key_hash=_digest(key), user_id=user.id, started_at=now, last_seen_at=now,
                                address=(address or "")[:45] or None))
        access_log.log(session, clock, "password_changed", Caller(user, address))
        work.commit()
        return key


def reset_password(session: Session, clock: Clock, username: str, by: str = "an administrator") -> str:
    """An administrator's reset: a new random password (returned, to hand over) that the user must change at
    their next login; every session and API token of the user ends. Commits."""
    with unit_of_work(session) as work:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"There is no user {username!r}.")
        password = random_password()
        user.password_hash = hash_password(password)
        user.must_change_password = True
        end_sessions(session, clock, user, "password")
        revoke_tokens_of(session, clock, user)
        access_log.log(session, clock, "password_reset", Caller(user), detail={"by": by})
        work.commit()
        return password
