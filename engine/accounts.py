"""People: users, their memberships, passwords and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import Clock
from .models import ApiToken, Membership, User

# The cost is stored in each hash, so lowering it (the test suite does, through the environment) weakens only
# the hashes made while it is low.
_ITERATIONS = int(os.environ.get("PC_PASSWORD_ITERATIONS", "200000"))


def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _ITERATIONS).hex()
    return f"pbkdf2_sha256${_ITERATIONS}${salt}${digest}"


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not check_password(user.password_hash, password):
        return None
    return user


def create_user(session: Session, username: str, display_name: str, email: str, password: str,
                memberships: list[tuple[int, str]] = ()) -> User:
    user = User(username=username, display_name=display_name, email=email, password_hash=hash_password(password),
                active=True)
    session.add(user)
    session.flush()
    for agency_id, role in memberships:
        session.add(Membership(user_id=user.id, agency_id=agency_id, role=role))
    session.flush()
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, clock: Clock, user: User) -> str:
    """A new bearer token for the user. Only its hash is stored: the token is returned once."""
    token = "pc_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_digest(token), created_at=clock.now()))
    session.commit()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    if row is None or not row.user.active:
        return None
    return row.user
