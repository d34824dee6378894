"""API bearer tokens: named, with a lifetime, their last use noted, revocable by their user or an
administrator. Only a token's SHA-256 is kept; the token is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import access_log
from .access_log import Caller
from .clock import Clock
from .errors import Invalid, NotFound, Refused
from .models import ApiToken, User
from .text import storable
from .unit_of_work import unit_of_work

LIFETIMES_DAYS = (7, 30, 90, 365)
DEFAULT_DAYS = 90
# How often a token's last use is written (and logged): at most once a minute, or when it comes from elsewhere.
USE_NOTED_EVERY = timedelta(minutes=1)
PREFIX = "pc_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode(errors="replace")).hexdigest()


def create_token(session: Session, clock: Clock, user: User, name: str, days: int = DEFAULT_DAYS,
                 caller: Caller | None = None) -> tuple[ApiToken, str]:
    """A new token for the user: the row and the token itself, which is never shown again. Commits."""
    with unit_of_work(session) as work:
        name = (name or "").strip()
        if not name or len(name) > 80 or not storable(name):
            raise Invalid({"name": "Give the token a name of up to 80 characters (what will use it?)."},
                          "Give the token a name.")
        if days not in LIFETIMES_DAYS:
            raise Invalid({"days": f"Choose a lifetime of {', '.join(map(str, LIFETIMES_DAYS))} days."},
                          "Choose a lifetime.")
        secret = PREFIX + secrets.token_urlsafe(32)
        now = clock.now()
        row = ApiToken(user_id=user.id, token_hash=_digest(secret), name=name, created_at=now,
                       expires_at=now + timedelta(days=days))
        session.add(row)
        session.flush()
        access_log.log(session, clock, "token_created", caller or Caller(user), what=name, detail={"token": row.id})
        work.commit()
        return row, secret


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def all_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def revoke_token(session: Session, clock: Clock, token_id: int, by: User | None, administrator: bool = False,
                 caller: Caller | None = None) -> ApiToken:
    """Revoke a token: by its own user, or (`administrator`) anyone's. Revoking it again changes nothing.
    Commits."""
    with unit_of_work(session) as work:
        row = session.get(ApiToken, token_id)
        if row is None or (not administrator and (by is None or row.user_id != by.id)):
            raise NotFound("There is no such token.")
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            row.revoked_by_id = by.id if by else None
            access_log.log(session, clock, "token_revoked", caller or Caller(by), what=row.name,
                           detail={"token": row.id, "owner": row.user.username})
            work.commit()
        return row


def status(row: ApiToken, clock: Clock) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= clock.now():
        return "expired"
    return "active"


def user_for_token(session: Session, clock: Clock, token: str, address: str | None) -> tuple[User, ApiToken]:
    """The active user whose token this is, and the token. One that is unknown, revoked or expired, or whose
    user is no longer active, is `Refused` (the API answers 401). Its use is noted and logged at most once a
    minute, or whenever it comes from another address (only then does it write)."""
    # One indexed look-up by the token's hash, with its user (no second query for the user).
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.token_hash == _digest(token))).first() if token else None
    now = clock.now()
    if found is None:
        raise Refused("Send a valid token: 'Authorization: Bearer <token>'.")
    row, user = found
    set_committed_value(row, "user", user)
    if row.revoked_at is not None or row.expires_at <= now or not user.active:
        raise Refused("Send a valid token: 'Authorization: Bearer <token>'.")
    address = (address or "")[:45] or None
    if row.last_used_at is None or now - row.last_used_at >= USE_NOTED_EVERY or row.last_used_from != address:
        with unit_of_work(session) as work:
            row.last_used_at, row.last_used_from = now, address
            access_log.log(session, clock, "token_used", Caller(user, address, row.id), what=row.name)
            work.commit()
    return user, row
