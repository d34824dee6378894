"""The access log: who signed in or failed to, used an API token or read a case, when and from where. Written
in the transaction of what it records (or alone, for a read); the auditors read it per case and per person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import Clock
from .models import AccessLog, User
from .text import cleaned

KINDS = {
    "login": "Logged in",
    "login_failed": "Login refused (wrong username or password)",
    "login_throttled": "Login refused (too many failed attempts)",
    "logout": "Logged out",
    "session_ended": "Session ended (timed out, or by a password change)",
    "password_changed": "Changed their password",
    "password_reset": "Password reset by an administrator",
    "token_created": "API token created",
    "token_revoked": "API token revoked",
    "token_used": "API token used",
    "case_read": "Read a case",
    "cases_listed": "Listed cases",
    "report_read": "Read or downloaded a partnership report",
    "subject_access_export": "Exported everything held under a case reference (a subject access request)",
}


@dataclass(frozen=True)
class Caller:
    """Who is asking and from where: a signed-in user or an API token's, and the network address."""

    user: User | None
    address: str | None = None
    token_id: int | None = None


def log(session: Session, clock: Clock, kind: str, caller: Caller, *, username: str | None = None,
        challenge_id: int | None = None, what: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Add one entry to the caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown access kind {kind!r}")
    user = caller.user
    session.add(AccessLog(
        at=clock.now(), kind=kind, user_id=user.id if user else None,
        username=cleaned(username, 80) if username is not None else user.username if user else None,
        address=(caller.address or "")[:45] or None, challenge_id=challenge_id, token_id=caller.token_id,
        what=what[:200] if what else None, detail=detail,
    ))


def entries(session: Session, *, challenge_id: int | None = None, user_id: int | None = None,
            limit: int = 500) -> list[AccessLog]:
    """The latest entries about a case or by a person, newest first."""
    query = select(AccessLog).order_by(AccessLog.id.desc()).limit(limit)
    if challenge_id is not None:
        query = query.where(AccessLog.challenge_id == challenge_id)
    if user_id is not None:
        query = query.where(AccessLog.user_id == user_id)
    return list(session.scalars(query))
