"""People: users and their memberships."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import Membership, User
from .passwords import hash_password


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
